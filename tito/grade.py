"""`tito grade NN`: autograde a class's submissions, each in a fresh sandbox, and write grades.csv.

    tito grade 06 [--submissions DIR] [--jobs N | --scheduler tcp://HOST:8786] [--output CSV] [--no-sandbox]

This process, the grader, is the only one that reads or writes the course. For each submission
(DIR/<student>/<assignment>/<notebook>.ipynb, default course/submitted) it:

1. checks it (missing, not a notebook) and skips it when an earlier run graded the same file with the same
   source notebook, grader and limits (records under course/autograded/.tito: an interrupted run resumes);
2. prepares it with nbgrader's sanitizing preprocessors: outputs cleared, a duplicated grade_id kept once,
   locked cells restored from the gradebook and the hidden tests inserted;
3. hands it to a worker (tito.autograde.execute), which runs it in a fresh sandbox and returns the executed
   notebook; workers are this process (--jobs 1), a local Dask cluster of N processes (--jobs N), or a Dask
   cluster already running (--scheduler);
4. scores the executed notebook with nbgrader's preprocessors (SaveAutoGrades writes the gradebook), writes
   it to course/autograded/, records the row, and finally writes grades.csv.

The submissions themselves are copied into course/submitted (nbgrader's layout), never modified.
Feedback reports are a separate step: `tito feedback NN`.
"""
import ast
import csv
import hashlib
import json
import shutil
import time
import traceback
import warnings
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from . import autograde, sandbox, student
from . import TitoError
from .course import STATUS_NAMES, Course
from .source import grade_id as _grade_id

