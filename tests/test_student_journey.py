"""A student's whole path, automated: the student repository set up in a fresh virtual environment with its
README's one command, the stub notebook, the typical mistakes (each must get the message that says what to fix,
and never keep the kernel busy), and a correct solution written differently from the reference, which the
notebook, `tito module complete 06` and the grader all accept."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import grading_class
from tito import registry, source

ROOT = Path(__file__).resolve().parent.parent
MODULE = registry.find("06")
NOTEBOOK = MODULE.notebook
BOUND = 120   # seconds any cell, and any `tito module complete` run on a wrong notebook, may take (they need ~10)

# A correct solution in other words than the reference's: for each solution cell, the code for each of its stubs.
ALTERNATIVE = {
    "function": ["self.saved_tensors = tuple(tensors)"],
    "arithmetic-backward": [
        "ga = grad_output if a.requires_grad else None\nreturn ga, (grad_output if b.requires_grad else None)",
        "return tuple(sign * grad_output if t.requires_grad else None for sign, t in ((1, a), (-1, b)))",
        "return tuple(grad_output * other.data if mine.requires_grad else None for mine, other in ((a, b), (b, a)))",
        "inv = 1.0 / b.data\nreturn (grad_output * inv if a.requires_grad else None,\n"
        "        -grad_output * a.data * inv * inv if b.requires_grad else None)",
        "return (np.negative(grad_output) if a.requires_grad else None,)",
    ],
    "matmul-backward": [
        "A2 = A[None, :] if A.ndim == 1 else A\nB2 = B[:, None] if B.ndim == 1 else B\n"
        "if B.ndim == 1:\n    g = np.expand_dims(g, -1)\nif A.ndim == 1:\n    g = np.expand_dims(g, -2)\n"
        "ga = np.matmul(g, np.moveaxis(B2, -1, -2)) if a.requires_grad else None\n"
        "gb = np.matmul(np.moveaxis(A2, -1, -2), g) if b.requires_grad else None\n"
        "if ga is not None and A.ndim == 1:\n    ga = np.squeeze(ga, -2)\n"
        "if gb is not None and B.ndim == 1:\n    gb = np.squeeze(gb, -1)\nreturn ga, gb",
    ],
    "reduction-backward": [
        "g = grad_output if self.keepdims or self.axis is None else np.expand_dims(grad_output, self.axis)\n"
        "return (np.ones_like(x.data) * g,)",
        "return (self._expand(grad_output) * np.full(x.shape, self.out.size / x.data.size),)",
        "winners = (x.data == self._expand(self.out)).astype(np.float64)\n"
        "winners /= winners.sum(axis=self.axis, keepdims=True)\nreturn (winners * self._expand(grad_output),)",
    ],
    "shape-backward": [
        "return (grad_output.reshape(x.data.shape),)",
        "inverse = [0] * len(self.axes)\nfor i, axis in enumerate(self.axes):\n    inverse[axis] = i\n"
        "return (grad_output.transpose(inverse),)",
        "out = np.zeros(x.shape, dtype=np.result_type(x.data, grad_output))\n"
        "np.add.at(out, self.key, grad_output)\nreturn (out,)",
    ],
    "activation-backward": [
        "return (np.where(x.data > 0, grad_output, 0.0),)",
        "return (grad_output * self.out - grad_output * self.out ** 2,)",
        "return (grad_output - grad_output * self.out * self.out,)",
        "xs = np.clip(x.data, -20, 20)\nc = np.sqrt(2 / np.pi)\nth = np.tanh(c * (xs + 0.044715 * xs ** 3))\n"
        "du = c * (1 + 3 * 0.044715 * xs ** 2)\nreturn (grad_output * (0.5 * (1 + th) + 0.5 * x.data * (1 - th * th) * du),)",
        "s = self.out\ndot = (grad_output * s).sum(axis=self.dim, keepdims=True)\nreturn (s * grad_output - s * dot,)",
    ],
    "loss-backward": [
        "diff = pred.data - target.data\nscale = 2.0 * grad_output / diff.size\n"
        "return (scale * diff if pred.requires_grad else None, -scale * diff if target.requires_grad else None)",
        "grad_p = grad_output * (q - t) / (q - q * q) / n * (q == p)\ngrad_t = grad_output * np.log((1 - q) / q) / n",
        "z = logits.data\ne = np.exp(z - z.max(axis=-1, keepdims=True))\nsoft = e / e.sum(axis=-1, keepdims=True)\n"
        "onehot = np.eye(z.shape[-1])[target.data.astype(int)]\n"
        "return (grad_output * (soft - onehot) / z.shape[0] if logits.requires_grad else None, None)",
    ],
    "elementwise-backward": [
        "da = np.where(B == 0, 0.0, B * np.power(A, B - 1))\n"
        "db = np.where((A == 0) & (B >= 0), 0.0, np.power(A, B) * np.log(A))\n"
        "grad_a = grad_output * da if a.requires_grad else None\ngrad_b = grad_output * db if b.requires_grad else None",
        "return (self.out * grad_output,)",
        "return (grad_output * np.reciprocal(x.data),)",
        "return (0.5 * grad_output / self.out,)",
    ],
    "unbroadcast": [
        "extra = grad.ndim - len(shape)\nif extra > 0:\n    grad = grad.sum(axis=tuple(range(extra)))\n"
        "if grad.ndim != len(shape):\n    return grad\n"
        "axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)\n"
        "return grad.sum(axis=axes, keepdims=True) if axes else grad",
    ],
    "backward": [
        "def inputs(t):\n    return [s for s in (t._grad_fn.saved_tensors if t._grad_fn is not None else ()) if _needs(s)]\n"
        "order, seen, stack = [], {id(root)}, [(root, iter(inputs(root)))]\nwhile stack:\n"
        "    node, pending = stack[-1]\n    child = next((c for c in pending if id(c) not in seen), None)\n"
        "    if child is None:\n        stack.pop()\n        order.append(node)\n    else:\n"
        "        seen.add(id(child))\n        stack.append((child, iter(inputs(child))))\nreturn order",
        "for node in topological_order(self)[::-1]:\n    if id(node) not in grads:\n        continue\n"
        "    grad = grads.pop(id(node))\n    fn = node._grad_fn\n"
        "    if fn is None or hasattr(node, '_retains_grad'):\n        _accumulate_grad(node, grad)\n"
        "    if fn is not None:\n        for i, (t, g) in enumerate(zip(fn.saved_tensors, fn.apply(grad))):\n"
        "            if g is None or not _needs(t):\n                continue\n"
        "            g = _input_gradient(fn, i, g, t)\n            grads[id(t)] = g if id(t) not in grads else grads[id(t)] + g",
    ],
    "grad-tools": ["setattr(self, 'grad', None)",
                   "return Tensor(self.data, requires_grad=False, dtype=self.data.dtype)",
                   "setattr(self, '_retains_grad', True)\nreturn self"],
    "enable-autograd": [
        "for name in DIFFERENTIABLE_OPS:\n    op = DIFFERENTIABLE_OPS[name]\n"
        "    setattr(op.owner, op.method, op.record(_pristine(op.owner, op.method), op.rule))\n"
        "for name in _TENSOR_METHODS:\n    _pristine(Tensor, name)\n    setattr(Tensor, name, _TENSOR_METHODS[name])",
    ],
}

RECURSIVE_WALK = ("def visit(node, grad):\n    fn = node._grad_fn\n"
                  "    if fn is None or getattr(node, '_retains_grad', False):\n        _accumulate_grad(node, grad)\n"
                  "    if fn is not None:\n        for i, (t, g) in enumerate(zip(fn.saved_tensors, fn.apply(grad))):\n"
                  "            if g is not None and _needs(t):\n                visit(t, _input_gradient(fn, i, g, t))\n"
                  "visit(self, grads.pop(id(self)))")

# mistake: (grade_id of the cell to change, old text, new text) applied to the reference solution, and what
# `tito module complete 06` must then say
MISTAKES = {
    "swapped-mul": (("arithmetic-backward", "(grad_output * b.data if _needs(a) else None, grad_output * a.data",
                     "(grad_output * a.data if _needs(a) else None, grad_output * b.data"),
                    ["(test-arithmetic-backward)", "MulBackward: gradient for input 0 is wrong at position (",
                     "a's gradient uses b"]),
    "missing-transpose": (("matmul-backward", *grading_class.WRONG_MATMUL),
                          ["(test-matmul-backward)", "MatmulBackward.apply raised ValueError", "hint:",
                           "np.swapaxes(x, -1, -2), not .T"]),
    "dot-T-on-batches": (("matmul-backward", "T = lambda x: np.swapaxes(x, -1, -2)", "T = lambda x: x.T"),
                         ["(test-matmul-backward)", "MatmulBackward", "np.swapaxes(x, -1, -2), not .T"]),
    "unbroadcast-size-1": (("unbroadcast", "if size == 1 and grad.ndim == len(shape) and grad.shape[axis] != 1:",
                            "if False:"),
                           ["(test-unbroadcast)", "should sum axis 1 keeping it"]),
}


def _stubs(cell):
    """(indentation, stub text) of each stub of a solution cell, in order."""
    return [(m.group(1), m.group(0)) for m in re.finditer(rf"^( *){re.escape(source.STUB[0])}\n\1"
                                                          rf"{re.escape(source.STUB[1])}", cell.source, re.M)]


def solve(notebook, answers):
    """Fill the stubs of each solution cell with `answers[grade_id]`, in order."""
    for cell in notebook.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            stubs = _stubs(cell)
            assert len(stubs) == len(answers[gid]), f"{gid}: {len(stubs)} stubs, {len(answers[gid])} answers"
            for (indent, stub), body in zip(stubs, answers[gid]):
                cell.source = cell.source.replace(stub, "\n".join(indent + line for line in body.splitlines()), 1)
    return notebook


def run(command, cwd, timeout=900, **env):
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": "", **env})
    return done, time.monotonic() - started


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """The student repository, set up with the README's one command in a fresh virtual environment."""
    out = tmp_path_factory.mktemp("journey") / "repo"
    done = subprocess.run([sys.executable, "-m", "tito", "release", "--student", str(out)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    readme = (out / "README.md").read_text()
    setup = next(line.strip() for line in readme.splitlines() if "venv" in line and "pip install" in line)
    done = subprocess.run(setup, cwd=out, shell=True, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (out / ".venv" / "bin" / "tito").exists()
    return out


RUN_ALL = """import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=int(sys.argv[2]), allow_errors=True, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(notebook, sys.argv[1])
"""


def run_all(repo, notebook):
    """JupyterLab's Run All, going on after errors, in the student's environment; the executed notebook."""
    write(repo, notebook)
    done, _ = run([str(repo / ".venv" / "bin" / "python"), "-c", RUN_ALL, str(repo / NOTEBOOK), str(BOUND),
                   str(repo / NOTEBOOK.parent)], repo)
    assert done.returncode == 0, done.stderr[-3000:]   # a cell past BOUND seconds raises CellTimeoutError
    return nbformat.read(repo / NOTEBOOK, as_version=4)


def printed(notebook):
    return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


def complete(repo):
    """`tito module complete 06` as the student runs it, in the student's environment."""
    done, seconds = run([str(repo / ".venv" / "bin" / "tito"), "module", "complete", "06"], repo)
    return done.returncode, done.stdout + done.stderr, seconds


def write(repo, notebook):
    nbformat.write(notebook, repo / NOTEBOOK)


def release_notebook(repo):
    """The notebook as released (the tests write over the student's copy: read it from the release)."""
    return nbformat.read(ROOT / NOTEBOOK, as_version=4)


def reference_answers():
    """The reference's solution regions, per solution cell (what a student who followed the text would write)."""
    answers = {}
    for cell in source.load(ROOT / MODULE.source).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            bodies = [body for marker, body in source.regions(cell.source) if marker == source.SOLUTION[0]]
            answers[cell.metadata["nbgrader"]["grade_id"]] = ["\n".join(line[_indent(body):] for line in body)
                                                             for body in bodies]
    return answers


def _indent(lines):
    return min(len(line) - len(line.lstrip()) for line in lines if line.strip())


def test_the_stub_notebook_says_which_exercise_to_do_first(repo):
    write(repo, release_notebook(repo))
    code, output, seconds = complete(repo)
    assert code == 1 and seconds < BOUND, output
    assert "Your notebook stops at cell" in output and "(test-function)" in output, output
    assert "not written yet" in output, output


def test_run_all_on_the_stub_never_hangs_and_demos_say_what_to_finish(repo):
    """JupyterLab's Run All that goes on after errors: every cell ends quickly, and only the tests fail (a given
    cell or a demo never fails because an exercise above is not written)."""
    notebook = run_all(repo, release_notebook(repo))
    def is_test(cell):   # a graded test cell, or the last cell, which runs them all
        return cell.metadata.get("nbgrader", {}).get("grade", False) or "def test_module" in cell.source

    errors = [(i, is_test(c), o.ename) for i, c in enumerate(notebook.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors and all(test for _, test, _ in errors), [e for e in errors if not e[1]]
    assert "(this demo needs exercise 6.2 (backward)" in printed(notebook)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_typical_mistake_gets_its_message(repo, mistake):
    (gid, old, new), expected = MISTAKES[mistake]
    answers = reference_answers()
    answers[gid] = [body.replace(old, new) for body in answers[gid]]
    assert answers[gid] != reference_answers()[gid], f"{mistake}: {old!r} is not in the reference any more"
    write(repo, solve(release_notebook(repo), answers))
    code, output, seconds = complete(repo)
    assert code == 1 and seconds < BOUND, output
    for text in expected:
        assert text in output, f"{mistake}: {text!r} not in\n{output[-3000:]}"
    assert "np.int64" not in output and "<lambda>" not in output


def test_a_recursive_backward_is_caught_without_freezing_the_kernel(repo):
    answers = reference_answers()
    answers["backward"][1] = RECURSIVE_WALK
    notebook = solve(release_notebook(repo), answers)
    write(repo, notebook)
    code, output, seconds = complete(repo)
    assert code == 1 and seconds < BOUND and "(test-backward)" in output and "visit each node once" in output, \
        output
    executed = run_all(repo, notebook)   # Run All with the demos on: the ladder demo must not hang
    assert "your backward visited 1023 nodes of a 10-node ladder" in printed(executed)


def test_a_helper_without_export_is_named(repo):
    answers = reference_answers()
    answers["matmul-backward"] = [body.replace("T = lambda x: np.swapaxes(x, -1, -2)", "T = _swap")
                                  for body in answers["matmul-backward"]]
    notebook = solve(release_notebook(repo), answers)
    index = next(i for i, c in enumerate(notebook.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "matmul-backward")
    notebook.cells.insert(index, nbformat.v4.new_code_cell("def _swap(x):\n    return np.swapaxes(x, -1, -2)"))
    write(repo, notebook)
    code, output, seconds = complete(repo)
    assert code == 1, output
    assert "`_swap` is used by MatmulBackward but its cell" in output and "#| export" in output, output


def test_a_different_correct_solution_passes_everywhere(repo, tmp_path):
    notebook = solve(release_notebook(repo), ALTERNATIVE)
    write(repo, notebook)
    code, output, _ = complete(repo)
    assert code == 0 and "passes its tests" in output, output[-4000:]
    # ... and the grader gives it every point
    course = grading_class.make_course(tmp_path / "course")
    target = tmp_path / "submissions" / "alternative" / "06_autograd" / "autograd.ipynb"
    target.parent.mkdir(parents=True)
    target.write_bytes((repo / NOTEBOOK).read_bytes())
    done = subprocess.run([sys.executable, "-m", "tito", "grade", "06", "--submissions", str(tmp_path / "submissions"),
                           "--output", str(tmp_path / "grades.csv")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "TITO_COURSE": str(course)}, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    header, row = (tmp_path / "grades.csv").read_text().splitlines()
    row = dict(zip(header.split(","), row.split(",")))
    assert (row["status"], row["score"]) == ("ok", row["max_score"]), row
