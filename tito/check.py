"""Regenerate everything into a temporary copy and compare it with what is committed."""
import shutil
import tempfile
from pathlib import Path

from .registry import MODULES, ROOT

# What generation reads: copied into the scratch tree before regenerating there.
INPUTS = ("pyproject.toml", "tito", "src", "course/nbgrader_config.py", "tinytorch/__init__.py",
          "tinytorch/core/__init__.py")


def generated_files(root: Path):
    """Every file the pipeline owns, relative to root."""
    files = {module.package_file for module in MODULES}
    files |= {module.notebook for module in MODULES}
    files.add(Path("tinytorch/_modidx.py"))
    # Also anything that looks generated but no module owns any more (a stale leftover).
    files |= {p.relative_to(root) for p in (root / "tinytorch" / "core").glob("*.py") if p.name != "__init__.py"}
    files |= {p.relative_to(root) for p in (root / "modules").glob("*/*.ipynb")}
    return sorted(files)


def regenerate(scratch: Path, root=ROOT) -> None:
    from . import export, release

    for item in INPUTS:
        src = root / item
        if src.is_dir():
            shutil.copytree(src, scratch / item, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            (scratch / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, scratch / item)
    for module in MODULES:
        export.export_module(module, scratch)
    export.build_index(scratch)
    release.release(list(MODULES), scratch)


def stale_files(root=ROOT):
    """[(path, reason)] for each generated file of `root` that differs from a fresh regeneration."""
    with tempfile.TemporaryDirectory(prefix="tito-check-") as tmp:
        scratch = Path(tmp)
        regenerate(scratch, root)
        problems = []
        for rel in generated_files(root):
            committed, fresh = root / rel, scratch / rel
            if not fresh.exists():
                problems.append((rel, "no module generates it any more (delete it)"))
            elif not committed.exists():
                problems.append((rel, "missing (run tito export/release)"))
            elif committed.read_bytes() != fresh.read_bytes():
                problems.append((rel, "stale or edited by hand"))
        return problems