# The grader's own code: a change to any of these regrades everything.
GRADER = [Path(__file__).parent / name for name in ("autograde.py", "guard.py", "grade.py", "sandbox.py")]
SANITIZE = ("ClearOutput", "DeduplicateIds", "OverwriteKernelspec", "OverwriteCells", "CheckCellMetadata")
# nbgrader's own autograde steps, but the last CheckCellMetadata: the kernel cannot change cell metadata, and the
# submission's was checked when it was prepared.
SCORE = ("IgnorePattern", "ClearMetadataPreprocessor", "LimitOutput", "SaveAutoGrades", "AssignLatePenalties")
console = Console(highlight=False)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse(code: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError:  # IPython magics
        return ast.Module(body=[], type_ignores=[])


class Assignment:
    """One module's assignment in a course: its notebooks, graded cells and points, and how it is graded."""

    def __init__(self, module, course: Course, sandboxed=True):
        from nbgrader import utils

        self.module, self.course, self.id, self.notebook = module, course, module.slug, module.notebook.name
        source_path = course.source(module)
        if not source_path.exists() or not course.release(module).exists():
            raise TitoError(f"{source_path} not found: run `tito release {module.number}` first")
        source = nbformat.read(source_path, as_version=4)
        self.points = {_grade_id(c): float(c.metadata.nbgrader["points"]) for c in source.cells if utils.is_grade(c)}
        release = nbformat.read(course.release(module), as_version=4)
        self.locked = {_grade_id(c): c.source for c in release.cells if utils.is_locked(c)}
        self.given = {c.source for c in release.cells if c.cell_type == "code" and not utils.is_solution(c)
                      and not utils.is_grade(c)}
        self.helpers = {node.name for code in self.given for node in _parse(code).body
                        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.definitions = autograde.instructor_definitions(source)
        self.keep = sorted(autograde.bound_names(source))
        self.limits = course.limits
        self.package = student.release_package() if sandboxed else None
        config = course.root / "nbgrader_config.py"   # e.g. late penalties: a change regrades everyone
        grader = b"".join(path.read_bytes() for path in [*GRADER, config] if path.exists())
        self.key_base = sha256(source_path.read_bytes() + grader + json.dumps(
            [self.limits, self.package and self.package["key"]], sort_keys=True).encode())

    @property
    def max_score(self) -> float:
        return sum(self.points.values())

    def record(self, student_id: str) -> Path:
        return self.course.records(self.module) / f"{student_id}.json"


# ------------------------------------------------------------------------------------ one submission
class Submission:
    """A student's notebook as submitted: read once, checked, and compared with the release."""

    def __init__(self, student_id: str, path: Path, assignment: Assignment):
        self.student, self.path, self.assignment = student_id, path, assignment
        # read once: what is graded, hashed into the record and copied to course/submitted is the same bytes,
        # even if the student resubmits while the class is being graded
        self.data = path.read_bytes() if path.is_file() else None
        self.problem, self.notebook = self._read()

    def _read(self):
        """(None, notebook) when it can be graded, else ((status, detail), None)."""
        if self.data is None:
            folder = self.path.parent
            others = sorted(p.name for p in folder.glob("*.ipynb")) if folder.exists() else []
            return ("missing", f"found {', '.join(others)}" if others else "no notebook"), None
        try:  # utf-8-sig: a notebook saved with a byte-order mark is still a notebook
            notebook = nbformat.reads(self.data.decode("utf-8-sig"), as_version=4)
            nbformat.validate(notebook)
        except Exception as error:  # bad JSON, bad encoding or not a notebook: all mean "cannot be graded"
            return ("invalid-json", str(error).splitlines()[0][:200]), None
        return None, notebook

    @property
    def key(self) -> str:
        return sha256((self.assignment.key_base + sha256(self.data)).encode())

    def duplicated(self) -> list:
        """grade_ids that appear on more than one cell (a pasted copy): nbgrader grades only the last."""
        ids = [_grade_id(c) for c in self.notebook.cells if _grade_id(c)]
        return sorted({gid for gid in ids if ids.count(gid) > 1})

    def edited_locked_cells(self) -> list:
        """grade_ids of locked cells the student deleted or edited (they are put back before grading)."""
        seen = {_grade_id(c): c.source for c in self.notebook.cells}
        return [gid for gid, source in self.assignment.locked.items() if seen.get(gid) != source]

    def redefined_helpers(self) -> list:
        """Instructor helper functions that the student's own code redefines (the guard restores them before
        every test anyway; this only makes the attempt visible)."""
        mine = [c.source for c in self.notebook.cells if c.cell_type == "code" and c.source not in
                self.assignment.given]
        return sorted(self.assignment.helpers & set().union(*map(_top_level_names, mine)))


def _top_level_names(code: str) -> set:
    """Names a cell binds at top level (def, class, assignment)."""
    names = set()
    for node in _parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        for target in [*getattr(node, "targets", []), getattr(node, "target", None)]:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target else set()
    return names


def outcome(notebook) -> str:
    """What happened while the notebook ran, from its error outputs and the guard's notes."""
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    names = {o.get("ename") for o in outputs if o.output_type == "error"}
    if any(o.output_type == "stream" and o.text.startswith(autograde.GUARD_NOTE) for o in outputs):
        names.add("TamperingDetected")
    for ename, status in (("MemoryError", "memory"), ("KernelDied", "crashed"),
                          ("CellTimeoutError", "timeout"), ("TamperingDetected", "tampered")):
        if ename in names:
            return status
    return "ok"


def stderr_is_not_failure(notebook) -> None:
    """nbgrader fails a test cell that wrote anything to stderr; we fail it only on an exception. A warning or a
    debug print in a graded cell stays visible, as ordinary output."""
    from nbgrader import utils

    for cell in notebook.cells:
        if utils.is_grade(cell) and cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"


def _forget_emptied_metadata(notebook, resources):
    """DeduplicateIds empties the nbgrader metadata of a pasted copy; nbgrader's next step expects it gone."""
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
    return notebook, resources


# ------------------------------------------------------------------------------------- the grader
class Grader:
    """The host side: nbgrader's preprocessors, run in this process, with the course's configuration."""

    def __init__(self, assignment: Assignment):
        from nbconvert.preprocessors import ClearMetadataPreprocessor
        from nbgrader import preprocessors

        self.assignment, course = assignment, assignment.course
        config = course.nbgrader_config()
        self.api = course.nbgrader(config)
        self.db_url = self.api.coursedir.db_url
        known = {"ClearMetadataPreprocessor": ClearMetadataPreprocessor}
        build = lambda names: [(known.get(n) or getattr(preprocessors, n))(config=config) for n in names]
        self.sanitizers, self.scorers = build(SANITIZE), build(SCORE)
        self.sanitizers.insert(SANITIZE.index("DeduplicateIds") + 1, _forget_emptied_metadata)
        with self.api.gradebook as gb:   # the assignment exists before any student is added
            gb.find_assignment(assignment.id)

    def _resources(self, student_id):
        return {"nbgrader": {"student": student_id, "assignment": self.assignment.id,
                             "notebook": Path(self.assignment.notebook).stem, "db_url": self.db_url}}

    def _run(self, steps, notebook, student_id):
        resources = self._resources(student_id)
        for step in steps:
            notebook, resources = step(notebook, resources)   # as nbconvert calls it: honours `enabled`
        return notebook

    def prepare(self, submission: Submission) -> dict:
        """The job for a worker: the notebook sanitized, locked cells restored, hidden tests inserted (or, if
        that fails, {"error": why}: a job that is already its result)."""
        try:
            return self._prepare(submission)
        except Exception:   # nbgrader choked on this notebook: this row says error, the class goes on
            return {"error": traceback.format_exc()}

    def _prepare(self, submission: Submission) -> dict:
        with self.api.gradebook as gb:
            gb.update_or_create_student(submission.student)
            gb.update_or_create_submission(self.assignment.id, submission.student)
        notebook = self._run(self.sanitizers, nbformat.from_dict(submission.notebook), submission.student)
        a = self.assignment
        return {"notebook": json.dumps(notebook), "definitions": a.definitions, "keep": a.keep,
                "limits": a.limits, "package": a.package}

    def score(self, submission: Submission, executed) -> dict:
        """Score the executed notebook (gradebook), keep it in course/autograded/, return {grade_id: points}."""
        stderr_is_not_failure(executed)
        executed = self._run(self.scorers, executed, submission.student)
        target = self.assignment.course.autograded(submission.student, self.assignment.module)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, target)
        with self.api.gradebook as gb:
            graded = gb.find_submission_notebook(Path(self.assignment.notebook).stem, self.assignment.id,
                                                 submission.student)
            return {grade.name: float(grade.score or 0) for grade in graded.grades}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def empty_row(student_id, assignment, status, detail="", sandbox_name="-"):
    return {"student_id": student_id, "assignment": assignment.id, "score": 0.0, "max_score": assignment.max_score,
            "status": status, "detail": _one_line(detail), "sandbox": sandbox_name,
            "cells": {gid: 0.0 for gid in assignment.points}}


def row_for(submission: Submission, result: dict, grader: Grader) -> dict:
    """The grades.csv row of a submission from what its worker returned."""
    a = submission.assignment
    sandbox_name = "bwrap" if a.package else "none"
    if "error" in result:
        return empty_row(submission.student, a, "error", _one_line(result["error"].strip().splitlines()[-1]),
                         sandbox_name)
    executed = nbformat.from_dict(json.loads(result["notebook"]))   # validated once, when it is written
    cells = grader.score(submission, executed)
    status, detail = outcome(executed), ""
    helpers = submission.redefined_helpers() if status in ("ok", "tampered") else []
    duplicated = submission.duplicated()
    if helpers:
        status, detail = "tampered", f"redefines {', '.join(helpers)}"
    elif status == "ok" and duplicated:
        status, detail = "duplicate", f"pasted twice: {', '.join(duplicated)} (the last copy was graded)"
    elif status == "ok" and (edited := submission.edited_locked_cells()):
        status, detail = "restored", f"put back: {', '.join(edited)}"
    points = {gid: cells.get(gid, 0.0) for gid in a.points}
    return {"student_id": submission.student, "assignment": a.id, "score": sum(points.values()),
            "max_score": a.max_score, "status": status, "detail": detail, "sandbox": sandbox_name, "cells": points}


def keep_record(submission: Submission, row: dict) -> None:
    if row["status"] != "error":   # a grader failure is retried next time
        record = submission.assignment.record(submission.student)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"key": submission.key, "row": row}, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------------------------- the class
