"""tinytorch benchmark suite: `tito bench` (or `make bench`, or `python benchmarks/run.py`).

Every figure is the median of repeated runs after a warm-up; every ratio is taken against a baseline measured
in the same run by this file (hand-written NumPy, the bare GEMMs, the recursive reference design, and, when
they are installed, micrograd, taking turns with tinytorch, and PyTorch, in its own process with the same
thread count).

    python benchmarks/run.py            # full run (about 2-3 minutes), table + benchmarks/results/latest.json
    python benchmarks/run.py --quick    # every row with tiny sizes and repeats: checks that it works (CI)
    python benchmarks/run.py --json out.json
"""
import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SIZES = (784, 512, 256, 10)
BATCHES = (64, 256)
LOSSES = ("mse", "ce")
OPS = 1000                                    # the per-op chain
ENV_KNOBS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS")

# The rows every run prints (the quick run too, with smaller sizes); tests/test_bench.py checks them.
ROW_IDS = (
    [f"mlp.{loss}.b{b}.{impl}" for loss in LOSSES for b in BATCHES
     for impl in ("tinytorch", "numpy", "gemms", "reference", "torch")]
    + ["perop.forward", "perop.backward", "perop.total", "perop.reference",
       "perop.micrograd", "perop.torch",
       "chain.small", "chain.large", "chain.reference.small", "chain.reference.large",
       "ladder.25", "ladder.60", "ladder.reference.25", "ladder.reference.60",
       "ladder.micrograd.60", "ladder.torch.60"]
    + [f"memory.{loss}.b{b}" for loss in LOSSES for b in BATCHES]
    + ["tooling.export_release", "tooling.grading"]
)


# ---- timing helpers ----------------------------------------------------------------------------------
def median_times(fns, repeats, warmup, calls=5):
    """Median seconds per call of each callable, measured in a steady state like a training loop's: each
    sample times `calls` back-to-back calls. The callables take turns round by round, so drift hits all.

    No gc.collect() between samples: a collection before every call left the BLAS threads asleep and the
    caches cold, which made the eight GEMMs of a batch-64 step measure 2.7 ms instead of 1.4 ms and buried
    the engine's own cost under that noise.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[i].append((time.perf_counter() - start) / calls)
    return [statistics.median(s) for s in samples]


def timed_phases(build, run, repeats, warmup):
    """Median seconds of `run(build())`, timing only `run` (build is the untimed set-up)."""
    samples = []
    for k in range(warmup + repeats):
        state = build()
        gc.collect()
        start = time.perf_counter()
        run(state)
        if k >= warmup:
            samples.append(time.perf_counter() - start)
        del state
    return statistics.median(samples)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        pools = threadpool_info()
    except ImportError:
        pools = []
    blas = [p for p in pools if p.get("user_api") == "blas"] or pools
    info = {"numpy": np.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "env": {k: os.environ[k] for k in ENV_KNOBS if k in os.environ},
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    if blas:
        p = blas[0]
        info.update(blas=f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')})",
                    threads=p.get("num_threads"))
    else:
        info.update(blas="unknown (threadpoolctl not installed)", threads=None)
    return info


# ---- the network, three ways ---------------------------------------------------------------------------
def make_data(batch, loss, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, SIZES[-1], batch)
    target = np.eye(SIZES[-1], dtype=np.float32)[labels] if loss == "mse" else labels
    return x, target


def make_weights(seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        k = np.sqrt(1.0 / fan_in)
        params += [rng.uniform(-k, k, (fan_in, fan_out)).astype(np.float32),
                   rng.uniform(-k, k, fan_out).astype(np.float32)]
    return params


def numpy_step(params, x, target, loss):
    """Forward and backward of the MLP written by hand: the engine's real competitor. Returns the grads."""
    W1, b1, W2, b2, W3, b3 = params
    z1 = x @ W1
    z1 += b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2
    z2 += b2
    h2 = np.maximum(z2, 0)
    out = h2 @ W3
    out += b3
    if loss == "mse":
        diff = out - target
        value = np.mean(diff ** 2)
        g = diff * (2 / diff.size)
    else:
        shifted = out - out.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(target))
        value = -np.mean(shifted[rows, target] - np.log(total[:, 0]))
        g = e / total
        g[rows, target] -= 1
        g /= len(target)
    dW3, db3 = h2.T @ g, g.sum(axis=0)
    d2 = g @ W3.T
    d2 *= z2 > 0
    dW2, db2 = h1.T @ d2, d2.sum(axis=0)
    d1 = d2 @ W2.T
    d1 *= z1 > 0
    dW1, db1 = x.T @ d1, d1.sum(axis=0)
    return value, (dW1, db1, dW2, db2, dW3, db3)


