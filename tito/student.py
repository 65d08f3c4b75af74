"""The student's side: `tito module complete NN` and the self-contained student repository."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import TitoError, export, source
from .registry import MODULES, ROOT

STUDENT_README = """# tinytorch: build your own autograd

This is your copy of the course. The notebooks are in `modules/`; the `tinytorch` package they build is in
`tinytorch/`. Modules {graded} are yours to write: their package files come from *your* notebooks.

## Start

    python -m venv .venv && . .venv/bin/activate
    pip install -e ".[authoring,tests]" jupyterlab
    jupyter lab modules/

(or open the repository on Binder: `binder/` describes its environment). Open
`modules/06_autograd/autograd.ipynb`, read, and replace every `raise NotImplementedError()` with your
code. The test cell under each exercise tells you at once whether it works.

## Hand in

When every test cell passes, check the whole module against the package tests:

    tito module complete 06

It exports *your* notebook into `tinytorch/core/` and runs the module's tests on your code. Submit the
notebook `modules/06_autograd/autograd.ipynb` as your instructor tells you.
"""


# Grading machinery and author tools stay with the instructor.
INSTRUCTOR_ONLY = tuple(f"tito/{name}.py" for name in ("grade", "autograde", "guard", "sandbox", "workers",
                                                       "feedback", "release", "check", "book", "booktools"))

NOTEBOOK_TEST = '''"""Runs your notebook top to bottom in a fresh kernel: every test cell in it must pass."""
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def test_notebook_runs_without_errors():
    notebook = nbformat.read(ROOT / "{notebook}", as_version=4)
    NotebookClient(notebook, timeout=600, resources={{"metadata": {{"path": str(ROOT)}}}}).execute()
'''


def complete(module, root=ROOT) -> int:
    """Export the student's notebook into the package, then run the module's tests on it."""
    notebook = root / module.notebook.relative_to(ROOT)
    if not notebook.exists():
        print(f"tito module complete: {notebook} not found", file=sys.stderr)
        return 2
    try:
        nbformat.validate(nbformat.read(notebook, as_version=4))
    except Exception as error:  # nbformat raises several kinds; all mean "not a notebook"
        print(f"tito module complete: {notebook} is not a valid notebook: {error}", file=sys.stderr)
        return 2
    origin = notebook.relative_to(root).as_posix()
    target = export.export_notebook(notebook, origin, root)
    print(f"exported your notebook {origin} -> {target.relative_to(root)}")
    if (root / "src").exists():
        print(f"(author tree: `tito export {module.number}` restores the reference package file)")
    tests = sorted((root / "tests" / "modules").glob(f"test_{module.slug}*.py"))
    if not tests:
        print(f"no tests found for {module.slug}", file=sys.stderr)
        return 2
    env = {**os.environ, "PYTHONPATH": str(root)}  # import *this* tree's tinytorch, the student's
    code = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "--tb=short", "-p", "no:cacheprovider",
                           *map(str, tests)],
                          cwd=root, env=env).returncode
    verdict = "passes its tests" if code == 0 else "does not pass its tests yet: read the first failure above"
    print(f"\nModule {module.number} ({module.title}) {verdict}.")
    return code


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
        target = out / "tests" / "modules" / f"test_{module.slug}_notebook.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(NOTEBOOK_TEST.format(notebook=module.notebook.relative_to(ROOT).as_posix()),
                          encoding="utf-8")
    names = ", ".join(m.number for m in graded) or "none"
    (out / "README.md").write_text(STUDENT_README.format(graded=names), encoding="utf-8")
    check_no_secrets(out, graded, root)
    return out


def write_package(out: Path, graded, root=ROOT) -> Path:
    """out/tinytorch as students get it: the reference modules, and each graded module exported from its
    stubbed notebook (so the package holds no solution). `out` must hold pyproject.toml (nbdev reads it)."""
    _copy(root / "tinytorch", out, "tinytorch")
    (out / "tinytorch" / "_modidx.py").unlink(missing_ok=True)
    for module in graded:
        (out / module.package_file.relative_to(ROOT)).unlink(missing_ok=True)
        notebook = module.notebook.relative_to(ROOT)
        export.export_notebook(root / notebook, notebook.as_posix(), out)
    return out / "tinytorch"


def release_package(root=ROOT) -> dict:
    """The tinytorch package of the student release ({"key", "files"}), which every sandbox imports.

    Built once (nbdev exports each graded module from its stubbed notebook) and cached in build/sandbox/.
    """
    graded = [m for m in MODULES if m.graded]
    inputs = sorted((root / "tinytorch").rglob("*.py")) + [root / m.notebook.relative_to(ROOT) for m in graded]
    digest = hashlib.sha256(b"".join(p.relative_to(root).as_posix().encode() + p.read_bytes() for p in inputs))
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
    sources = {m: source.load(root / m.source.relative_to(ROOT)) for m in MODULES}
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
        raise RuntimeError(f"the student repository would reveal solution or hidden-test lines:\n{listing}")