def collect(submissions: Path, assignment: Assignment):
    """Split the class into finished rows (up to date or ungradable) and the Submissions left to grade."""
    rows, todo = {}, []
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    for student_id in students:
        submission = Submission(student_id, submissions / student_id / assignment.id / assignment.notebook,
                                assignment)
        if submission.problem:
            rows[student_id] = empty_row(student_id, assignment, *submission.problem)
            continue
        record = assignment.record(student_id)
        if record.exists():
            saved = json.loads(record.read_text(encoding="utf-8"))
            if saved.get("key") == submission.key:
                rows[student_id] = saved["row"]
                continue
        todo.append(submission)
    return rows, todo


def stage(submission: Submission) -> None:
    """Keep course/submitted (nbgrader's layout) in step with the submissions graded."""
    a = submission.assignment
    target = a.course.submitted(submission.student, a.module)
    if submission.path.resolve() != target.resolve():
        shutil.rmtree(target.parent, ignore_errors=True)
        target.parent.mkdir(parents=True)
        target.write_bytes(submission.data)


def number(x: float) -> str:
    return f"{x:g}"


CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "detail", "sandbox"]


def write_csv(rows, assignment: Assignment, output: Path):
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*CSV_COLUMNS, *assignment.points])
        for row in sorted(rows, key=lambda r: r["student_id"]):
            writer.writerow([row["student_id"], row["assignment"], number(row["score"]), number(row["max_score"]),
                             row["status"], row["detail"], row["sandbox"],
                             *(number(row["cells"][gid]) for gid in assignment.points)])


