"""End to end: `tito grade 06` on a generated class with every kind of submission a real class produces.

Each case's score and status are asserted exactly. Grading runs in subprocesses (as an instructor runs it)
against a scratch course, with a 10 s cell timeout and a 2 GiB memory limit per kernel.
"""
import csv
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

import grading_class  # noqa: E402  (tests/ is on sys.path under pytest's rootdir conftest-less import)

ROOT = Path(__file__).resolve().parent.parent
POINTS = {"test-function": 1, "test-arithmetic-backward": 3, "test-matmul-backward": 3,
          "test-reduction-backward": 3, "test-shape-backward": 2, "test-activation-backward": 3,
          "test-loss-backward": 2, "test-unbroadcast": 2, "test-backward": 4, "test-grad-tools": 2,
          "test-enable-autograd": 4, "test-integration": 4}
BEFORE_BACKWARD = list(POINTS)[:list(POINTS).index("test-backward")]

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


def env(course):
    return {**os.environ, "PYTHONPATH": str(ROOT), "TITO_COURSE": str(course), "TITO_CELL_TIMEOUT": "10",
            "TITO_MEMORY_LIMIT": "2048", "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}


def grade_cmd(subs, jobs, output):
    return [sys.executable, "-m", "tito", "grade", "06", "--submissions", str(subs), "--jobs", str(jobs),
            "--output", str(output)]


def tito_grade(course, subs, jobs, output):
    done = subprocess.run(grade_cmd(subs, jobs, output), env=env(course), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def hashes(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The whole class, graded once with --jobs 2."""
    tmp = tmp_path_factory.mktemp("grading")
    course = grading_class.make_course(tmp / "course")
    subs = tmp / "submissions"
    grading_class.build_class(subs, course)
    before = hashes(subs)
    started = time.monotonic()
    tito_grade(course, subs, 2, tmp / "grades.csv")
    return {"course": course, "subs": subs, "tmp": tmp, "before": before, "seconds": time.monotonic() - started}


def test_every_case_gets_the_right_score_and_status(graded):
    rows = {row["student_id"]: row for row in read_csv(graded["tmp"] / "grades.csv")}
    assert sorted(rows) == sorted(EXPECTED)
    assert list(read_csv(graded["tmp"] / "grades.csv")[0])[5:] == list(POINTS)
    for student, (status, zero) in EXPECTED.items():
        row = rows[student]
        cells = {gid: float(row[gid]) for gid in POINTS}
        expected = {gid: 0.0 if gid in zero else float(p) for gid, p in POINTS.items()}
        assert (row["status"], cells) == (status, expected), student
        assert float(row["score"]) == sum(expected.values()), student
        assert float(row["max_score"]) == 33


def test_feedback_for_every_graded_student(graded):
    for student, (status, _) in EXPECTED.items():
        html = graded["course"] / "feedback" / student / "06_autograd" / "autograd.html"
        assert html.exists() == (status not in ("missing", "invalid-json")), student


def test_submissions_are_never_modified(graded):
    assert hashes(graded["subs"]) == graded["before"]


def test_big_output_is_truncated(graded):
    notebook = graded["course"] / "autograded" / "big-output" / "06_autograd" / "autograd.ipynb"
    assert notebook.stat().st_size < 2_000_000


def test_rerun_grades_only_what_changed(graded):
    course, subs, tmp = graded["course"], graded["subs"], graded["tmp"]
    autograded = {p: p.stat().st_mtime_ns for p in (course / "autograded").glob("*/06_autograd/autograd.ipynb")}
    tito_grade(course, subs, 1, tmp / "again.csv")
    assert {p: p.stat().st_mtime_ns for p in autograded} == autograded, "nothing changed: nothing regraded"
    assert (tmp / "again.csv").read_text() == (tmp / "grades.csv").read_text()

    changed = subs / "wrong-sub" / "06_autograd" / "autograd.ipynb"
    changed.write_text(changed.read_text().replace("\n}", "\n}\n", 1))  # same notebook, new bytes
    tito_grade(course, subs, 1, tmp / "third.csv")
    regraded = [p.parent.parent.name for p, t in autograded.items() if p.stat().st_mtime_ns != t]
    assert regraded == ["wrong-sub"]
    assert (tmp / "third.csv").read_text() == (tmp / "grades.csv").read_text()


def test_jobs_1_after_an_interrupted_run_equals_jobs_2(graded, tmp_path):
    """A --jobs 1 run, killed after its first student and resumed, gives the rows of the --jobs 2 run."""
    course = grading_class.make_course(tmp_path / "course")
    subs = tmp_path / "submissions"
    picked = ("os-exit", "reference", "wrong-sub")
    for student in picked:
        source = graded["subs"] / student / "06_autograd" / "autograd.ipynb"
        target = subs / student / "06_autograd" / "autograd.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(source.read_bytes())
    records = course / "autograded" / ".tito" / "06_autograd"
    run = subprocess.Popen(grade_cmd(subs, 1, tmp_path / "grades.csv"), env=env(course),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(records.glob("*.json")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # an interrupted run: the whole process group, kernels included
    run.wait()
    first = {p.name: p.stat().st_mtime_ns for p in records.glob("*.json")}
    assert len(first) == 1 and not (tmp_path / "grades.csv").exists()

    tito_grade(course, subs, 1, tmp_path / "grades.csv")
    assert {p: records.joinpath(p).stat().st_mtime_ns for p in first} == first, "the finished student is kept"
    lines = (graded["tmp"] / "grades.csv").read_text().splitlines()
    expected = [lines[0], *(line for line in lines[1:] if line.split(",")[0] in picked)]
    assert (tmp_path / "grades.csv").read_text().splitlines() == expected


def test_benchmark_quick_mode():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grading.py"), "--quick"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("submissions/s") == 2 and "identical: True" in done.stdout
