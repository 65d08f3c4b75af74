"""`tito report NN`: the class at a glance, from the last `tito grade`, for instructors.

    tito report 06 [--grades CSV] [--output HTML]

Reads the rows of grades.csv (every student of the run, with or without a notebook), the executed notebooks in
course/autograded/ (the error each failing test raised) and the gradebook's students (to find those who handed
in no folder at all). Writes one self-contained page, course/report/06_autograd.html (figures embedded as PNG,
nothing loaded from elsewhere: it reads offline and on a phone), and prints the same summary:

- the score distribution;
- each exercise (graded cell, in notebook order): how many students got its full points, and the mean;
- each exercise's most frequent failure messages (the first line of the error its test raised, grouped), with
  how many students hit each and links to a few of their feedback pages (`tito feedback NN` writes those);
- the statuses, and the students with 0 points or no submission.

Everything is aggregated: the page is as long for 5,000 students as for 50.
"""
import base64
import csv
import io
import json
import os
import re
import statistics
import urllib.parse
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from rich.bar import Bar
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import TitoError, registry
from .course import NOT_RUN, STATUSES, Course

console = Console(highlight=False)
TOP_FAILURES = 5    # failure messages shown per exercise
EXAMPLES = 3        # feedback pages linked per failure message
NAMED = 20          # students named per list in the terminal (the page names them all)


# ------------------------------------------------------------------------------------------ the data
@dataclass(frozen=True)
class Error:
    """The first error a graded cell raised: `ename: evalue` (its first line), the innermost notebook function
    it came from and that function's failing line of code."""
    message: str
    where: str = ""
    line: str = ""


NO_ERROR = Error("(no error in the cell's output)")
NO_NOTEBOOK = Error("(no executed notebook in course/autograded/)")


@dataclass
class Failure:
    """The students whose test failed the same way: same message (numbers aside), same place."""
    example: Error      # the first student's error
    students: list


@dataclass
class Exercise:
    grade_id: str
    points: float
    ran: int            # students whose notebook ran
    passed: int         # of them, those with the full points
    mean: float         # their mean points
    failures: list      # [Failure], most frequent first

    @property
    def pass_rate(self) -> float:
        return self.passed / self.ran if self.ran else 0.0

    @property
    def failed(self) -> int:
        return self.ran - self.passed


@dataclass
class ClassReport:
    assignment: str
    max_score: float
    rows: list          # grades.csv rows, as tito.grade makes them
    exercises: list     # [Exercise], in notebook order
    statuses: dict      # {status: students}, those that occur, in tito.course.STATUSES order
    absent: list        # students of the gradebook without a row (no folder in the run)

    @property
    def ran(self) -> list:
        return [row for row in self.rows if row["status"] not in NOT_RUN]

    @property
    def zero(self) -> list:
        return [row for row in self.rows if row["score"] == 0]

    @property
    def mean(self) -> float:
        return statistics.fmean(row["score"] for row in self.rows) if self.rows else 0.0

    @property
    def median(self) -> float:
        return statistics.median(row["score"] for row in self.rows) if self.rows else 0.0

    @property
    def full_marks(self) -> int:
        return sum(row["score"] >= self.max_score for row in self.rows)


def normalised(message: str) -> str:
    """`message` with what differs from run to run blanked (numbers, addresses, NumPy's scalar wrappers), so
    that "expected -1.45, got 1.45" and "expected 0.3, got 2.1" group; the words, hints included, stay."""
    text = re.sub(r"\bnp\.\w+\(([^()]*)\)", r"\1", message)
    text = re.sub(r"0x[0-9a-fA-F]+|(?<![\w.])[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", "#", text)
    return " ".join(text.split())


def exercise(grade_id, points, ran, errors) -> Exercise:
    """One graded cell across the students whose notebook ran; `errors`: {student: {grade_id: Error}}."""
    failed = [row["student_id"] for row in ran if row["cells"][grade_id] < points]
    groups = defaultdict(list)
    for student in failed:
        error = errors.get(student, {}).get(grade_id, NO_ERROR)
        groups[normalised(error.message), error.where].append((student, error))
    failures = [Failure(members[0][1], [student for student, _ in members]) for members in groups.values()]
    failures.sort(key=lambda failure: (-len(failure.students), failure.example.message))
    mean = statistics.fmean(row["cells"][grade_id] for row in ran) if ran else 0.0
    return Exercise(grade_id, points, len(ran), len(ran) - len(failed), mean, failures)


