"""`tito grade NN`: autograde a class's submissions with nbgrader and write grades.csv.

    tito grade 06 [--submissions DIR] [--jobs N] [--output CSV]

Submissions are read from DIR/<student>/<assignment>/<notebook>.ipynb (default: course/submitted) and
*copied* into course/submitted; they are never modified. For each student nbgrader autogrades the copy
(hidden tests re-inserted, locked cells restored from the gradebook) in a guarded kernel
(tito/autograde.py) and writes an HTML feedback report. grades.csv gets one row per student:
student_id, assignment, score, max_score, status, and one column per graded cell.

status: ok | restored (a locked cell was edited or deleted and put back) | missing (no notebook of the
expected name) | invalid-json | timeout (a cell ran out of time; the others were graded) | memory (the
memory limit stopped a cell) | crashed (the kernel died; later cells score 0) | tampered (a test cell saw
protected functions rebound) | error (nbgrader itself failed; see the log in course/autograded/.tito).

Only what changed is graded again: each result is recorded with a hash of the submission, of the source
notebook and of the limits, under course/autograded/.tito; an interrupted run resumes from there.

Environment: TITO_CELL_TIMEOUT (seconds per cell, default 60), TITO_MEMORY_LIMIT (MiB per kernel,
default 4096), TITO_COURSE (the course directory, default course/).
"""
import ast
import csv
import hashlib
import json
import os
import shutil
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import nbformat
from nbgrader import utils
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import registry
from .autograde import GUARD_NOTE
from .registry import ROOT

GRADER = (Path(__file__).parent / "autograde.py", Path(__file__), ROOT / "course" / "nbgrader_config.py")
# The order decides which status a row shows when several things happened.
STATUSES = ("missing", "invalid-json", "error", "memory", "crashed", "timeout", "tampered", "restored", "ok")
console = Console(highlight=False)


def course_dir() -> Path:
    return Path(os.environ.get("TITO_COURSE", ROOT / "course")).resolve()


