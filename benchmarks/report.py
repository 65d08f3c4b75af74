"""How long `tito report 06` takes for a class of 200 (graded notebooks) and for 5,000 made-up rows.

    python benchmarks/report.py                              # grades 5 submissions first (about a minute)
    python benchmarks/report.py --course DIR --grades CSV    # or starts from a course graded already
    python benchmarks/report.py --quick                      # a class of 20 and 500 rows, one run each

The class of 200 is fabricated from a graded class: each graded student's executed notebook and grades.csv row
are copied under new ids into a scratch course (cycling through the class), so the report reads 200 notebooks
exactly as it would after grading 200. The 5,000 rows come from tests/grading_class.synthetic_class and go
straight to the aggregation, the figures and the page: nothing is read from disk. Figures are medians after a
warm-up (imports paid once); `tito report` in a fresh process is also timed once, imports included.
A benchmark, not a test: the figures depend on the machine and on what else runs on it (load printed beside).
"""
import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import grading_class  # noqa: E402
from tito import report  # noqa: E402
from tito.course import Course  # noqa: E402
from tito.grade import Assignment  # noqa: E402
from tito.registry import find  # noqa: E402

GRADED = ("reference", "wrong-matmul", "wrong-sub", "release", "os-exit")


def env(course: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TITO_COURSE": str(course),
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}


def graded_course(tmp: Path) -> tuple:
    """A course with GRADED graded in it; (course, its grades.csv)."""
    course = grading_class.make_course(tmp / "graded")
    grading_class.build_class(tmp / "everyone", course)
    subs = grading_class.pick(tmp / "everyone", GRADED, tmp / "submissions")
    subprocess.run([sys.executable, "-m", "tito", "grade", "06", "--submissions", str(subs), "--jobs", "2"],
                   env=env(course), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return course, course / "grades.csv"


def fabricate(template: Path, grades: Path, size: int, out: Path) -> Path:
    """A course of `size` students copied from the graded course `template`; returns it (grades.csv inside)."""
    module = find("06")
    out.mkdir(parents=True)
    shutil.copyfile(template / "nbgrader_config.py", out / "nbgrader_config.py")   # no gradebook: no roster
    for folder in ("source", "release"):
        shutil.copytree(template / folder, out / folder)
    with grades.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    copies = []
    for i in range(size):
        row = dict(rows[i % len(rows)])
        original, row["student_id"] = row["student_id"], f"s{i:05d}-{row['student_id']}"
        notebook = Course(template).autograded(original, module)
        if notebook.exists():
            target = Course(out).autograded(row["student_id"], module)
            target.parent.mkdir(parents=True)
            shutil.copyfile(notebook, target)
        copies.append(row)
    with (out / "grades.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(copies)
    return out


def median_seconds(run, repeats: int) -> tuple:
    run()   # warm-up: imports, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", type=Path, help="a course graded already (default: grade 5 submissions)")
    parser.add_argument("--grades", type=Path, help="its grades.csv (default: COURSE/grades.csv)")
    parser.add_argument("--quick", action="store_true", help="a class of 20 and 500 rows, one run each")
    args = parser.parse_args(argv)
    size, rows_made_up, repeats = (20, 500, 1) if args.quick else (200, 5000, 3)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        template, grades = (args.course, args.grades or args.course / "grades.csv") if args.course \
            else graded_course(tmp)
        course = fabricate(template.resolve(), grades.resolve(), size, tmp / f"class-{size}")
        median, times = median_seconds(lambda: report.build(find("06"), Course(course)), repeats)
        print(f"class of {size:5d} (graded notebooks): report.build median {median:6.2f} s of {repeats} "
              f"({', '.join(f'{t:.2f}' for t in times)})  {1000 * median / size:6.1f} ms per student   "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tito", "report", "06"], env=env(course), check=True,
                       stdout=subprocess.DEVNULL)
        print(f"class of {size:5d}: `tito report 06` in a fresh process {time.perf_counter() - start:6.2f} s "
              f"(imports included)", flush=True)

        points = Assignment(find("06"), Course(course), sandboxed=False).points
        rows, errors = grading_class.synthetic_class(rows_made_up, points)
        made_up = lambda: report.summarise("06_autograd", points, rows, errors)   # noqa: E731
        summarised, _ = median_seconds(made_up, repeats)
        summary = made_up()
        links = {student: "#" for student in report.linked(summary)}
        rendered, _ = median_seconds(lambda: report.render(summary, "06", course / "grades.csv", links, 0), repeats)
        print(f"{rows_made_up:5d} made-up rows: aggregation median {summarised:6.2f} s, figures and page "
              f"{rendered:6.2f} s   load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
