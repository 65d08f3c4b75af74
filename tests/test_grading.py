"""End to end: `tito grade 06` on a generated class with every kind of submission a real class produces,
hostile ones included. Each case's score and status are asserted exactly.

Grading runs in subprocesses (as an instructor runs it) against a scratch course, every submission in its
bubblewrap sandbox. Limits are far above what a correct notebook needs (its slowest cell takes well under a
second), so a busy machine does not change a grade.
"""
import base64
import csv
import hashlib
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

import grading_class  # noqa: E402  (tests/ is on sys.path: pytest's rootdir-relative import)
from tito import report as class_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POINTS = {"test-function": 1, "test-arithmetic-backward": 3, "test-matmul-backward": 3,
          "test-reduction-backward": 3, "test-shape-backward": 2, "test-activation-backward": 3,
          "test-loss-backward": 2, "test-elementwise-backward": 4, "test-unbroadcast": 2, "test-backward": 4,
          "test-grad-tools": 2, "test-enable-autograd": 4, "test-integration": 4}
FULL = sum(POINTS.values())
BEFORE_BACKWARD = list(POINTS)[:list(POINTS).index("test-backward")]
LIMITS = {"TITO_CELL_TIMEOUT": "30", "TITO_NOTEBOOK_TIMEOUT": "300", "TITO_MEMORY_LIMIT": "2048"}

# student: (status, the graded cells that score 0)
EXPECTED = {
    "reference": ("ok", []),
    "release": ("ok", list(POINTS)),
    "wrong-sub": ("ok", ["test-arithmetic-backward"]),
    "wrong-matmul": ("ok", ["test-matmul-backward", "test-integration"]),
    "infinite-loop": ("timeout", []),
    "memory-bomb": ("memory", []),
    "os-exit": ("crashed", [g for g in POINTS if g not in BEFORE_BACKWARD]),
    "segfault": ("crashed", [g for g in POINTS if g not in BEFORE_BACKWARD]),
    "big-output": ("ok", []),
    "deleted-test": ("restored", ["test-arithmetic-backward"]),
    "edited-test": ("restored", ["test-matmul-backward", "test-integration"]),
    "tamper-calltime": ("tampered", ["test-matmul-backward", "test-integration"]),
    "tamper-numpy": ("tampered", ["test-matmul-backward", "test-integration"]),
    "tamper-helpers": ("tampered", ["test-matmul-backward", "test-integration"]),
    "tamper-builtins": ("tampered", ["test-matmul-backward", "test-integration"]),
    "tamper-ipython": ("tampered", ["test-matmul-backward", "test-integration"]),
    "renamed": ("missing", list(POINTS)),
    "missing": ("missing", list(POINTS)),
    "invalid-json": ("invalid-json", list(POINTS)),
}


def env(course, **extra):
    return {**os.environ, "PYTHONPATH": str(ROOT), "TITO_COURSE": str(course), **LIMITS,
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"], **extra}


def grade_cmd(subs, output, *options):
    return [sys.executable, "-m", "tito", "grade", "06", "--submissions", str(subs), "--output", str(output),
            *options]


def tito(course, *args, ok=True, **extra):
    done = subprocess.run([sys.executable, "-m", "tito", *args], env=env(course, **extra), capture_output=True,
                          text=True, timeout=1800)
    assert (done.returncode == 0) == ok, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def tito_grade(course, subs, output, *options):
    return tito(course, *grade_cmd(subs, output, *options)[3:])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def hashes(folder, pattern="*"):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob(pattern)) if p.is_file()}


def tracked_files():
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True).stdout
    return {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()
            for name in names.split("\0") if name and (ROOT / name).is_file()}


