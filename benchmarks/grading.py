"""Grading throughput: `tito grade 06` on a generated class, at --jobs 1 and --jobs 2.

    python benchmarks/grading.py            # 50 submissions (the reference solution, each a distinct file)
    python benchmarks/grading.py --quick    # 2 submissions, to check that the benchmark runs

Each run grades a fresh scratch course from scratch (nothing cached) and prints submissions per second.
A benchmark, not a test: the figures depend on the machine.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import grading_class  # noqa: E402


def run(course: Path, subs: Path, jobs: int, output: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TITO_COURSE": str(course),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    command = [sys.executable, "-m", "tito", "grade", "06", "--submissions", str(subs), "--jobs", str(jobs),
               "--output", str(output)]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 submissions instead of 50")
    parser.add_argument("--students", type=int, help="class size (default 50, or 2 with --quick)")
    args = parser.parse_args(argv)
    count = args.students or (2 if args.quick else 50)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        template = grading_class.make_course(tmp / "template")
        subs = tmp / "submissions"
        grading_class.copies_of_reference(subs, count, template)
        outputs = {}
        print(f"grading {count} module-06 submissions (reference solutions) on {os.cpu_count()} cores")
        for jobs in (1, 2):
            course = grading_class.make_course(tmp / f"course-jobs{jobs}")
            outputs[jobs] = tmp / f"grades-{jobs}.csv"
            seconds = run(course, subs, jobs, outputs[jobs])
            print(f"--jobs {jobs}: {seconds:6.1f} s  {count / seconds:5.2f} submissions/s")
        same = outputs[1].read_text() == outputs[2].read_text()
        print(f"--jobs 1 and --jobs 2 CSVs identical: {same}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