def summarise(assignment_id, points, rows, errors, roster=()) -> ClassReport:
    """The report of a class: `rows` as grades.csv holds them, `points` {grade_id: points} in notebook order,
    `errors` {student: {grade_id: Error}} of the failed cells, `roster` the students the gradebook knows."""
    ran = [row for row in rows if row["status"] not in NOT_RUN]
    counts = Counter(row["status"] for row in rows)
    known = [status.name for status in STATUSES]
    statuses = {name: counts[name] for name in [*known, *sorted(set(counts) - set(known))] if counts[name]}
    absent = sorted(set(roster) - {row["student_id"] for row in rows})
    return ClassReport(assignment_id, sum(points.values()), rows,
                       [exercise(gid, p, ran, errors) for gid, p in points.items()], statuses, absent)


def score_histogram(report: ClassReport, most_bins=40):
    """(bin edges, students per bin whose notebook ran, the others per bin): bins of a whole number of
    points, centred on whole scores (one bin per point for up to `most_bins` points)."""
    step = max(1, int(np.ceil((report.max_score + 1) / most_bins)))
    edges = np.arange(-0.5, report.max_score + step, step)
    ran = [row["score"] for row in report.ran]
    others = [row["score"] for row in report.rows if row["status"] in NOT_RUN]
    return edges, np.histogram(ran, edges)[0], np.histogram(others, edges)[0]


def bin_label(low: float, high: float) -> str:
    low, high = int(np.ceil(low)), int(np.floor(high))
    return f"{low}" if low == high else f"{low}-{high}"


# ------------------------------------------------------------------------------------ reading the course
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NOTEBOOK_FRAME = re.compile(r"Cell In\[\d+\], line \d+, in ([\w.<>]+)")
ARROW = re.compile(r"-+> *\d+ (.*)")   # the failing line of a traceback frame: "----> 3     node = Function(a, b)"


def describe(output: dict) -> Error:
    """The Error of a notebook's error output: its first line, and where in the notebook's own code it arose."""
    value = ANSI.sub("", output.get("evalue") or "").strip().splitlines()
    message = output.get("ename", "Error") + (f": {value[0]}" if value else "")
    where = line = ""
    for frame in (ANSI.sub("", entry) for entry in output.get("traceback", [])):
        found = NOTEBOOK_FRAME.match(frame)
        if found:   # a frame of a function defined in the notebook: the innermost one wins
            where = found.group(1)
            line = next((arrow.group(1).strip() for arrow in map(ARROW.match, frame.splitlines()) if arrow), "")
    return Error(message[:300], where, line[:200])


def cell_errors(notebook: Path, grade_ids) -> dict:
    """{grade_id: Error} of the graded cells of an executed notebook that raised (each cell's first error)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return {gid: NO_NOTEBOOK for gid in grade_ids}
    found = {}
    for cell in cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        if gid in grade_ids and errors:
            found[gid] = describe(errors[0])
    return found


def read_grades(path: Path, assignment) -> list:
    """The rows of a grades.csv written by `tito grade` for `assignment` (a tito.grade.Assignment)."""
    from .grade import CSV_COLUMNS

    if not path.is_file():
        raise TitoError(f"{path} not found: run `tito grade {assignment.module.number}` first, or give --grades")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != [*CSV_COLUMNS, *assignment.points]:
            raise TitoError(f"{path} is not a grades.csv of {assignment.id} as it is graded now (its columns "
                            f"differ): run `tito grade {assignment.module.number}` again")
        return [{**{column: row[column] for column in CSV_COLUMNS}, "score": float(row["score"]),
                 "max_score": float(row["max_score"]), "cells": {gid: float(row[gid]) for gid in assignment.points}}
                for row in reader]


def gradebook_students(course: Course) -> list:
    """The students the gradebook knows: everyone graded in this course, and a roster imported into it."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    url = CourseDirectory(config=course.nbgrader_config()).db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []   # not graded yet (opening it would create it)
    with warnings.catch_warnings(), Gradebook(url) as gradebook:
        warnings.simplefilter("ignore")   # nbgrader's SQLAlchemy warnings
        return [student.id for student in gradebook.students]


