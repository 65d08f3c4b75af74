"""Grading throughput: `tito grade 06` on generated classes of reference solutions, sandbox included.

    python benchmarks/grading.py            # --jobs 1 and --jobs 2 on a class of 50 (median of 3 runs each),
                                            # then --jobs 2 on classes of 10, 50 and 200 (does cost grow linearly?)
    python benchmarks/grading.py --quick    # 2 submissions, one run each: checks that the benchmark works
    python benchmarks/grading.py --sizes 10 50 --repeats 1

Every run grades a fresh scratch course from scratch (nothing cached) in a subprocess, as an instructor runs
`tito grade`, and is timed from start to exit (Dask's local cluster start-up included). Target: at least
1 submission/s at --jobs 2 on a 2-core machine. A benchmark, not a test: the figures depend on the machine
and on what else runs on it, so it prints the load average beside them.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import grading_class  # noqa: E402


def grade_once(tmp: Path, subs: Path, jobs: int, label: str) -> tuple:
    """Grade the class `subs` in a fresh course; return (seconds, the CSV)."""
    course = grading_class.make_course(tmp / f"course-{label}")
    output = tmp / f"grades-{label}.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TITO_COURSE": str(course),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    command = [sys.executable, "-m", "tito", "grade", "06", "--submissions", str(subs), "--jobs", str(jobs),
               "--output", str(output)]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, output.read_text()


def measure(tmp: Path, template: Path, size: int, jobs: int, repeats: int) -> tuple:
    """Median seconds of `repeats` gradings of a class of `size`; every CSV must be the same."""
    subs = tmp / f"class-{size}"
    if not subs.exists():
        grading_class.copies_of_reference(subs, size, template)
    runs, csvs = [], set()
    for repeat in range(repeats):
        seconds, csv = grade_once(tmp, subs, jobs, f"{size}-{jobs}-{repeat}")
        runs.append(seconds)
        csvs.add(csv)
    median = statistics.median(runs)
    print(f"class {size:4d}, --jobs {jobs}: median {median:6.1f} s of {repeats} "
          f"({', '.join(f'{s:.1f}' for s in runs)})  {size / median:5.2f} submissions/s  "
          f"{median / size:5.2f} s per submission   load {os.getloadavg()[0]:.1f}", flush=True)
    return median, csvs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 submissions, one run each")
    parser.add_argument("--sizes", type=int, nargs="+", help="class sizes graded at --jobs 2 (default 10 50 200)")
    parser.add_argument("--repeats", type=int, help="runs per figure (default 3, or 1 with --quick)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    sizes = args.sizes or ([2] if args.quick else [10, 50, 200])
    main_size = 2 if args.quick else 50
    print(f"grading module-06 reference solutions in their sandboxes, on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        template = grading_class.make_course(tmp / "template")
        csvs = set()
        for jobs in (1, 2):
            _, found = measure(tmp, template, main_size, jobs, repeats)
            csvs |= found
        print(f"--jobs 1 and --jobs 2 CSVs identical: {len(csvs) == 1}")
        for size in sizes:
            if size != main_size:
                measure(tmp, template, size, 2, repeats)
        return 0 if len(csvs) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