def gemm_floor(batch):
    """The eight float32 GEMMs of one step (3 forward, 5 backward) into preallocated outputs: the floor."""
    rng = np.random.default_rng(1)
    d0, d1, d2, d3 = SIZES
    m = lambda *s: rng.standard_normal(s).astype(np.float32)
    x, W1, W2, W3 = m(batch, d0), m(d0, d1), m(d1, d2), m(d2, d3)
    h1, h2, out, g = m(batch, d1), m(batch, d2), m(batch, d3), m(batch, d3)
    o = [np.empty(s, np.float32) for s in ((batch, d1), (batch, d2), (batch, d3), (d2, d3), (batch, d2),
                                            (d1, d2), (batch, d1), (d0, d1))]

    def step():
        np.matmul(x, W1, out=o[0]); np.matmul(h1, W2, out=o[1]); np.matmul(h2, W3, out=o[2])
        np.matmul(h2.T, g, out=o[3]); np.matmul(g, W3.T, out=o[4]); np.matmul(h1.T, o[4], out=o[5])
        np.matmul(o[4], W2.T, out=o[6]); np.matmul(x.T, o[6], out=o[7])
    return step


def tinytorch_mlp(params, loss):
    from tinytorch import Linear, ReLU, Sequential, MSELoss, CrossEntropyLoss
    layers = [Linear(a, b) for a, b in zip(SIZES[:-1], SIZES[1:])]
    for layer, (w, b) in zip(layers, zip(params[::2], params[1::2])):
        layer.weight.data, layer.bias.data = w.copy(), b.copy()
    model = Sequential(layers[0], ReLU(), layers[1], ReLU(), layers[2])
    return model, (MSELoss() if loss == "mse" else CrossEntropyLoss())


def tinytorch_step(model, loss_fn, x, target, backward=None):
    from tinytorch import Tensor
    for p in model.parameters():
        p.grad = None
    value = loss_fn(model(Tensor(x)), target)
    (backward or type(value).backward)(value)
    return value


# ---- rows ------------------------------------------------------------------------------------------------
class Rows:
    def __init__(self):
        self.rows = []

    def add(self, id, group, case, value, unit, ratio=None, vs=None, target=None, ok=None, note=""):
        self.rows.append(dict(id=id, group=group, case=case, value=value, unit=unit, ratio=ratio, vs=vs,
                              target=target, ok=ok, note=note))


def bench_mlp(rows, cfg, extern):
    from reference_backward import recursive_backward
    params = make_weights()
    for loss in LOSSES:
        for batch in BATCHES:
            x, target = make_data(batch, loss)
            model, loss_fn = tinytorch_mlp(params, loss)
            # same numbers both ways (a failed check here would make every timing meaningless)
            ref_value, ref_grads = numpy_step(params, x, target, loss)
            value = tinytorch_step(model, loss_fn, x, target)
            assert np.allclose(value.data, ref_value, rtol=1e-4), (loss, batch, value.data, ref_value)
            for p, g in zip(model.parameters(), ref_grads):
                assert np.allclose(p.grad, g, rtol=1e-3, atol=1e-5), (loss, batch, "gradients differ")
            floor = gemm_floor(batch)
            t_tt, t_np, t_gemm, t_ref = median_times([
                lambda: tinytorch_step(model, loss_fn, x, target),
                lambda: numpy_step(params, x, target, loss),
                floor,
                lambda: tinytorch_step(model, loss_fn, x, target, recursive_backward),
            ], cfg.mlp_repeats, cfg.warmup)
            key, case = f"mlp.{loss}.b{batch}", f"{loss.upper()} batch {batch}"
            ms = lambda t: t * 1e3
            rows.add(f"{key}.tinytorch", "MLP step 784-512-256-10", f"{case}: tinytorch", ms(t_tt), "ms",
                     t_tt / t_np, "numpy", 1.05, t_tt / t_np <= 1.05,
                     f"{t_tt / t_gemm:.2f}x GEMMs (target 1.25: {'ok' if t_tt / t_gemm <= 1.25 else 'MISS'})")
            rows.add(f"{key}.numpy", "MLP step 784-512-256-10", f"{case}: hand-written NumPy", ms(t_np), "ms",
                     t_np / t_gemm, "gemms")
            rows.add(f"{key}.gemms", "MLP step 784-512-256-10", f"{case}: bare 8 GEMMs (floor)", ms(t_gemm),
                     "ms", 1.0, "gemms")
            rows.add(f"{key}.reference", "MLP step 784-512-256-10", f"{case}: recursive reference backward",
                     ms(t_ref), "ms", t_ref / t_np, "numpy")
            t = extern.get("torch", {}).get(f"mlp.{loss}.b{batch}")
            rows.add(f"{key}.torch", "MLP step 784-512-256-10", f"{case}: PyTorch",
                     None if t is None else ms(t), "ms", None if t is None else t / t_np, "numpy",
                     note="" if t is not None else extern.get("torch", {}).get("error", "not installed"))