def collect(module, course: Course, grades: Path) -> ClassReport:
    from .grade import Assignment

    assignment = Assignment(module, course, sandboxed=False)
    rows = read_grades(grades, assignment)
    points = assignment.points
    errors = {row["student_id"]: cell_errors(course.autograded(row["student_id"], module), points)
              for row in rows if row["status"] not in NOT_RUN and any(row["cells"][g] < p for g, p in points.items())}
    return summarise(assignment.id, points, rows, errors, gradebook_students(course))


# ------------------------------------------------------------------------------------------- figures
STYLE = {"font.size": 11, "axes.labelsize": 12, "axes.spines.top": False, "axes.spines.right": False}
RAN, OTHERS = "#3465a4", "#b0b0b0"


def new_figure(width: float, height: float):
    """A matplotlib Figure drawn by the non-interactive Agg backend (no pyplot: no display, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def score_figure(report: ClassReport):
    from matplotlib.ticker import MaxNLocator

    edges, ran, others = score_histogram(report)
    centres, width = (edges[:-1] + edges[1:]) / 2, 0.85 * (edges[1] - edges[0])
    figure = new_figure(4.8, 2.8)
    axes = figure.subplots()
    axes.bar(centres, ran, width, color=RAN, label="notebook graded")
    if others.any():
        axes.bar(centres, others, width, bottom=ran, color=OTHERS, label="no notebook ran (0 points)")
        axes.legend(frameon=False)
    axes.set_xlim(edges[0] - 0.5, edges[-1] + 0.5)
    axes.set_xlabel(f"score (points out of {report.max_score:g})")
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def exercise_figure(report: ClassReport):
    exercises = report.exercises
    figure = new_figure(4.8, 0.9 + 0.32 * len(exercises))
    axes = figure.subplots()
    bars = axes.barh([e.grade_id for e in exercises], [100 * e.pass_rate for e in exercises], color=RAN)
    axes.bar_label(bars, [f"{100 * e.pass_rate:.0f}% · {e.mean:.1f}/{e.points:g}" for e in exercises], padding=3)
    axes.invert_yaxis()   # notebook order, top to bottom
    axes.set_xlim(0, 160)   # room for the labels right of a full bar
    axes.set_xticks(range(0, 101, 25))
    axes.spines.bottom.set_bounds(0, 100)
    axes.set_xlabel("full points (% of students)", loc="left")
    axes.set_ylabel("exercise")
    return figure


def png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def figures(report: ClassReport) -> dict:
    """The figures as base64 PNG."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        return {"scores": png(score_figure(report)), "exercises": png(exercise_figure(report))}