def venv_listing():
    site = Path(sysconfig.get_paths()["purelib"])
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in site.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The whole class, honest, broken and hostile, graded once with --jobs 2."""
    tmp = tmp_path_factory.mktemp("grading")
    course = grading_class.make_course(tmp / "course")
    subs = tmp / "submissions"
    grading_class.build_class(subs, course)
    where = {"course": course, "repo": ROOT, "site": sysconfig.get_paths()["purelib"], "output": tmp / "grades.csv"}
    hostile = grading_class.build_hostile_class(subs, course, where)
    def outside_the_run():   # what grading must leave as it was
        return {"subs": hashes(subs), "tracked": tracked_files(), "venv": venv_listing(),
                "source": hashes(course / "source")}

    before = outside_the_run()
    started = time.monotonic()
    done = tito_grade(course, subs, tmp / "grades.csv", "--jobs", "2")
    seconds = time.monotonic() - started
    return {"course": course, "subs": subs, "tmp": tmp, "before": before, "after": outside_the_run(),
            "hostile": hostile, "output": done.stdout, "seconds": seconds}


def rows_of(path):
    return {row["student_id"]: row for row in read_csv(path)}


def cells_of(row):
    return {gid: float(row[gid]) for gid in POINTS}


def test_every_case_gets_the_right_score_and_status(graded):
    rows = rows_of(graded["tmp"] / "grades.csv")
    assert sorted(rows) == sorted([*EXPECTED, *graded["hostile"]])
    assert list(read_csv(graded["tmp"] / "grades.csv")[0])[7:] == list(POINTS)
    for student, (status, zero) in EXPECTED.items():
        row = rows[student]
        expected = {gid: 0.0 if gid in zero else float(p) for gid, p in POINTS.items()}
        assert (row["status"], cells_of(row)) == (status, expected), student
        assert float(row["score"]) == sum(expected.values()), student
        assert float(row["max_score"]) == FULL


def test_hostile_and_honest_cases(graded):
    """Thefts score 0; attacks on classmates, the grader or the machine change nobody's grade; honest
    students who print to stderr, paste a cell twice or save with a BOM lose nothing."""
    rows = rows_of(graded["tmp"] / "grades.csv")
    for student, (status, full) in graded["hostile"].items():
        expected = {gid: float(p) if full else 0.0 for gid, p in POINTS.items()}
        assert (rows[student]["status"], cells_of(rows[student])) == (status, expected), student
        assert rows[student]["sandbox"] == "bwrap"
    assert "pasted twice: test-matmul-backward" in rows["honest-duplicate"]["detail"]


def test_nothing_outside_the_run_changed(graded):
    """Compared right after the run (later tests resubmit on purpose)."""
    before, after = graded["before"], graded["after"]
    assert after["subs"] == before["subs"], "submissions are never modified"
    assert after["tracked"] == before["tracked"], "a tracked file of the repository changed"
    assert after["venv"] == before["venv"], "the grader's site-packages changed"
    assert after["source"] == before["source"], "course/source changed"


def escaped_sandbox_processes():
    """Processes of a sandbox uid that no bwrap holds any more (another test's sandbox, running now, is held)."""
    from tito.sandbox import UID_BASE

    table = {}
    listing = subprocess.run(["ps", "-eo", "pid=,ppid=,uid=,comm="], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        pid, ppid, uid, command = line.split(None, 3)
        table[pid] = (ppid, int(uid), command)

    def held(pid):
        while pid in table and table[pid][2] != "bwrap":
            pid = table[pid][0]
        return pid in table
    return [(pid, command) for pid, (_, uid, command) in table.items() if uid >= UID_BASE and not held(pid)]


def test_no_process_of_the_run_is_left(graded):
    alive = subprocess.run(["pgrep", "-f", grading_class.DAEMON_MARKER], capture_output=True, text=True)
    if alive.stdout:   # the daemon sleeps an hour: end it, then fail
        subprocess.run(["pkill", "-f", grading_class.DAEMON_MARKER])
    assert alive.stdout == "", f"a daemon survived its sandbox: {alive.stdout}"
    if os.geteuid() == 0:   # sandboxes run as uids from UID_BASE on
        assert escaped_sandbox_processes() == [], "a sandbox process outlived its sandbox"


@pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user the sandbox shares the grader's uid")
def test_the_socket_folder_is_sealed_before_the_notebook_runs(graded):
    executed = nbformat.read(graded["course"] / "autograded" / "attack-sockets" / "06_autograd" / "autograd.ipynb",
                             as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert printed.count("socket folder sealed: PermissionError") == 2 and "wrote into" not in printed, printed


def test_only_the_grader_wrote_the_gradebook(graded):
    with sqlite3.connect(graded["course"] / "gradebook.db") as db:
        assert db.execute("SELECT count(*) FROM grade WHERE manual_score IS NOT NULL").fetchone() == (0,)
    executed = (graded["course"] / "autograded" / "attack-everything" / "06_autograd" / "autograd.ipynb").read_text()
    assert "gradebook out of reach" in executed and "read 0 hidden" not in executed


def test_classmates_still_get_full_marks_in_a_later_run(graded, tmp_path):
    """Whatever the attackers planted in the first run, regrading the classmates finds nothing of it."""
    subs = graded["subs"]
    for student in ("classmate-a", "classmate-b", "honest-bom"):
        path = subs / student / "06_autograd" / "autograd.ipynb"
        path.write_bytes(path.read_bytes() + b"\n")   # a resubmission: new bytes, same notebook
    done = tito_grade(graded["course"], subs, tmp_path / "later.csv")
    rows = rows_of(tmp_path / "later.csv")
    for student in ("classmate-a", "classmate-b", "honest-bom"):
        assert (rows[student]["status"], float(rows[student]["score"])) == ("ok", FULL), student
    assert "3/3" in done.stdout, "only the three resubmissions are graded again"


def test_demos_are_skipped_under_grading(graded):
    import nbformat

    executed = nbformat.read(graded["course"] / "autograded" / "reference" / "06_autograd" / "autograd.ipynb", 4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "autograd enabled" in printed, "the graded cells ran and printed"
    for demo in ("digits: test accuracy", "recursive walk", "topological walk", "per operation"):
        assert demo not in printed, f"the demo printing {demo!r} ran under grading"


def test_feedback_hides_the_hidden_tests_unless_asked(graded):
    course = graded["course"]
    tito(course, "feedback", "06")
    for student, (status, _) in EXPECTED.items():
        report = course / "feedback" / student / "06_autograd" / "autograd.html"
        assert report.exists() == (status not in ("missing", "invalid-json")), student
    report = (course / "feedback" / "reference" / "06_autograd" / "autograd.html").read_text()
    assert "a 5,000-node chain must work" not in report   # a hidden test's message
    assert "Test cell" not in report and "4.2 Matrix multiplication" in report, "items named by exercise"
    assert '<div class="output_text output_subarea output_execute_result">\n<pre>SumBackward ()' in report, \
        "show_graph's result is shown (as its text tree)"
    tito(course, "feedback", "06", "--show-tests")
    assert "a 5,000-node chain must work" in (course / "feedback" / "reference" / "06_autograd" /
                                                "autograd.html").read_text()


def test_big_output_is_truncated(graded):
    notebook = graded["course"] / "autograded" / "big-output" / "06_autograd" / "autograd.ipynb"
    assert notebook.stat().st_size < 2_000_000
    flood = graded["course"] / "autograded" / "attack-flood" / "06_autograd" / "autograd.ipynb"
    assert flood.stat().st_size < 11_000_000 and "was dropped" in flood.read_text()


def test_rerun_grades_only_what_changed(graded, tmp_path):
    course, subs, tmp = graded["course"], graded["subs"], graded["tmp"]
    notebooks = {p: p.stat().st_mtime_ns for p in (course / "autograded").glob("*/06_autograd/autograd.ipynb")}
    tito_grade(course, subs, tmp_path / "again.csv")
    assert {p: p.stat().st_mtime_ns for p in notebooks} == notebooks, "nothing changed: nothing regraded"
    changed = subs / "wrong-sub" / "06_autograd" / "autograd.ipynb"
    changed.write_text(changed.read_text().replace("\n}", "\n}\n", 1))  # same notebook, new bytes
    tito_grade(course, subs, tmp_path / "third.csv")
    regraded = [p.parent.parent.name for p, t in notebooks.items() if p.stat().st_mtime_ns != t]
    assert regraded == ["wrong-sub"]
    assert rows_of(tmp_path / "third.csv")["wrong-sub"] == rows_of(tmp / "grades.csv")["wrong-sub"]


def test_jobs_1_after_an_interrupted_run_equals_jobs_2(graded, tmp_path):
    """A --jobs 1 run, killed after its first student and resumed, gives the rows of the --jobs 2 run."""
    course = grading_class.make_course(tmp_path / "course")
    picked = ("os-exit", "reference", "wrong-sub")
    subs = grading_class.pick(graded["subs"], picked, tmp_path / "submissions")
    records = course / "autograded" / ".tito" / "06_autograd"
    run = subprocess.Popen(grade_cmd(subs, tmp_path / "grades.csv"), env=env(course),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(records.glob("*.json")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # an interrupted run: the whole process group
    run.wait()
    first = {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")}
    assert len(first) == 1 and not (tmp_path / "grades.csv").exists()

    tito_grade(course, subs, tmp_path / "grades.csv")
    assert {p: records.joinpath(p).stat().st_mtime_ns for p in first} == first, "the finished student is kept"
    lines = (graded["tmp"] / "grades.csv").read_text().splitlines()
    expected = [lines[0], *(line for line in lines[1:] if line.split(",")[0] in picked)]
    assert (tmp_path / "grades.csv").read_text().splitlines() == expected


def test_no_sandbox_is_explicit_and_marks_every_row(graded, tmp_path):
    subs = grading_class.pick(graded["subs"], ["reference"], tmp_path / "submissions")
    course = grading_class.make_course(tmp_path / "course")
    done = tito_grade(course, subs, tmp_path / "grades.csv", "--no-sandbox")
    assert "--no-sandbox" in done.stdout
    row = rows_of(tmp_path / "grades.csv")["reference"]
    assert (float(row["score"]), row["sandbox"]) == (FULL, "none")


def test_grading_refuses_without_bubblewrap(graded, tmp_path):
    bare = tmp_path / "bin"   # a PATH with Python but without bwrap
    bare.mkdir()
    done = tito(graded["course"], "grade", "06", "--submissions", str(graded["subs"]), "--output",
                str(tmp_path / "x.csv"), ok=False, PATH=str(bare))
    assert "apt-get install bubblewrap" in done.stdout and "--no-sandbox" in done.stdout
    assert not (tmp_path / "x.csv").exists()


def test_benchmark_quick_mode():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grading.py"), "--quick"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("submissions/s") == 2 and "identical: True" in done.stdout


# ------------------------------------------------------------------------------------------ tito report
@pytest.fixture(scope="module")
def reported(graded):
    """`tito report 06` run as the end of `tito grade` says, and the same report as data."""
    from tito.course import Course
    from tito.registry import find

    said = re.search(r"`(tito report 06[^`]*)`", " ".join(graded["output"].split()))
    assert said, "`tito grade` points to `tito report`"
    done = tito(graded["course"], *shlex.split(said.group(1))[1:])
    data = class_report.collect(find("06"), Course(graded["course"]), graded["tmp"] / "grades.csv")
    page = graded["course"] / "report" / "06_autograd.html"
    return {"stdout": done.stdout, "page": page, "html": page.read_text(encoding="utf-8"), "report": data}


def test_report_numbers_match_grades_csv(graded, reported):
    from tito.course import NOT_RUN, STATUS_NAMES

    rows, report = read_csv(graded["tmp"] / "grades.csv"), reported["report"]
    ran = [row for row in rows if row["status"] not in NOT_RUN]
    assert (len(report.rows), len(ran)) == (len(rows), len(rows) - 3)   # 2 missing, 1 invalid-json
    counts = Counter(row["status"] for row in rows)
    assert report.statuses == counts and list(report.statuses) == [s for s in STATUS_NAMES if s in counts]
    assert [e.grade_id for e in report.exercises] == list(POINTS)
    for e in report.exercises:
        passed = sum(float(row[e.grade_id]) == POINTS[e.grade_id] for row in ran)
        assert (e.ran, e.passed, e.points) == (len(ran), passed, POINTS[e.grade_id]), e.grade_id
        assert e.mean == pytest.approx(sum(float(row[e.grade_id]) for row in ran) / len(ran))
        assert sum(len(f.students) for f in e.failures) == len(ran) - passed
    edges, graded_counts, others = class_report.score_histogram(report)
    per_score = {round(centre): count for centre, count in zip((edges[:-1] + edges[1:]) / 2, graded_counts + others)}
    assert {s: n for s, n in per_score.items() if n} == Counter(round(float(row["score"])) for row in rows)
    assert sorted(row["student_id"] for row in report.zero) == sorted(row["student_id"] for row in rows
                                                                     if float(row["score"]) == 0)
    # the page and the terminal say the same
    html, stdout = reported["html"], " ".join(reported["stdout"].split())
    for status, count in counts.items():
        assert f'<code>{status}</code></td><td class="n">{count}</td>' in html, status
    for e in report.exercises:
        assert f"{e.grade_id}: {e.failed} of {e.ran} failed" in html or not e.failures, e.grade_id
    assert f"{len(rows)} students, {len(ran)} notebooks ran" in stdout
    assert f"report written to {reported['page']}" in stdout


def test_report_names_the_wrong_matmul(reported):
    """The top failure of the matmul exercise says what wrong-matmul got wrong: B not transposed."""
    import html as html_module

    matmul = next(e for e in reported["report"].exercises if e.grade_id == "test-matmul-backward")
    top = matmul.failures[0]
    assert "wrong-matmul" in top.students and len(top.students) > len(matmul.failures[1].students)
    assert top.example.message.startswith("AssertionError: MatmulBackward.apply raised ValueError: matmul:")
    assert top.example.where == "MatmulBackward.apply"
    assert top.example.line == grading_class.WRONG_MATMUL[1]
    section = reported["html"].split('id="test-matmul-backward"')[1].split("</li>")[0]
    assert f"<b>{len(top.students)}</b> students" in section
    for text in ("MatmulBackward.apply", grading_class.WRONG_MATMUL[1]):
        assert html_module.escape(text, quote=False) in section, text
    # the links go to those students' feedback pages, relative to the page
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', section)
    assert [name for _, name in links] == top.students[:3]
    for href, name in links:
        assert (reported["page"].parent / href).resolve() == reported["page"].parents[1] / "feedback" / name / \
            "06_autograd" / "autograd.html"


def test_report_figures_have_labelled_axes(reported):
    report = reported["report"]
    scores, exercises = class_report.score_figure(report), class_report.exercise_figure(report)
    for figure in (scores, exercises):
        assert type(figure.canvas).__name__ == "FigureCanvasAgg"   # no display needed
        figure.draw_without_rendering()
        (axes,) = figure.axes
        assert axes.get_xlabel() and axes.get_ylabel()
    bars = scores.axes[0].patches
    assert sum(bar.get_height() for bar in bars) == len(report.rows)
    assert max(bar.get_x() + bar.get_width() for bar in bars) > report.max_score   # full marks are drawn
    axes = exercises.axes[0]
    assert [label.get_text() for label in axes.get_yticklabels()] == list(POINTS)
    assert [bar.get_width() for bar in axes.patches] == pytest.approx([100 * e.pass_rate for e in report.exercises])
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', reported["html"])
    assert len(images) == 2 and all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)


def test_report_loads_nothing_from_elsewhere(reported):
    page = reported["html"]
    assert "http://" not in page and "https://" not in page and "url(" not in page and "@import" not in page
    for address in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert address.startswith(("data:image/png;base64,", "#", "../")), address


def test_report_in_a_browser(reported):
    """Desktop and a 390 px phone: the figures load, nothing is requested from anywhere else, the page never
    scrolls sideways. Full-page screenshots in book/_build/screenshots/report-06-*.png."""
    from test_book import SCREENSHOTS, _check_requests_and_console, _wait, headless_chromium

    with headless_chromium() as cdp:
        for name, width in (("desktop", 1280), ("phone", 390)):
            cdp.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                     mobile=width < 500)
            cdp.open(reported["page"].as_uri())
            _wait(lambda: cdp.js("[...document.images].every(i => i.complete && i.naturalWidth > 100)"), 60,
                  "the figures")
            assert cdp.js("document.images.length") == 2
            assert cdp.js("document.documentElement.scrollWidth") <= width + 1, f"{name}: the page scrolls sideways"
            _check_requests_and_console(cdp, "file://")
            height = cdp.js("document.documentElement.scrollHeight")
            shot = cdp.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"report-06-{name}.png").write_bytes(base64.b64decode(shot["data"]))


def test_report_of_a_class_of_one(graded, tmp_path):
    """One student, graded into the course's own grades.csv, and one more on the gradebook's roster who handed
    in nothing; no feedback written yet: the page says so."""
    from nbgrader.api import Gradebook

    course = grading_class.make_course(tmp_path / "course")
    subs = grading_class.pick(graded["subs"], ["wrong-matmul"], tmp_path / "submissions")
    done = tito(course, "grade", "06", "--submissions", str(subs))
    assert "`tito report 06`" in " ".join(done.stdout.split())
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.add_student("no-show")
    done = tito(course, "report", "06")
    page = (course / "report" / "06_autograd.html").read_text(encoding="utf-8")
    assert "1 students, 1 notebooks ran" in " ".join(done.stdout.split())
    assert "test-matmul-backward: 1 of 1 failed" in page and "MatmulBackward.apply" in page
    assert "no-show" in page and "no-show" in done.stdout
    assert "not written yet" in page and "tito feedback 06" in page


def test_report_of_5000_students():
    """The report of a made-up class of 5,000 (nothing graded): aggregated, grouped, and as long as any other."""
    rows, errors = grading_class.synthetic_class(5000, POINTS)
    report = class_report.summarise("06_autograd", POINTS, rows, errors)
    assert len(report.rows) == 5000 and sum(report.statuses.values()) == 5000
    for e in report.exercises:
        # numbers and addresses differ in every message; the four kinds of failure are four groups
        assert len(e.failures) == len(grading_class.SYNTHETIC_ERRORS), e.grade_id
        assert sum(len(f.students) for f in e.failures) == e.failed > 500
    for figure in (class_report.score_figure(report), class_report.exercise_figure(report)):
        assert len(figure.axes[0].patches) <= 2 * (FULL + 1)   # bins and exercises, never students
    html = class_report.render(report, "06", Path(__file__), {s: "#" for s in class_report.linked(report)}, 0)
    assert html.count("<li>") == len(POINTS) * min(class_report.TOP_FAILURES, len(grading_class.SYNTHETIC_ERRORS))
    assert len(html) < 300_000 + 100 * len(report.zero)   # the figures, and one line per student with 0 points


def test_report_benchmark_quick_mode(graded):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report.py"), "--quick", "--course",
                           str(graded["course"]), "--grades", str(graded["tmp"] / "grades.csv")], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "class of    20 (graded notebooks)" in done.stdout and "500 made-up rows" in done.stdout


def test_report_escapes_what_students_wrote(tmp_path):
    """A student's folder name and error messages are text on the page and in the terminal, never markup."""
    hostile = "<img src=x onerror=alert(1)>[bold red]"
    row = {"student_id": hostile, "assignment": "06_autograd", "score": 0.0, "max_score": 33.0, "status": "ok",
           "detail": "<i>", "sandbox": "bwrap", "cells": {gid: 0.0 for gid in POINTS}}
    error = class_report.Error("AssertionError: <script>alert(1)</script> [red]", "f", "<b>x</b>")
    report = class_report.summarise("06_autograd", POINTS, [row], {hostile: {gid: error for gid in POINTS}})
    grades = tmp_path / "grades.csv"
    grades.write_text("")
    html = class_report.render(report, "06", grades, {hostile: "x.html"}, 0)
    assert "<script>" not in html and "<img src=x" not in html and "<b>x</b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    with class_report.console.capture() as captured:
        class_report.print_summary(report, tmp_path / "page.html", 0, "06")
    assert hostile in captured.get()
