"""src/ -> nbgrader course source -> `nbgrader generate_assignment` -> modules/NN_name/name.ipynb."""
import shutil
from pathlib import Path

import nbformat

from . import TitoError, source
from .course import Course
from .registry import MODULES, ROOT


class LeakError(TitoError, RuntimeError):
    """A student notebook would have shown part of a solution or a hidden test."""


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


def release(modules, root=ROOT, out=None, course=None):
    """Generate the student notebooks of `modules` into out (default: root/modules), through the nbgrader
    course `course` (default: root/course)."""
    out = Path(out or root / "modules")
    course = course or Course(root / "course")
    config = course.root / "nbgrader_config.py"
    if not config.exists():   # a new course directory ($TITO_COURSE): start from the repository's configuration
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / "course" / "nbgrader_config.py", config)
    known = [m for m in MODULES if (root / m.source).exists()]
    sources = {m: source.load(root / m.source) for m in {*known, *modules}}
    secrets = source.secret_lines(sources.values())
    for module in modules:
        source.write(sources[module], course.source(module))
    api = course.nbgrader()
    written = []
    for module in modules:
        result = api.generate_assignment(module.slug, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {module.slug} failed:\n{result['log']}")
        released = course.release(module)
        notebook = student_notebook(nbformat.read(released, as_version=4))
        target = out / module.slug / module.notebook.name
        check_student_notebook(notebook, target.relative_to(out.parent).as_posix(), secrets)
        source.write(notebook, target)
        written.append(target)
    return written
