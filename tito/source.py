"""Read a literate source file (src/NN_name/NN_name.py) into a checked notebook.

Everything generated from src/ goes through `load`, so every product sees the same cells, the same
stable cell ids and the same validation errors.
"""
import re
from pathlib import Path

import nbformat

from . import TitoError

SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
MARKERS = SOLUTION + HIDDEN
# What nbgrader puts in place of each solution (course/nbgrader_config.py reads it).
STUB = ("# YOUR CODE HERE", 'raise NotImplementedError("not written yet: replace this line with your code")')
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class SourceError(TitoError, ValueError):
    """A malformed source file; the message names the file and the cell."""


def grade_id(cell):
    """The cell's nbgrader grade_id, or None."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _where(path, index, cell):
    gid = grade_id(cell)
    first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "<empty>"
    label = f"grade_id {gid!r}" if gid else f"starting {first!r}"
    return f"{path}: cell {index} ({label})"


def regions(source: str, markers=MARKERS):
    """Yield (begin_marker, lines) for each marked region of a cell's source."""
    begin, end = None, None
    body = []
    for line in source.splitlines():
        text = line.strip()
        if text in (SOLUTION[0], HIDDEN[0]) and text in markers:
            begin, end, body = text, SOLUTION[1] if text == SOLUTION[0] else HIDDEN[1], []
        elif begin and text == end:
            yield begin, body
            begin = None
        elif begin:
            body.append(line)


def _check_markers(where, cell):
    """Markers come in balanced, non-nested pairs, each kind only in its kind of cell."""
    meta = cell.metadata.get("nbgrader", {})
    open_marker = None
    for number, line in enumerate(cell.source.splitlines(), 1):
        text = line.strip()
        if text not in MARKERS:
            if any(m in line for m in MARKERS):
                raise SourceError(f"{where}, line {number}: a marker must stand alone on its line: {text!r}")
            continue
        if text in (SOLUTION[0], HIDDEN[0]):
            if open_marker:
                raise SourceError(f"{where}, line {number}: {text!r} inside an open {open_marker!r} region")
            if text == SOLUTION[0] and not meta.get("solution"):
                raise SourceError(f"{where}, line {number}: a solution region in a cell without "
                                  "nbgrader solution: true (test cells may not hold solutions)")
            if text == HIDDEN[0] and not meta.get("grade"):
                raise SourceError(f"{where}, line {number}: hidden tests in a cell without nbgrader grade: true")
            open_marker = text
        else:
            expected = SOLUTION[0] if text == SOLUTION[1] else HIDDEN[0]
            if open_marker != expected:
                raise SourceError(f"{where}, line {number}: {text!r} without a matching {expected!r}")
            open_marker = None
    if open_marker:
        raise SourceError(f"{where}: {open_marker!r} is never closed")


def _check_nbgrader(where, meta, seen_ids):
    if meta.get("schema_version") != 3:
        raise SourceError(f"{where}: nbgrader metadata needs \"schema_version\": 3")
    grade_id = meta.get("grade_id")
    if not grade_id or not re.fullmatch(r"[A-Za-z0-9_-]{1,60}", grade_id):
        raise SourceError(f"{where}: nbgrader metadata needs a grade_id of letters, digits, '-' or '_'")
    if grade_id in seen_ids:
        raise SourceError(f"{where}: duplicate grade_id {grade_id!r} (first used in cell {seen_ids[grade_id]})")
    if meta.get("grade") and not (meta.get("points", 0) > 0 and meta.get("locked")):
        raise SourceError(f"{where}: a graded cell needs \"points\" > 0 and \"locked\": true")


def _stable_id(slug, index, cell):
    """Cell ids must not change between builds: use the grade_id, else the position."""
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return grade_id if grade_id else f"{slug}-{index:03d}"


def load(path) -> nbformat.NotebookNode:
    """Parse and validate a source file; return a clean notebook with stable ids and no outputs."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path} does not exist: write it, or remove its module from tito/registry.py")
    import jupytext   # an author's tool: a student's `tito module complete` never reads src/

    notebook = jupytext.read(path, fmt="py:percent")
    slug = path.stem
    seen_ids = {}
    for index, cell in enumerate(notebook.cells):
        where = _where(path, index, cell)
        nbgrader = cell.metadata.get("nbgrader")
        cell.metadata = {"nbgrader": nbgrader} if nbgrader else {}
        if nbgrader:
            _check_nbgrader(where, nbgrader, seen_ids)
            seen_ids[nbgrader["grade_id"]] = index
        _check_markers(where, cell)
        cell.id = _stable_id(slug, index, cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata = {"kernelspec": dict(KERNELSPEC),
                         "language_info": {"name": "python"}}
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    nbformat.validate(notebook)
    return notebook


def write(notebook, path):
    """Write a notebook the same way every time (byte-stable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


def secret_lines(notebooks, public_solutions=()):
    """Stripped lines that only occur inside solution or hidden-test regions of these notebooks.

    A line that also appears in the visible part of a module (a bare `return out`, say) tells the
    student nothing, so it is not a secret; nor are the solutions of `public_solutions` notebooks
    (the reference modules a student release ships as working code).
    """
    secret, visible = set(), set()
    for notebook in notebooks:
        public = any(notebook is p for p in public_solutions)
        for cell in notebook.cells:
            for marker, body in regions(cell.source):
                lines = {line.strip() for line in body}
                if public and marker == SOLUTION[0]:
                    visible |= lines
                else:
                    secret |= lines
            visible |= {line.strip() for line in _outside_regions(cell.source)}
    return {line for line in secret - visible if line and line not in STUB}


def _outside_regions(source):
    inside = False
    for line in source.splitlines():
        text = line.strip()
        if text in (SOLUTION[0], HIDDEN[0]):
            inside = True
        elif text in (SOLUTION[1], HIDDEN[1]):
            inside = False
        elif not inside:
            yield line


def leaks(text_cells, secrets, quoted=False):
    """Yield (cell label, offending line) for every marker line or secret line found in the cells.

    With `quoted`, a line that merely contains a long secret line counts too, as a test file might quote
    one; notebooks and the package are checked line by line only, since a hint may quote short code.
    """
    long_secrets = [line for line in secrets if len(line) >= 30] if quoted else []
    for label, source in text_cells:
        for line in source.splitlines():
            text = line.strip()
            if text in secrets or text in MARKERS or any(secret in line for secret in long_secrets):
                yield label, text