# ----------------------------------------------------------------------------------------------- the page
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.assignment }}: class report</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; background: #fff; max-width: 52rem;
         margin: 0 auto; padding: 0 1rem 2rem; }
  h1 { font-size: 1.5rem; margin-bottom: .25rem; }
  h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
  h3 { font-size: 1rem; margin-bottom: .25rem; }
  img { display: block; width: 100%; max-width: 40rem; height: auto; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; }
  th, td { padding: .2rem .6rem .2rem 0; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
  td { overflow-wrap: anywhere; }
  th, td.n, td.nowrap { white-space: nowrap; overflow-wrap: normal; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  code { background: #f3f3f3; padding: 0 .2rem; overflow-wrap: anywhere; font-size: .9em; }
  li { margin-bottom: .5rem; }
  .dim { color: #666; }
  .note { background: #fff5d1; border-left: 4px solid #d9a400; padding: .4rem .8rem; }
</style>
</head>
<body>
{% macro student(name) %}<a href="{{ links[name] }}">{{ name }}</a>{% endmacro %}
<h1>{{ r.assignment }}: class report</h1>
<p class="dim">{{ r.rows|length }} students in <code>{{ grades }}</code> ({{ written }});
  {{ ran|length }} notebooks ran. Made by <code>tito report {{ number }}</code>.</p>
{% if unwritten %}
<p class="note">{{ unwritten }} of the feedback pages linked below are not written yet:
  run <code>tito feedback {{ number }}</code>.</p>
{% endif %}

<h2>Scores</h2>
<p>Mean <b>{{ "%.1f"|format(r.mean) }}</b> / {{ "%g"|format(r.max_score) }}, median {{ "%g"|format(r.median) }};
  {{ r.full_marks }} with full marks, {{ r.zero|length }} with 0.</p>
<img src="data:image/png;base64,{{ figures.scores }}"
     alt="Histogram: students per score, out of {{ '%g'|format(r.max_score) }} points">

<h2>Exercises</h2>
<p>Each exercise's share of students with its full points, then their mean points, among the
  {{ ran|length }} students whose notebook ran.</p>
<img src="data:image/png;base64,{{ figures.exercises }}"
     alt="Bar chart: share of students with the full points of each exercise, in notebook order">
<div class="scroll"><table>
  <tr><th>exercise</th><th>passed</th><th>mean</th><th>failed</th></tr>
  {% for e in r.exercises %}
  <tr>
    <td>{% if e.failures %}<a href="#{{ e.grade_id }}">{{ e.grade_id }}</a>{% else %}{{ e.grade_id }}{% endif %}</td>
    <td class="n">{{ "%.0f"|format(100 * e.pass_rate) }}%</td>
    <td class="n">{{ "%.2f"|format(e.mean) }} / {{ "%g"|format(e.points) }}</td>
    <td class="n">{{ e.failed }}</td>
  </tr>
  {% endfor %}
</table></div>

<h2>Failure messages</h2>
<p>The first line of the error each failing test raised, grouped (numbers aside), most frequent first.</p>
{% for e in r.exercises if e.failures %}
<h3 id="{{ e.grade_id }}">{{ e.grade_id }}: {{ e.failed }} of {{ e.ran }} failed</h3>
<ol>
  {% for f in e.failures[:top] %}
  <li><b>{{ f.students|length }}</b> {{ "student" if f.students|length == 1 else "students" }}:
    <code>{{ f.example.message }}</code>
    {% if f.example.where %}
    <br><span class="dim">raised in <code>{{ f.example.where }}</code>
      {%- if f.example.line %}, at <code>{{ f.example.line }}</code> ({{ f.students[0] }}'s line){% endif %}</span>
    {% endif %}
    <br>feedback: {% for name in f.students[:examples] %}{{ student(name) }}{{ ", " if not loop.last }}{% endfor %}
    {%- if f.students|length > examples %} and {{ f.students|length - examples }} more{% endif %}</li>
  {% endfor %}
</ol>
{% if e.failures|length > top %}
<p class="dim">and {{ e.failures|length - top }} other messages
  ({{ e.failed - e.failures[:top]|map(attribute="students")|map("length")|sum }} students).</p>
{% endif %}
{% else %}
<p>No test failed.</p>
{% endfor %}

<h2>Statuses</h2>
<div class="scroll"><table>
  <tr><th>status</th><th>students</th><th>what happened</th></tr>
  {% for name, count in r.statuses.items() %}
  <tr><td class="nowrap"><code>{{ name }}</code></td><td class="n">{{ count }}</td><td>{{ meaning.get(name, "") }}</td></tr>
  {% endfor %}
</table></div>

<h2>Students with 0 points or no submission</h2>
{% if r.zero %}
<details{{ " open" if r.zero|length <= 30 }}><summary>{{ r.zero|length }} students</summary>
<div class="scroll"><table>
  <tr><th>student</th><th>status</th><th>detail</th></tr>
  {% for row in r.zero %}
  <tr>
    <td class="nowrap">
      {%- if row.status in not_run %}{{ row.student_id }}{% else %}{{ student(row.student_id) }}{% endif %}</td>
    <td class="nowrap"><code>{{ row.status }}</code></td>
    <td>{{ row.detail }}</td>
  </tr>
  {% endfor %}
</table></div>
</details>
{% else %}
<p>None scored 0.</p>
{% endif %}
{% if r.absent %}
<p>In the gradebook but not in this grades file (no folder in the run): {{ r.absent|join(", ") }}.</p>
{% endif %}
</body>
</html>
"""


def linked(report: ClassReport) -> set:
    """The students whose feedback page the page links to."""
    examples = {s for e in report.exercises for f in e.failures[:TOP_FAILURES] for s in f.students[:EXAMPLES]}
    return examples | {row["student_id"] for row in report.zero if row["status"] not in NOT_RUN}


def render(report: ClassReport, number: str, grades: Path, links: dict, unwritten: int) -> str:
    """The page; `links`: {student: address of their feedback page}, `unwritten` of which do not exist yet."""
    import jinja2

    template = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(PAGE)
    return template.render(
        r=report, number=number, grades=grades, ran=report.ran, figures=figures(report), links=links,
        written=datetime.fromtimestamp(grades.stat().st_mtime).strftime("%Y-%m-%d %H:%M"), top=TOP_FAILURES,
        examples=EXAMPLES, meaning={status.name: status.meaning for status in STATUSES}, not_run=NOT_RUN,
        unwritten=unwritten)


# -------------------------------------------------------------------------------------------- the terminal
def scores_table(report: ClassReport) -> Table:
    edges, ran, others = score_histogram(report, most_bins=12)
    table = Table(title="scores", title_justify="left")
    for column, justify in (("points", "right"), ("students", "right"), ("", "left")):
        table.add_column(column, justify=justify)
    for low, high, count in zip(edges, edges[1:], ran + others):
        table.add_row(bin_label(low, min(high, report.max_score)), str(count),
                      Bar(max(1, (ran + others).max()), 0, count, width=30))
    return table


def exercises_table(report: ClassReport) -> Table:
    table = Table(title=f"exercises (of the {len(report.ran)} notebooks that ran)", title_justify="left")
    width = max(len(e.grade_id) for e in report.exercises) if report.exercises else 8
    for column, justify, least in (("exercise", "left", width), ("passed", "right", 6), ("mean", "right", 9)):
        table.add_column(column, justify=justify, no_wrap=True, min_width=least)
    table.add_column("most frequent failure (students: where, error)", no_wrap=True, overflow="ellipsis",
                     max_width=max(20, console.width - width - 30))   # one line each: the page has them whole
    for e in report.exercises:
        top = e.failures[0] if e.failures else None
        said = f"{len(top.students)}: {top.example.where or '-'}, {top.example.message}" if top else ""
        table.add_row(e.grade_id, f"{100 * e.pass_rate:.0f}%", f"{e.mean:.2f}/{e.points:g}", escape(said))
    return table


def print_summary(report: ClassReport, page: Path, unwritten: int, number: str) -> None:
    console.print(f"[bold]tito report {report.assignment}[/bold]: {len(report.rows)} students, {len(report.ran)} "
                  f"notebooks ran; mean {report.mean:.1f} / {report.max_score:g}, median {report.median:g}")
    console.print(scores_table(report))
    console.print(exercises_table(report))
    statuses = Table(title="statuses", title_justify="left")
    statuses.add_column("status")
    statuses.add_column("students", justify="right")
    for name, count in report.statuses.items():
        statuses.add_row(name, str(count))
    console.print(statuses)
    for title, names in (("0 points or no notebook", [f"{r['student_id']} ({r['status']})" for r in report.zero]),
                         ("in the gradebook, not in this grades file", report.absent)):
        if names:
            more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
            console.print(f"{title}: {escape(', '.join(names[:NAMED]))}{more}")
    console.print(f"report written to {page}" + (f" ({unwritten} linked feedback pages not written yet: "
                                                 f"`tito feedback {number}`)" if unwritten else ""))


# -------------------------------------------------------------------------------------------- the command
def build(module, course: Course, grades=None, output=None):
    """Write the page; return (the ClassReport, the page's path, how many linked feedback pages do not exist)."""
    grades = Path(grades or course.grades_csv).resolve()
    report = collect(module, course, grades)
    page = Path(output or course.report(module)).resolve()
    targets = {student: course.feedback(student, module) for student in linked(report)}
    links = {student: urllib.parse.quote(Path(os.path.relpath(target, page.parent)).as_posix())
             for student, target in targets.items()}
    unwritten = sum(not target.exists() for target in targets.values())
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render(report, module.number, grades, links, unwritten), encoding="utf-8")
    return report, page, unwritten


def main(args) -> int:
    module = registry.find(args.module)
    report, page, unwritten = build(module, Course(), args.grades, args.output)
    print_summary(report, page, unwritten, module.number)
    return 0