def perop_chain(Tensor, n):
    x = Tensor(np.array([0.5], np.float32), requires_grad=True)
    y = x
    for _ in range(n // 2):
        y = y * 1.0001
        y = y + 0.0001
    return x, y


def bench_perop(rows, cfg, extern):
    from tinytorch import Tensor
    from reference_backward import recursive_backward, run_deep
    n = cfg.ops
    t_fwd = median_times([lambda: perop_chain(Tensor, n)], cfg.perop_repeats, cfg.warmup)[0]
    t_bwd = timed_phases(lambda: perop_chain(Tensor, n)[1], lambda y: y.backward(), cfg.perop_repeats,
                         cfg.warmup)
    t_ref = timed_phases(lambda: perop_chain(Tensor, n)[1],
                         lambda y: run_deep(lambda: recursive_backward(y), n), cfg.perop_repeats, cfg.warmup)
    us = lambda t: t / n * 1e6
    # forward+backward of tinytorch and micrograd, taking turns in this process (micrograd has no thread
    # pool to fight over the cores), so that their ratio survives a machine whose speed drifts
    totals = [lambda: perop_chain(Tensor, n)[1].backward()]
    if importable("micrograd"):
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * n))   # micrograd's topological sort recurses
        totals.append(lambda: micrograd_chain(n).backward())
    totals = [us(t) for t in median_times(totals, cfg.perop_repeats, cfg.warmup, calls=1)]
    total, mg = totals[0], (totals[1] if len(totals) > 1 else None)
    th = extern.get("torch", {}).get("perop")
    group = f"per-op overhead, {n}-op chain, 1 element"
    rows.add("perop.forward", group, "tinytorch forward", us(t_fwd), "us/op")
    rows.add("perop.backward", group, "tinytorch backward", us(t_bwd), "us/op")
    notes = []
    if mg:
        notes.append(f"{total / mg:.2f}x micrograd (target 0.9: {'ok' if total / mg <= 0.9 else 'MISS'})")
    if th:
        notes.append(f"{total / th:.2f}x PyTorch (target 0.5: {'ok' if total / th <= 0.5 else 'MISS'})")
    ok = None if not (mg or th) else ((not mg or total / mg <= 0.9) and (not th or total / th <= 0.5))
    rows.add("perop.total", group, "tinytorch forward+backward", total, "us/op",
             total / mg if mg else (total / th if th else None), "micrograd" if mg else ("torch" if th else None),
             0.9 if mg else None, ok, "; ".join(notes))
    rows.add("perop.reference", group, "recursive reference backward (+ our forward)",
             us(t_fwd) + us(t_ref), "us/op", (us(t_fwd) + us(t_ref)) / total, "tinytorch")
    for name, t in (("micrograd", mg), ("torch", th)):
        rows.add(f"perop.{name}", group, f"{'PyTorch' if name == 'torch' else 'micrograd'} forward+backward",
                 t, "us/op", None if t is None else t / total, "tinytorch",
                 note="" if t else ("not installed" if name == "micrograd" else
                                    extern.get(name, {}).get("error", "not installed")))


