"""Author-only: run the literate module 06 with common wrong rules and expect its own tests to catch them.

Each mutant is the source with one solution region changed. It runs twice as a script: as the student sees
it (hidden tests removed: the visible tests must catch the bug, with a message naming it) and as graded (the
hidden tests re-inserted)."""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "06_autograd" / "06_autograd.py"
HIDDEN = re.compile(r"\n[ \t]*### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", re.S)


# ---------------------------------------------------------------------------------------------------------
# mutation tests: the module's own tests must catch common wrong rules
# ---------------------------------------------------------------------------------------------------------
SOLUTION = re.compile(r"(### BEGIN SOLUTION\n)(.*?)(\n[ \t]*### END SOLUTION)", re.S)


def mutate(source, grade_id, old, new):
    """Replace, in the solution regions of the cell `grade_id`, the region holding `old` by its text with
    `old` -> `new` (`old` = None: replace every region of the cell with `new`)."""
    header = re.search(r'^# %%.*"grade_id": "' + re.escape(grade_id) + r'".*$', source, re.M)
    assert header, grade_id
    end = source.find("\n# %%", header.end())
    cell = source[header.end():end]

    def swap(match):
        body = match.group(2)
        if old is None:
            indent = re.match(r"[ \t]*", body).group(0)
            body = "\n".join(indent + line for line in new.splitlines())
        elif old in body:
            body = body.replace(old, new)
        return match.group(1) + body + match.group(3)

    mutated = SOLUTION.sub(swap, cell)
    assert mutated != cell, f"mutation {old!r} did not apply in cell {grade_id}"
    return source[:header.end()] + mutated + source[end:]


MUTATIONS = {   # name: (grade_id, old, new, the test that must fail)
    "forgot-unbroadcast": ("unbroadcast", None, "return grad", "test_unit_unbroadcast"),
    "matmul-swapped": ("matmul-backward", "grad_a = g @ T(B)", "grad_a = T(B) @ g", "test_unit_matmul_backward"),
    "matmul-dotT": ("matmul-backward", None,
                    "return (g @ B.T if _needs(a) else None, A.T @ g if _needs(b) else None)",
                    "test_unit_matmul_backward"),
    "mul-swapped": ("arithmetic-backward", "grad_output * b.data if _needs(a)", "grad_output * a.data if _needs(a)",
                    "test_unit_arithmetic_backward"),
    "sub-sign": ("arithmetic-backward", "-grad_output if _needs(b)", "grad_output if _needs(b)",
                 "test_unit_arithmetic_backward"),
    "div-sign": ("arithmetic-backward", "grad_b = -grad_output", "grad_b = grad_output",
                 "test_unit_arithmetic_backward"),
    "softmax-diagonal": ("activation-backward", "return (s * (grad_output - np.sum(grad_output * s, axis=self.dim, keepdims=True)),)",
                         "return (grad_output * s * (1 - s),)", "test_unit_activation_backward"),
    "overwrite-grad": ("backward", "_accumulate_grad(node, grad)", "node.grad = grad", "test_unit_backward"),
    "overwrite-incoming": ("backward", "grads[id(t)] + g if id(t) in grads else g", "g", "test_unit_backward"),
    "no-unbroadcast": ("backward", "g = _input_gradient(fn, i, g, t)", "pass", "test_unit_backward"),
    "recursion-no-order": ("backward", "for node in reversed(topological_order(self)):",
                           "for node in topological_order(self):", "test_unit_backward"),
    "missing-wiring": ("enable-autograd", "for op in DIFFERENTIABLE_OPS.values():",
                       "for op in list(DIFFERENTIABLE_OPS.values())[:-8]:", "test_unit_enable_autograd"),
    "tanh-not-wired": ("enable-autograd", "for op in DIFFERENTIABLE_OPS.values():",
                       "for op in [op for op in DIFFERENTIABLE_OPS.values() if op.owner is not Tanh]:",
                       "test_unit_enable_autograd"),
    "max-no-share": ("reduction-backward", "share = mask / mask.sum(axis=self.axis, keepdims=True, dtype=grad_output.dtype)",
                     "share = mask", "test_unit_reduction_backward"),
    "slice-no-add-at": ("shape-backward", "np.add.at(grad, self.key, grad_output)",
                        "grad[self.key] = grad_output", "test_unit_shape_backward"),
    "ce-no-batch-mean": ("loss-backward", "grad_output * probs / batch", "grad_output * probs",
                         "test_unit_loss_backward"),
    "bce-slope-where-flat": ("loss-backward", "np.where(p == q, grad_output * (q - t) / (q * (1 - q)) / n, 0.0)",
                             "grad_output * (q - t) / (q * (1 - q)) / n", "test_unit_loss_backward"),
    "bce-target-sign": ("loss-backward", "(np.log(1 - q) - np.log(q))", "(np.log(q) - np.log(1 - q))",
                        "test_unit_loss_backward"),
    "pow-exponent-no-log": ("elementwise-backward", "A ** B * np.log(A)", "A ** B",
                            "test_unit_elementwise_backward"),
    "pow-edge-nan": ("elementwise-backward", "np.where(B == 0, 0.0, B * A ** (B - 1))", "B * A ** (B - 1)",
                     "test_unit_elementwise_backward"),
    "log-sign": ("elementwise-backward", "grad_output / x.data", "-grad_output / x.data",
                 "test_unit_elementwise_backward"),
}


@pytest.fixture(scope="module")
def mutation_runs(tmp_path_factory):
    """Run every mutated module, as many at a time as there are cores, demos off (only the tests matter)."""
    source = SOURCE.read_text(encoding="utf-8")
    folder = tmp_path_factory.mktemp("mutants")
    variants = {name: mutate(source, *spec[:3]) for name, spec in MUTATIONS.items()}
    variants["stub"] = SOLUTION.sub(lambda m: m.group(1) + re.match(r"[ \t]*", m.group(2)).group(0)
                                    + "raise NotImplementedError()" + m.group(3), source)
    # a notebook kernel where the reference engine was switched on first (`from tinytorch import Tensor`):
    # the student's (wrong) enable_autograd must still be the one graded
    variants["missing-wiring-after-reference"] = "import tinytorch\ntinytorch.Tensor\n" + variants["missing-wiring"]
    variants.update({f"{name}-visible": HIDDEN.sub("", variants[name]) for name in MUTATIONS})

    def run(name):
        path = folder / f"{name}.py"
        path.write_text(variants[name], encoding="utf-8")
        done = subprocess.run([sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=folder, timeout=900,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TITO_DEMOS": "0"})
        return done.stdout, done.returncode

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        return dict(zip(variants, pool.map(run, variants)))


@pytest.mark.parametrize("seen_by", ["graded", "visible"])
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_caught_by_the_module(mutation_runs, name, seen_by):
    output, code = mutation_runs[name if seen_by == "graded" else f"{name}-visible"]
    expected = MUTATIONS[name][3]
    assert code != 0, f"mutation {name} was not caught by the {seen_by} tests: the module ran to the end"
    assert expected in output, f"mutation {name}: expected {expected} to fail; output:\n{output[-2000:]}"


def test_stub_fails_even_with_the_reference_package(mutation_runs):
    output, code = mutation_runs["stub"]
    assert code != 0 and "NotImplementedError" in output
    assert (ROOT / "tinytorch" / "core" / "autograd.py").exists()


def test_wrong_code_is_graded_even_after_the_reference_engine_was_enabled(mutation_runs):
    output, code = mutation_runs["missing-wiring-after-reference"]
    assert code != 0 and "test_unit_enable_autograd" in output, output[-2000:]
