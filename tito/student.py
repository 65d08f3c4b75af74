"""The student repository that `tito release --student OUT` writes, and the package it ships."""
import hashlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from . import TitoError, export, source
from .registry import MODULES, ROOT

STUDENT_README = """# tinytorch: build your own autograd

[![Open in Binder](https://mybinder.org/badge_logo.svg)]({binder})

This is your copy of the course. The notebooks are in `modules/`; the `tinytorch` package they build is in
`tinytorch/`. You write the graded modules ({graded}): their package files come from *your* notebooks.

## Start

No installation: open the repository on Binder (the badge above). On your own machine, with Python 3.11 or
newer, one command sets everything up:

    python3 -m venv .venv && .venv/bin/pip install -e ".[student]"

then `.venv/bin/tito lab` opens JupyterLab on the notebooks. Open `{notebook}`, read it top to bottom, and
replace each `raise NotImplementedError(...)` with your code. The test cell under each exercise tells you at once
whether it works, and what to fix when it does not. Write your code in the exercise cells: a cell of your own
that the package needs must start with `#| export` (the notebook explains why).

## Hand in

When every test cell passes, check the whole module as the grader will:

    .venv/bin/tito module complete {number}

It runs your notebook, exports it into `tinytorch/core/`, and runs the module's package tests (more shapes and
edge cases than the notebook) on your code; whatever fails, it says which cell of your notebook to fix. Then
submit `{notebook}` as your instructor tells you. `tito --help` lists your commands.
"""


# Grading machinery and author tools stay with the instructor.
INSTRUCTOR_ONLY = tuple(f"tito/{name}.py" for name in ("grade", "autograde", "guard", "sandbox", "workers", "feedback",
                                                       "report", "release", "student", "check", "book", "booktools",
                                                       "summary"))

def _copy(item: Path, out: Path, rel: str):
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if item.is_dir():
        shutil.copytree(item, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        shutil.copy2(item, target)


def make_student_repo(out, graded=None, root=ROOT) -> Path:
    """Write a student repository to `out`; graded modules are exported from their stubbed notebooks."""
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()):
        raise TitoError(f"{out} exists and is not empty: refusing to overwrite anything in it")
    graded = [m for m in MODULES if m.graded] if graded is None else graded
    for rel in ("pyproject.toml", "tito", "modules", "binder"):
        if (root / rel).exists():
            _copy(root / rel, out, rel)
    for rel in INSTRUCTOR_ONLY:
        (out / rel).unlink(missing_ok=True)
    write_package(out, graded, root)
    secrets = _secrets(graded, root)
    for module in graded:
        for test in sorted((root / "tests" / "modules").glob(f"test_{module.slug}*.py")):
            text = test.read_text(encoding="utf-8")
            found = list(source.leaks([(test.name, text)], secrets, quoted=True))
            if found or re.search(r'/\s*"src"', text):
                why = f"it shows solution or hidden-test lines ({found[0][1]!r})" if found else "it reads src/"
                print(f"not shipping tests/modules/{test.name}: {why}", file=sys.stderr)
                continue
            _copy(test, out, f"tests/modules/{test.name}")
    (out / "README.md").write_text(student_readme(graded, root), encoding="utf-8")
    check_no_secrets(out, graded, root)
    return out


def student_readme(graded, root=ROOT) -> str:
    """The student repository's README: its Binder badge opens the first graded notebook."""
    from .links import binder_url, repositories

    first = graded[0] if graded else MODULES[-1]
    notebook = first.notebook.as_posix()
    return STUDENT_README.format(binder=binder_url(notebook, repositories(root / "pyproject.toml")),
                                 graded=", ".join(m.number for m in graded) or "none", notebook=notebook,
                                 number=first.number)


def write_package(out: Path, graded, root=ROOT) -> Path:
    """out/tinytorch as students get it: the reference modules, and each graded module exported from its
    stubbed notebook (so the package holds no solution). `out` must hold pyproject.toml (nbdev reads it)."""
    _copy(root / "tinytorch", out, "tinytorch")
    (out / "tinytorch" / "_modidx.py").unlink(missing_ok=True)
    for module in graded:
        (out / module.package_file).unlink(missing_ok=True)
        notebook = module.notebook
        export.export_notebook(root / notebook, notebook.as_posix(), out)
    return out / "tinytorch"


def release_package(root=ROOT) -> dict:
    """The tinytorch package of the student release ({"key", "files"}), which every sandbox imports.

    Built once (nbdev exports each graded module from its stubbed notebook) and cached in build/sandbox/.
    """
    graded = [m for m in MODULES if m.graded]
    inputs = sorted((root / "tinytorch").rglob("*.py")) + [root / m.notebook for m in graded] + \
        [root / "pyproject.toml"]   # nbdev's settings, which with tito/export.py decide what is written
    digest = hashlib.sha256(Path(export.__file__).read_bytes())
    for path in inputs:
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    cache = root / "build" / "sandbox" / f"package-{digest.hexdigest()[:20]}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(root / "pyproject.toml", tmp)
        package = write_package(Path(tmp), graded, root)
        files = {p.relative_to(package).as_posix(): p.read_text(encoding="utf-8")
                 for p in sorted(package.rglob("*.py"))}
    result = {"key": hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:20], "files": files}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result), encoding="utf-8")
    return result


def _secrets(graded, root=ROOT):
    """Lines of hidden tests (every module) and of solutions (graded modules) that no student file may show."""
    sources = {m: source.load(root / m.source) for m in MODULES}
    public = [notebook for m, notebook in sources.items() if m not in graded]
    return source.secret_lines(sources.values(), public_solutions=public)


def check_no_secrets(out: Path, graded, root=ROOT) -> None:
    """No hidden test, and no solution of a graded module, may appear in any text file of `out`."""
    secrets = _secrets(graded, root)
    found = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".txt", ".toml", ".cfg", ".json", ""):
            text = path.read_text(encoding="utf-8", errors="replace")
            label = path.relative_to(out).as_posix()
            quoted = not label.startswith(("modules/", "tinytorch/"))
            found += source.leaks([(label, text)], secrets, quoted=quoted)
    if found:
        listing = "\n".join(f"  {where}: {line!r}" for where, line in found[:10])
        shutil.rmtree(out)
        raise TitoError(f"the student repository would reveal solution or hidden-test lines:\n{listing}")