def limits() -> dict:
    return {"timeout": os.environ.get("TITO_CELL_TIMEOUT", "60"), "memory": os.environ.get("TITO_MEMORY_LIMIT", "4096")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parse(code: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError:  # IPython magics
        return ast.Module(body=[], type_ignores=[])


class Assignment:
    """One module's assignment in the course: its name, notebook, graded cells and their points."""

    def __init__(self, module, course: Path):
        self.id, self.notebook = module.slug, module.notebook.name
        self.course = course
        self.source = course / "source" / self.id / self.notebook
        if not self.source.exists():
            raise RuntimeError(f"{self.source} not found: run `tito release {module.number}` first")
        notebook = nbformat.read(self.source, as_version=4)
        self.cells = {c.metadata.nbgrader["grade_id"]: c for c in notebook.cells
                      if c.metadata.get("nbgrader", {}).get("grade")}
        self.points = {gid: float(c.metadata.nbgrader["points"]) for gid, c in self.cells.items()}
        release = nbformat.read(course / "release" / self.id / self.notebook, as_version=4)
        self.locked = {c.metadata.nbgrader["grade_id"]: c.source for c in release.cells
                       if c.metadata.get("nbgrader", {}).get("locked")}
        self.given = {c.source for c in release.cells if _instructor_cell(c)}
        self.helpers = {n.name for code in self.given for n in _parse(code).body
                        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.key_base = hashlib.sha256(
            (sha256(self.source) + json.dumps(limits(), sort_keys=True)
             + "".join(sha256(path) for path in GRADER if path.exists())).encode()).hexdigest()

    @property
    def max_score(self) -> float:
        return sum(self.points.values())

    def record(self, student: str) -> Path:
        return self.course / "autograded" / ".tito" / self.id / f"{student}.json"


def inspect(path: Path, assignment: Assignment):
    """A submission's status before grading: None when it can be graded, else (status, detail)."""
    if not path.exists():
        others = sorted(p.name for p in path.parent.glob("*.ipynb")) if path.parent.exists() else []
        return "missing", f"found {', '.join(others)}" if others else "no notebook"
    try:
        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # bad JSON, bad encoding or not a notebook: all mean "cannot be graded"
        return "invalid-json", str(error).splitlines()[0][:200]
    return None


def edited_locked_cells(path: Path, assignment: Assignment) -> list:
    """grade_ids of locked cells the student deleted or edited (nbgrader puts them back)."""
    notebook = nbformat.read(path, as_version=4)
    seen = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in notebook.cells}
    return [gid for gid, source in assignment.locked.items() if seen.get(gid) != source]


def _instructor_cell(cell) -> bool:
    """A code cell the student is given as is (neither a solution nor a graded test), as autograde.py sees it."""
    return cell.cell_type == "code" and not utils.is_solution(cell) and not utils.is_grade(cell)


def _top_level_names(code: str) -> set:
    """Names a cell binds at top level (def, class, assignment)."""
    names = set()
    for node in _parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        for target in [*getattr(node, "targets", []), getattr(node, "target", None)]:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target else set()
    return names


def redefined_helpers(path: Path, assignment: Assignment) -> list:
    """Instructor helper functions (assert helpers and the like) that the student's own code redefines.

    The grading kernel restores them before every test anyway; this only makes the attempt visible.
    """
    notebook = nbformat.read(path, as_version=4)
    mine = [c.source for c in notebook.cells if c.cell_type == "code" and c.source not in assignment.given]
    return sorted(assignment.helpers & set().union(*map(_top_level_names, mine)))


def empty_row(student, assignment, status, detail=""):
    return {"student_id": student, "assignment": assignment.id, "score": 0.0, "max_score": assignment.max_score,
            "status": status, "detail": detail, "cells": {gid: 0.0 for gid in assignment.points}}


# ---------------------------------------------------------------------------------------------- worker
_api = None


def _worker_init(course: str):
    global _api
    from .release import nbgrader_api

    os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    warnings.filterwarnings("ignore")  # nbgrader's SQLAlchemy and checksum warnings are expected
    _api = nbgrader_api(Path(course))


def grade_one(student: str, assignment_id: str, notebook: str, course: str) -> dict:
    """Autograde one student (already copied into course/submitted), generate feedback, read the scores."""
    if _api is None:
        _worker_init(course)
    for attempt in range(3):  # the sqlite gradebook may be briefly locked by another worker
        result = _api.autograde(assignment_id, student, force=True, create=True)
        if result["success"] or "database is locked" not in result.get("log", "") + result.get("error", ""):
            break
    if not result["success"]:
        return {"status": "error", "detail": (result.get("error") or result.get("log", ""))[-2000:], "cells": {}}
    _api.generate_feedback(assignment_id, student, force=True)
    with _api.gradebook as gb:
        submission = gb.find_submission_notebook(Path(notebook).stem, assignment_id, student)
        cells = {grade.name: float(grade.score or 0) for grade in submission.grades}
    graded = Path(course) / "autograded" / student / assignment_id / notebook
    return {"status": outcome(nbformat.read(graded, as_version=4)), "detail": "", "cells": cells}


def outcome(notebook) -> str:
    """What happened while the autograded notebook ran, from its error outputs and the guard's notes."""
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    names = {o.get("ename") for o in outputs if o.output_type == "error"}
    if any(o.output_type == "stream" and o.text.startswith(GUARD_NOTE) for o in outputs):
        names.add("TamperingDetected")
    for ename, status in (("MemoryError", "memory"), ("KernelDied", "crashed"),
                          ("CellTimeoutError", "timeout"), ("TamperingDetected", "tampered")):
        if ename in names:
            return status
    return "ok"


# ------------------------------------------------------------------------------------------- the class
def collect(submissions: Path, assignment: Assignment):
    """Split the class into finished rows (up to date or ungradable) and the students left to grade."""
    rows, todo = {}, []
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    for student in students:
        path = submissions / student / assignment.id / assignment.notebook
        problem = inspect(path, assignment)
        if problem:
            rows[student] = empty_row(student, assignment, *problem)
            continue
        key = hashlib.sha256((assignment.key_base + sha256(path)).encode()).hexdigest()
        record = assignment.record(student)
        if record.exists():
            saved = json.loads(record.read_text())
            if saved.get("key") == key:
                rows[student] = saved["row"]
                continue
        todo.append((student, path, key))
    return rows, todo


def stage(student: str, path: Path, assignment: Assignment):
    """Copy one submission into course/submitted (unless it is already there)."""
    target = assignment.course / "submitted" / student / assignment.id / assignment.notebook
    if path.resolve() != target.resolve():
        if target.parent.exists():
            shutil.rmtree(target.parent)
        target.parent.mkdir(parents=True)
        shutil.copyfile(path, target)


def finish(student, path, key, result, assignment: Assignment) -> dict:
    cells = {gid: result["cells"].get(gid, 0.0) for gid in assignment.points}
    status = result["status"]
    helpers = redefined_helpers(path, assignment) if status in ("ok", "restored", "tampered") else []
    if helpers:
        status, result["detail"] = "tampered", f"redefines {', '.join(helpers)}"
    if status == "ok" and edited_locked_cells(path, assignment):
        status = "restored"
    row = {"student_id": student, "assignment": assignment.id, "score": sum(cells.values()),
           "max_score": assignment.max_score, "status": status, "detail": result.get("detail", ""),
           "cells": cells}
    if status != "error":  # an nbgrader failure is retried next time
        record = assignment.record(student)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"key": key, "row": row}, indent=1))
    return row


