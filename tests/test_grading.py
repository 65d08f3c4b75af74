"""End to end: `tito grade 06` on a generated class with every kind of submission a real class produces,
hostile ones included. Each case's score and status are asserted exactly.

Grading runs in subprocesses (as an instructor runs it) against a scratch course, every submission in its
bubblewrap sandbox. Limits are far above what a correct notebook needs (its slowest cell takes well under a
second), so a busy machine does not change a grade.
"""
import csv
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

import grading_class  # noqa: E402  (tests/ is on sys.path: pytest's rootdir-relative import)

ROOT = Path(__file__).resolve().parent.parent
POINTS = {"test-function": 1, "test-arithmetic-backward": 3, "test-matmul-backward": 3,
          "test-reduction-backward": 3, "test-shape-backward": 2, "test-activation-backward": 3,
          "test-loss-backward": 2, "test-unbroadcast": 2, "test-backward": 4, "test-grad-tools": 2,
          "test-enable-autograd": 4, "test-integration": 4}
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
    before = {"subs": hashes(subs), "tracked": tracked_files(), "venv": venv_listing(),
              "source": hashes(course / "source")}
    started = time.monotonic()
    done = tito_grade(course, subs, tmp / "grades.csv", "--jobs", "2")
    return {"course": course, "subs": subs, "tmp": tmp, "before": before, "hostile": hostile, "output": done.stdout,
            "seconds": time.monotonic() - started}


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
        assert float(row["max_score"]) == 33


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
    before = graded["before"]
    assert hashes(graded["subs"]) == before["subs"], "submissions are never modified"
    assert tracked_files() == before["tracked"], "a tracked file of the repository changed"
    assert venv_listing() == before["venv"], "the grader's site-packages changed"
    assert hashes(graded["course"] / "source") == before["source"], "course/source changed"


def test_no_process_of_the_run_is_left(graded):
    alive = subprocess.run(["pgrep", "-f", grading_class.DAEMON_MARKER], capture_output=True, text=True)
    assert alive.stdout == "", f"a daemon survived its sandbox: {alive.stdout}"
    if os.geteuid() == 0:   # sandboxes run as uids from UID_BASE on
        from tito.sandbox import UID_BASE

        users = subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True).stdout.split()
        assert not [uid for uid in users if int(uid) >= UID_BASE], "a sandbox process is still alive"


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
        assert (rows[student]["status"], rows[student]["score"]) == ("ok", "33"), student
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
    assert "a 20,000-node chain must work" not in report   # a hidden test's message
    assert "Test cell" not in report and "4.2 Matrix multiplication" in report, "items named by exercise"
    assert '<div class="output_text output_subarea output_execute_result">\n<pre>SumBackward ()' in report, \
        "show_graph's result is shown (as its text tree)"
    tito(course, "feedback", "06", "--show-tests")
    assert "a 20,000-node chain must work" in (course / "feedback" / "reference" / "06_autograd" /
                                                "autograd.html").read_text()


def test_big_output_is_truncated(graded):
    notebook = graded["course"] / "autograded" / "big-output" / "06_autograd" / "autograd.ipynb"
    assert notebook.stat().st_size < 2_000_000


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
    assert (row["score"], row["sandbox"]) == ("33", "none")


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
