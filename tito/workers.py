"""Where the submissions run: in this process, or on Dask workers.

    Workers(jobs=1)                 # tito's own process, one submission after another
    Workers(jobs=4)                 # a local Dask cluster of 4 worker processes
    Workers(scheduler="tcp://host:8786")   # a Dask cluster that is already running (Slurm, Kubernetes, ...)

Each submission is one independent Dask task, `tito.autograde.execute(job)`, whose result is the executed
notebook. A worker that dies mid-task (a lost machine, a killed process) has its task retried on another
worker by the Dask scheduler; a task that kills every worker it meets (3 times, Dask's allowed-failures)
comes back as an error row, so a run never loses a row.
"""
import logging
from itertools import islice

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
    TimeRemainingColumn

from .autograde import execute


class Workers:
    def __init__(self, jobs=1, scheduler=None):
        self.jobs, self.scheduler = max(1, jobs), scheduler
        self.client = self.cluster = None

    def __enter__(self):
        if self.scheduler or self.jobs > 1:
            import dask
            from distributed import Client, LocalCluster

            if self.scheduler:
                self.client = Client(self.scheduler, timeout="30s")
            else:
                # Dask's statistical profiler samples every worker's stack 100 times a second: a few percent of
                # the CPU that grading needs, for a dashboard nobody opens here
                with dask.config.set({"distributed.worker.profile.enabled": False}):
                    self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                                dashboard_address=None, memory_limit=0, silence_logs=logging.CRITICAL)
                self.client = Client(self.cluster)
        return self

    def __exit__(self, *exc):
        if self.cluster is not None:   # workers first: a worker must not outlive its scheduler, or it complains
            self.cluster.close()
        if self.client is not None:
            self.client.close()
        return False

    def run(self, jobs, total, console):
        """Yield (name, result) as each of the `total` jobs, an iterable of (name, job), finishes.

        Jobs are taken from the iterable only as workers free up, so preparing them overlaps with grading."""
        progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[running]} running, {task.fields[failed]} failed"),
                            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=console)
        with progress:
            task = progress.add_task("", total=total, running=0, failed=0)
            results = self._here(jobs, progress, task) if self.client is None else self._dask(jobs, progress, task)
            failed = 0
            for name, result in results:
                failed += "error" in result
                progress.update(task, advance=1, failed=failed)
                yield name, result

    def _here(self, jobs, progress, task):
        progress.update(task, running=1)
        for name, job in jobs:
            yield name, job if "error" in job else execute(job)

    def _dask(self, jobs, progress, task):
        from distributed import as_completed

        capacity = 2 * max(1, sum(w["nthreads"] for w in self.client.scheduler_info()["workers"].values()))
        pending, names, finished, ready = iter(jobs), {}, as_completed(), []

        def submit(count):
            for name, job in islice(pending, count):
                if "error" in job:   # it failed before it could be sent: already its own result
                    ready.append((name, job))
                    continue
                future = self.client.submit(execute, job, pure=False, key=f"tito-grade-{name}-{len(names)}")
                names[future.key] = name
                finished.add(future)

        submit(capacity)
        while ready or not finished.is_empty():
            if ready:
                yield ready.pop()
                submit(1)
                continue
            future = next(finished)
            try:
                result = future.result()
            except Exception as error:   # e.g. KilledWorker: the task killed every worker it was given
                result = {"error": f"{type(error).__name__}: {error}"}
            future.release()
            progress.update(task, running=sum(len(keys) for keys in self.client.processing().values()))
            yield names[future.key], result
            submit(1)