def number(x: float) -> str:
    return f"{x:g}"


def write_csv(rows, assignment: Assignment, output: Path):
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["student_id", "assignment", "score", "max_score", "status", *assignment.points])
        for row in sorted(rows, key=lambda r: r["student_id"]):
            writer.writerow([row["student_id"], row["assignment"], number(row["score"]), number(row["max_score"]),
                             row["status"], *(number(row["cells"][gid]) for gid in assignment.points)])


def summary(rows, assignment: Assignment) -> Table:
    table = Table(title=f"tito grade {assignment.id}")
    table.add_column("")
    table.add_column("", justify="right")
    scores = [r["score"] for r in rows]
    table.add_row("students", str(len(rows)))
    table.add_row("mean score", f"{sum(scores) / len(scores):.2f} / {number(assignment.max_score)}" if rows else "-")
    for status in STATUSES:
        count = sum(r["status"] == status for r in rows)
        if count:
            table.add_row(status, str(count))
    return table


def grade(module, submissions=None, jobs=1, output=None, course=None):
    """Grade a class; return (rows sorted by student, the Assignment)."""
    course = Path(course or course_dir())
    assignment = Assignment(module, course)
    submissions = Path(submissions or course / "submitted").resolve()
    if not submissions.is_dir():
        raise RuntimeError(f"{submissions} is not a folder of <student>/{assignment.id}/{assignment.notebook}")
    rows, todo = collect(submissions, assignment)
    if todo:
        from .release import nbgrader_api

        with nbgrader_api(course).gradebook as gb:  # create the gradebook/assignment once, before any worker
            gb.find_assignment(assignment.id)
    for student, path, _ in todo:
        stage(student, path, assignment)
    staged = course / "submitted"
    for student, row in rows.items():  # no gradable notebook now: drop an older copy of ours, if any
        if row["status"] in ("missing", "invalid-json") and submissions != staged.resolve():
            shutil.rmtree(staged / student / assignment.id, ignore_errors=True)
    args = {student: (student, assignment.id, assignment.notebook, str(course)) for student, _, _ in todo}
    progress = Progress(TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console)
    if jobs <= 1:
        with progress:
            task = progress.add_task(assignment.id, total=len(todo))
            for student, path, key in todo:
                rows[student] = finish(student, path, key, grade_one(*args[student]), assignment)
                progress.advance(task)
    elif todo:
        # workers are forked (they inherit the imports) before the progress bar starts its thread
        with ProcessPoolExecutor(jobs, mp_context=get_context("fork"), initializer=_worker_init,
                                 initargs=(str(course),)) as pool:
            futures = {pool.submit(grade_one, *args[s]): (s, p, k) for s, p, k in todo}
            with progress:
                task = progress.add_task(assignment.id, total=len(todo))
                for future in as_completed(futures):
                    student, path, key = futures[future]
                    try:
                        result = future.result()
                    except Exception as error:  # a worker died: report it, keep the class going
                        result = {"status": "error", "detail": repr(error), "cells": {}}
                    rows[student] = finish(student, path, key, result, assignment)
                    progress.advance(task)
    rows = sorted(rows.values(), key=lambda r: r["student_id"])
    write_csv(rows, assignment, Path(output or course / "grades.csv"))
    return rows, assignment


def main(args) -> int:
    module = registry.find(args.module)
    output = Path(args.output or course_dir() / "grades.csv")
    rows, assignment = grade(module, args.submissions, args.jobs, output)
    console.print(summary(rows, assignment))
    for row in rows:
        if row["status"] not in ("ok", "restored"):
            console.print(f"  {row['student_id']}: {row['status']} {row['detail'][:120]}".rstrip())
    console.print(f"grades written to {output}; feedback in {course_dir() / 'feedback'}")
    return 0
