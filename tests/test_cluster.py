"""Grading on a real Dask cluster: a `dask scheduler` and two `dask worker` processes, as a university would
start them on Slurm or Kubernetes, here on one machine. `tito grade --scheduler` sends each submission to
them; a worker killed while it grades loses no submission, and the CSV is the one `--jobs 1` writes."""
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("distributed")

import grading_class  # noqa: E402
from test_grading import env, read_csv, tito_grade  # noqa: E402

STUDENTS = ("reference", "wrong-sub", "wrong-matmul", "os-exit", "release", "deleted-test")


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    template = grading_class.make_course(tmp / "template")
    everyone = tmp / "everyone"
    grading_class.build_class(everyone, template)
    subs = grading_class.pick(everyone, STUDENTS, tmp / "submissions")
    course = grading_class.make_course(tmp / "course-jobs1")
    tito_grade(course, subs, tmp / "jobs1.csv")
    return {"tmp": tmp, "subs": subs, "jobs1": (tmp / "jobs1.csv").read_text()}


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers, each its own process group; yields the scheduler file."""
    scheduler_file = tmp_path / "scheduler.json"
    course = tmp_path / "unused"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    processes = [subprocess.Popen([*dask, "--scheduler-file", str(scheduler_file), "--port", "0",
                                   "--dashboard-address", ":0", "--no-show"], env=env(course),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(2):
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
             "--nthreads", "1", "--nworkers", "1", "--memory-limit", "0", "--no-dashboard"],
            env=env(course), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        yield scheduler_file
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _address(scheduler_file):
    import json

    return json.loads(scheduler_file.read_text())["address"]


def test_a_cluster_writes_the_csv_of_jobs_1_even_when_a_worker_dies(small_class, cluster, tmp_path):
    from distributed import Client

    address = _address(cluster)
    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=120)
        course = grading_class.make_course(tmp_path / "course")
        command = [sys.executable, "-m", "tito", "grade", "06", "--submissions", str(small_class["subs"]),
                   "--output", str(tmp_path / "cluster.csv"), "--scheduler", address]
        run = subprocess.Popen(command, env=env(course), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        killed = None
        deadline = time.monotonic() + 600
        while killed is None and run.poll() is None and time.monotonic() < deadline:
            busy = [worker for worker, keys in client.processing().items() if keys]
            if busy:
                time.sleep(0.5)   # mid-job: its kernel is running a notebook
                pids = client.run(os.getpid, workers=busy[:1])
                killed = next(iter(pids.values()))
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.1)
        output, _ = run.communicate(timeout=900)
    assert run.returncode == 0, output[-3000:]
    assert killed is not None, "no worker was ever seen grading"
    assert (tmp_path / "cluster.csv").read_text() == small_class["jobs1"]
    rows = read_csv(tmp_path / "cluster.csv")
    assert [row["student_id"] for row in rows] == sorted(STUDENTS)
