"""src/ -> nbgrader course source -> `nbgrader generate_assignment` -> modules/NN_name/name.ipynb."""
import os
import sys
from pathlib import Path

import nbformat

from . import source
from .registry import MODULES, ROOT


class LeakError(RuntimeError):
    """A student notebook would have shown part of a solution or a hidden test."""


def nbgrader_api(course: Path):
    """nbgrader's Python API for the course in `course` (one import for every module: it is slow)."""
    # nbgrader runs `alembic` to create the gradebook: make this environment's scripts findable.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    return NbGraderAPI(config=config)


def course_source(module, root=ROOT) -> Path:
    return root / "course" / "source" / module.slug / module.notebook.name


def check_student_notebook(notebook, label: str, secrets) -> None:
    """Refuse a student notebook that still holds a marker or a line of a solution or hidden test."""
    cells = [(f"{label}, cell {i} (id {cell.get('id')})", cell.source)
             for i, cell in enumerate(notebook.cells)]
    found = list(source.leaks(cells, secrets))
    if found:
        lines = "\n".join(f"  {where}: {text!r}" for where, text in found[:10])
        raise LeakError(f"refusing to write {label}: it would show solution or hidden-test text:\n{lines}")


def student_notebook(released) -> nbformat.NotebookNode:
    """nbgrader's release, normalised: no outputs, stable metadata."""
    for cell in released.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return released


def release(modules, root=ROOT, out=None):
    """Generate the student notebooks of `modules` into out (default: root/modules)."""
    out = Path(out or root / "modules")
    known = [m for m in MODULES if (root / m.source.relative_to(ROOT)).exists()]
    sources = {m: source.load(root / m.source.relative_to(ROOT)) for m in {*known, *modules}}
    secrets = source.secret_lines(sources.values())
    for module in modules:
        source.write(sources[module], course_source(module, root))
    api = nbgrader_api(root / "course")
    written = []
    for module in modules:
        result = api.generate_assignment(module.slug, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {module.slug} failed:\n{result['log']}")
        released = root / "course" / "release" / module.slug / module.notebook.name
        notebook = student_notebook(nbformat.read(released, as_version=4))
        target = out / module.slug / module.notebook.name
        check_student_notebook(notebook, target.relative_to(out.parent).as_posix(), secrets)
        source.write(notebook, target)
        written.append(target)
    return written