def importable(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def micrograd_chain(n):
    """The per-op chain in micrograd (plain Python floats): the pure-Python engine to beat."""
    from micrograd.engine import Value
    y = Value(0.5)
    for _ in range(n // 2):
        y = y * 1.0001
        y = y + 0.0001
    return y


def chain(Tensor, n):
    one = Tensor(np.ones(1, np.float32))
    x = Tensor(np.zeros(1, np.float32), requires_grad=True)
    y = x
    for _ in range(n):
        y = y + one
    return x, y


def bench_graph(rows, cfg, extern):
    from tinytorch import Tensor
    from reference_backward import recursive_backward, run_deep
    small, large = cfg.chain
    group = "graph scale"
    times = {}
    for label, n, repeats in (("small", small, 2 * cfg.chain_repeats + 1), ("large", large, cfg.chain_repeats)):
        # one graph per size (building a million nodes takes seconds): our backward `repeats` times, then
        # the recursive reference once on the same graph (n nested Python frames, in a big-stack thread)
        x, y = chain(Tensor, n)
        samples, error = [], ""
        for _ in range(repeats):
            x.grad = None
            gc.collect()
            start = time.perf_counter()
            try:
                y.backward()
            except Exception as exc:     # a failure is a result here (e.g. RecursionError, MemoryError)
                error = f"FAILED: {type(exc).__name__}: {exc}"[:100]
                break
            samples.append(time.perf_counter() - start)
        times[label] = None if error else statistics.median(samples)
        ratio = None
        if label == "large" and times["large"] and times["small"]:
            ratio = times["large"] / times["small"]
        linear = large / small
        rows.add(f"chain.{label}", group, f"chain backward, {n:,} nodes", None if not times[label] else
                 times[label] * 1e3, "ms", ratio, f"chain {small:,}" if ratio else None,
                 1.2 * linear if label == "large" else None,
                 None if label == "small" else (ratio is not None and ratio <= 1.2 * linear),
                 error or (f"{times[label] / n * 1e6:.2f} us/node" +
                           (f"; linear means {linear:g}" if label == "large" else "")))
        x.grad = None
        gc.collect()
        start = time.perf_counter()
        try:
            run_deep(lambda: recursive_backward(y), n)
            t_ref, note = time.perf_counter() - start, ""
        except Exception as exc:
            t_ref, note = None, f"FAILED: {exc}"[:100]
        rows.add(f"chain.reference.{label}", group, f"recursive reference, chain {n:,} nodes",
                 None if t_ref is None else t_ref * 1e3, "ms",
                 None if not (t_ref and times[label]) else t_ref / times[label], "tinytorch", note=note)
        del x, y
        gc.collect()
    for rungs in (25, 60):
        x = Tensor(np.ones(1, np.float32), requires_grad=True)
        h = x
        for _ in range(rungs):
            h = h + h

        def run():
            x.grad = None
            h.backward()
        t = median_times([run], cfg.ladder_repeats, cfg.warmup)[0]
        assert x.grad[0] == 2.0 ** rungs
        target = 1e-3 if rungs == 60 else None
        rows.add(f"ladder.{rungs}", group, f"h = h + h ladder, {rungs} rungs: backward", t * 1e6, "us",
                 target=None if target is None else 1000.0, ok=None if target is None else t < target)
        # the reference makes 2**rungs calls: time a small ladder, extrapolate, run only if it is quick
        estimate = reference_ladder_estimate(Tensor)
        predicted = estimate * 2.0 ** rungs
        if predicted <= cfg.reference_budget:
            x.grad = None
            start = time.perf_counter()
            recursive_backward(h)
            t_ref = time.perf_counter() - start
            rows.add(f"ladder.reference.{rungs}", group, f"recursive reference, ladder {rungs}", t_ref * 1e6,
                     "us", t_ref / t, "tinytorch")
        else:
            rows.add(f"ladder.reference.{rungs}", group, f"recursive reference, ladder {rungs}", None, "us",
                     note=f"skipped: 2**{rungs} calls, predicted {fmt_seconds(predicted)} "
                          f"(> {cfg.reference_budget:g} s budget)")
    t = None
    if importable("micrograd"):
        from micrograd.engine import Value
        h = Value(1.0)
        for _ in range(60):
            h = h + h
        t = timed_phases(lambda: None, lambda _: h.backward(), cfg.ladder_repeats, cfg.warmup)
    rows.add("ladder.micrograd.60", group, "micrograd, ladder 60", None if t is None else t * 1e6, "us",
             note="" if t else "not installed")
    t = extern.get("torch", {}).get("ladder60")
    rows.add("ladder.torch.60", group, "PyTorch, ladder 60", None if t is None else t * 1e6, "us",
             note="" if t else extern.get("torch", {}).get("error", "not installed"))


def fmt_seconds(s):
    for unit, size in (("years", 3.15e7), ("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:,.0f} {unit}"
    return f"{s:.1f} s"


def reference_ladder_estimate(Tensor, rungs=12):
    """Seconds per reference backward call, measured on a 2**12-path ladder."""
    from reference_backward import recursive_backward
    x = Tensor(np.ones(1, np.float32), requires_grad=True)
    h = x
    for _ in range(rungs):
        h = h + h
    start = time.perf_counter()
    recursive_backward(h)
    return (time.perf_counter() - start) / 2.0 ** (rungs + 1)


def bench_memory(rows, cfg):
    params = make_weights()
    for loss in LOSSES:
        for batch in BATCHES:
            x, target = make_data(batch, loss)
            model, loss_fn = tinytorch_mlp(params, loss)
            peaks = []
            for step in (lambda: tinytorch_step(model, loss_fn, x, target),
                         lambda: numpy_step(params, x, target, loss)):
                step()                      # warm-up: caches, lazily created objects
                for p in model.parameters():
                    p.grad = None
                gc.collect()
                tracemalloc.start()
                result = step()
                peaks.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
                del result
            ratio = peaks[0] / peaks[1]
            rows.add(f"memory.{loss}.b{batch}", "peak memory of an MLP step (tracemalloc)",
                     f"{loss.upper()} batch {batch}: tinytorch (NumPy step: {peaks[1] / 2**20:.2f} MiB)",
                     peaks[0] / 2**20, "MiB", ratio, "numpy", 1.10, ratio <= 1.10)


def bench_tooling(rows, cfg):
    group = "course tooling"
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "course", "book", "__pycache__", "*.egg-info",
                                    ".pytest_cache", ".hypothesis", "results")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(ROOT, copy, ignore=ignore)
        (copy / "course").mkdir()
        if (ROOT / "course" / "nbgrader_config.py").exists():
            shutil.copy(ROOT / "course" / "nbgrader_config.py", copy / "course")
        env = dict(os.environ, PYTHONPATH=str(copy))
        start = time.perf_counter()
        error = ""
        which = ["01"] if cfg.quick else ["--all"]    # quick: the smallest module, to check the row works
        for command in (["export", *which], ["release", *which]):
            done = subprocess.run([sys.executable, "-m", "tito", *command], cwd=copy, env=env,
                                  capture_output=True, text=True)
            if done.returncode:
                error = f"FAILED: tito {' '.join(command)}: {(done.stderr or done.stdout).strip()[-150:]}"
                break
        elapsed = time.perf_counter() - start
    rows.add("tooling.export_release", group,
             f"clean `tito export {which[0]}` + `tito release {which[0]}` (temp copy)",
             None if error else elapsed, "s", note=error)
    args = ["--quick"]      # two submissions: the full class of benchmarks/grading.py takes minutes
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grading.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    lines = [line.strip() for line in done.stdout.strip().splitlines() if line.strip()]
    rates = [line for line in lines if "submissions/s" in line]
    best = None
    for line in rates:     # "--jobs 2:   12.3 s   0.16 submissions/s"
        try:
            value = float(line.split("submissions/s")[0].split()[-1])
            best = value if best is None else max(best, value)
        except ValueError:
            pass
    rows.add("tooling.grading", group, f"module-06 grading throughput (benchmarks/grading.py {' '.join(args)})",
             best, "subm/s" if best is not None else "", ok=None if done.returncode == 0 else False,
             note="; ".join(" ".join(line.split()) for line in (rates or lines[-1:])) if done.returncode == 0
             else f"FAILED (exit {done.returncode}): {done.stderr.strip()[-150:]}")


# ---- PyTorch, in its own process ---------------------------------------------------------------------------
def external(name, cfg, threads):
    """Run this file as `--worker name` in a subprocess with the same BLAS/OpenMP thread count."""
    probe = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
    if probe.returncode:
        return {"error": f"not installed ({name} is not importable)"}
    env = dict(os.environ)
    if threads:
        for knob in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[knob] = str(threads)
    args = [sys.executable, __file__, "--worker", name, "--threads", str(threads or 0)]
    if cfg.quick:
        args.append("--quick")
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
    if done.returncode:
        return {"error": f"FAILED: {done.stderr.strip()[-150:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(name, cfg, threads):
    """PyTorch's rows, in this separate process (its thread pool must not share the process with NumPy's)."""
    import torch
    out = {}
    if threads:
        torch.set_num_threads(threads)
    out["threads"] = torch.get_num_threads()
    params = make_weights()
    for loss in LOSSES:
        for batch in BATCHES:
            x, target = make_data(batch, loss)
            ps = [torch.tensor(p, requires_grad=True) for p in params]
            tx = torch.tensor(x)
            tt = torch.tensor(target) if loss == "mse" else torch.tensor(target, dtype=torch.long)

            def step():
                for p in ps:
                    p.grad = None
                h = torch.relu(tx @ ps[0] + ps[1])
                h = torch.relu(h @ ps[2] + ps[3])
                out_ = h @ ps[4] + ps[5]
                value = (torch.nn.functional.mse_loss(out_, tt) if loss == "mse"
                         else torch.nn.functional.cross_entropy(out_, tt))
                value.backward()
            out[f"mlp.{loss}.b{batch}"] = median_times([step], cfg.mlp_repeats, cfg.warmup)[0]

    def chain_():
        x = torch.tensor([0.5], requires_grad=True)
        y = x
        for _ in range(cfg.ops // 2):
            y = y * 1.0001
            y = y + 0.0001
        return y
    out["perop"] = median_times([lambda: chain_().backward()], cfg.perop_repeats, cfg.warmup, calls=1)[0] \
        / cfg.ops * 1e6
    h = torch.ones(1, requires_grad=True)
    for _ in range(60):
        h = h + h
    out["ladder60"] = timed_phases(lambda: None, lambda _: h.backward(retain_graph=True),
                                   cfg.ladder_repeats, cfg.warmup)
    print(json.dumps(out))


# ---- output --------------------------------------------------------------------------------------------
def fmt(value, unit):
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else (f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}")


def print_table(rows, info, elapsed, quick):
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        Console = None
    title = (f"tinytorch benchmarks{' (QUICK: tiny sizes, timings meaningless)' if quick else ''} | "
             f"BLAS {info['blas']}, {info['threads']} threads | numpy {info['numpy']} | Python {info['python']}"
             f" | {info['cpu_count']} CPUs, load average {info['load_average']:.1f} at start")
    env = ", ".join(f"{k}={v}" for k, v in info["env"].items()) or "no OPENBLAS_*/OMP_* variables set"
    header = ("group", "case", "value", "unit", "ratio", "vs", "target", "ok", "note")
    body = []
    for r in rows:
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        body.append((r["group"], r["case"], fmt(r["value"], r["unit"]), r["unit"],
                     "" if r["ratio"] is None else f"{r['ratio']:.2f}x", r["vs"] or "",
                     "" if r["target"] is None else f"{r['target']:g}", ok, r["note"]))
    if Console is None:
        print(title)
        for line in body:
            print(" | ".join(line))
    else:
        table = Table(title=title, caption=f"{env}; total {elapsed:.0f} s; medians after warm-up")
        for name in header:
            table.add_column(name, justify="right" if name in ("value", "ratio", "target") else "left",
                             overflow="fold")
        previous = None
        for line in body:
            table.add_row(*(("" if line[0] == previous else line[0]),) + line[1:])
            previous = line[0]
        Console(width=200).print(table)


class Config:
    def __init__(self, quick):
        self.quick = quick
        self.warmup = 1 if quick else 3
        self.mlp_repeats = 2 if quick else 15
        self.ops = 20 if quick else OPS
        self.perop_repeats = 2 if quick else 15
        self.chain = (1_000, 10_000) if quick else (100_000, 1_000_000)
        self.chain_repeats = 1 if quick else 3
        self.ladder_repeats = 3 if quick else 50
        self.reference_budget = 0.5 if quick else 3.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes and repeats: check that every row works")
    p.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    p.add_argument("--worker", choices=("torch",), help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0,
                   help="limit the BLAS to this many threads here and in the PyTorch/micrograd processes "
                        "(default: the BLAS's own setting); 1 gives steadier figures on a busy machine")
    args = p.parse_args(argv)
    cfg = Config(args.quick)
    if args.worker:
        return worker(args.worker, cfg, args.threads)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)     # stays in effect for this process
    start = time.perf_counter()
    info = blas_info()
    extern = {"torch": external("torch", cfg, info["threads"])}
    rows = Rows()
    bench_mlp(rows, cfg, extern)
    bench_perop(rows, cfg, extern)
    bench_graph(rows, cfg, extern)
    bench_memory(rows, cfg)
    bench_tooling(rows, cfg)
    elapsed = time.perf_counter() - start
    missing = set(ROW_IDS) - {r["id"] for r in rows.rows}
    assert not missing, f"rows missing: {sorted(missing)}"
    print_table(rows.rows, info, elapsed, args.quick)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"quick": args.quick, "machine": info, "seconds": elapsed, "rows": rows.rows,
                                "external": extern}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