def summary(rows, assignment: Assignment) -> Table:
    table = Table(title=f"tito grade {assignment.id}")
    table.add_column("")
    table.add_column("", justify="right")
    scores = [r["score"] for r in rows]
    table.add_row("students", str(len(rows)))
    table.add_row("mean score", f"{sum(scores) / len(scores):.2f} / {number(assignment.max_score)}" if rows else "-")
    for status in STATUS_NAMES:
        count = sum(r["status"] == status for r in rows)
        if count:
            table.add_row(status, str(count))
    return table


def grade(module, submissions=None, jobs=1, output=None, course=None, scheduler=None, sandboxed=True):
    """Grade a class; return (rows sorted by student, the Assignment)."""
    from .workers import Workers

    course = course or Course()
    if sandboxed:
        sandbox.check_available()
    assignment = Assignment(module, course, sandboxed)
    submissions = Path(submissions or course.root / "submitted").resolve()
    if not submissions.is_dir():
        raise TitoError(f"{submissions} is not a folder of <student>/{assignment.id}/{assignment.notebook}")
    rows, todo = collect(submissions, assignment)
    for student_id, row in rows.items():   # no gradable notebook now: drop an older copy of ours, if any
        if row["status"] in ("missing", "invalid-json") and submissions != (course.root / "submitted").resolve():
            shutil.rmtree(course.submitted(student_id, module).parent, ignore_errors=True)
    if todo:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # nbgrader's SQLAlchemy and checksum warnings are expected
            grader = Grader(assignment)
            by_student = {s.student: s for s in todo}
            with Workers(jobs, scheduler) as workers:
                jobs = ((s.student, grader.prepare(s)) for s in todo)
                for student_id, result in workers.run(jobs, len(todo), console):
                    submission = by_student[student_id]
                    stage(submission)
                    try:
                        rows[student_id] = row_for(submission, result, grader)
                    except Exception:   # scoring failed on this notebook: an error row, retried next run
                        rows[student_id] = row_for(submission, {"error": traceback.format_exc()}, grader)
                    keep_record(submission, rows[student_id])
    rows = sorted(rows.values(), key=lambda r: r["student_id"])
    write_csv(rows, assignment, Path(output or course.grades_csv))
    return rows, assignment


def main(args) -> int:
    from . import registry

    course = Course()
    output = Path(args.output or course.grades_csv)
    if args.no_sandbox:
        console.print("[bold red]--no-sandbox: submissions run as you, with your files in reach. Use it only for "
                      "notebooks you trust; every row of this run says sandbox=none.[/bold red]")
    started = time.monotonic()
    rows, assignment = grade(registry.find(args.module), args.submissions, args.jobs, output, course,
                             args.scheduler, sandboxed=not args.no_sandbox)
    console.print(summary(rows, assignment))
    for row in rows:
        if row["status"] not in ("ok", "restored", "duplicate"):
            console.print(f"  {row['student_id']}: {row['status']} {row['detail'][:120]}".rstrip())
    console.print(f"grades written to {output} in {time.monotonic() - started:.0f} s; "
                  f"feedback reports: `tito feedback {assignment.module.number}`")
    console.print(f"class report: `tito report {assignment.module.number}"
                  + ("`" if output.resolve() == course.grades_csv else f" --grades {output}`"))
    return 0
