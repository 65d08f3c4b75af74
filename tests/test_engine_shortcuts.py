"""Checks of the engine's performance shortcuts (no graph when none is needed, gradients stored without a
copy): they must not change what users see."""
import sys
from pathlib import Path

import numpy as np
import pytest

from tinytorch.core import autograd
from tinytorch.core.layers import Linear
from tinytorch.core.tensor import Tensor

sys.path.insert(0, str(Path(__file__).parent / "modules"))
from test_06_autograd import EXAMPLES  # noqa: E402 (one example per registered operation)


@pytest.fixture(autouse=True, scope="module")
def autograd_on():
    """Switch the engine on for this file only (other suites check that module 01 alone has no autograd)."""
    autograd.enable_autograd(quiet=True)
    yield
    autograd.disable_autograd()


def test_no_graph_when_nothing_requires_grad_or_in_no_grad():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    assert (a * b + a)._grad_fn is None
    w = Tensor([1.0, 2.0], requires_grad=True)
    with autograd.no_grad():
        assert (w * b)._grad_fn is None and not (w * b).requires_grad
    assert (w * b)._grad_fn is not None


def test_float32_input_is_not_copied():
    array = np.ones((3, 4), np.float32)
    assert Tensor(array).data is array


def test_stored_gradients_never_alias_each_other_or_the_callers_array():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(np.ones(2, np.float32))
    assert not np.shares_memory(a.grad, b.grad)
    upstream = np.ones(2, np.float32)
    a.grad = None
    (a + Tensor([1.0, 1.0])).backward(upstream)
    assert not np.shares_memory(a.grad, upstream)
    a.grad = None
    a.backward(upstream)
    assert not np.shares_memory(a.grad, upstream)
    a.grad += 1      # .grad is writable
    assert upstream[0] == 1


def test_retained_intermediate_gradient_is_not_shared_with_the_leaf():
    x = Tensor([2.0], requires_grad=True)
    mid = (x + Tensor([1.0])).retain_grad()
    (mid + Tensor([0.0])).backward()
    assert not np.shares_memory(mid.grad, x.grad)


def test_million_node_chain_does_not_recurse():
    x = Tensor([0.0], requires_grad=True)
    y = x
    one = Tensor([1.0])
    for _ in range(3 * sys.getrecursionlimit()):
        y = y + one
    y.backward()
    assert x.grad[0] == 1.0


class ReturnsGiven(autograd.Function):
    """An operation whose backward returns fixed arrays, to see what the engine stores."""

    def forward(self, *arrays, outputs):
        self.outputs = outputs
        return np.zeros(2)

    def apply(self, grad_output):
        return self.outputs


def record(outputs, *leaves):
    return ReturnsGiven.run(*leaves, outputs=outputs)


def test_a_new_gradient_array_becomes_grad_without_a_copy():
    fresh = np.arange(2.0, dtype=np.float32)
    x = Tensor([0.0, 0.0], requires_grad=True)
    record((fresh,), x).backward(np.ones(2))
    assert x.grad is fresh


def test_one_new_array_returned_for_two_inputs_is_stored_once_and_copied_once():
    fresh = np.arange(2.0, dtype=np.float32)
    a, b = Tensor([0.0, 0.0], requires_grad=True), Tensor([0.0, 0.0], requires_grad=True)
    record((fresh, fresh), a, b).backward(np.ones(2))
    assert not np.shares_memory(a.grad, b.grad) and np.array_equal(a.grad, b.grad)


def test_views_and_passed_on_gradients_are_copied_into_writable_grads():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    for build in (lambda: x.sum(), lambda: x.reshape(3, 2).sum(), lambda: x.transpose().sum(),
                  lambda: (x + Tensor(np.ones((2, 3)))).sum()):
        x.grad = None
        build().backward()
        assert x.grad.flags.owndata and x.grad.flags.writeable and x.grad.flags.c_contiguous


def test_a_gradient_of_the_wrong_dtype_is_cast_into_a_copy():
    fresh = np.arange(2.0)                     # float64 for a float32 leaf
    x = Tensor([0.0, 0.0], requires_grad=True)
    record((fresh,), x).backward(np.ones(2))
    assert x.grad.dtype == np.float32 and x.grad is not fresh


def test_accumulated_grad_does_not_alias_the_new_gradient():
    fresh = np.arange(2.0, dtype=np.float32)
    x = Tensor([0.0, 0.0], requires_grad=True)
    record((fresh,), x).backward(np.ones(2))
    second = np.ones(2, np.float32)
    record((second,), x).backward(np.ones(2))
    assert np.array_equal(x.grad, [1.0, 2.0]) and not np.shares_memory(x.grad, fresh)
    assert not np.shares_memory(x.grad, second)


def test_fused_linear_skips_the_product_node_and_matches_the_two_node_graph():
    layer = Linear(4, 3, seed=0)
    x = Tensor(np.random.default_rng(0).normal(size=(5, 4)), requires_grad=True)
    y = layer(x)
    assert type(y._grad_fn).__name__ == "LinearBackward"
    assert y._grad_fn.saved_tensors == (x, layer.weight, layer.bias)
    with autograd.no_grad():
        assert layer(x)._grad_fn is None
    frozen = Tensor(x.data)                     # nothing requires grad -> no node at all
    layer.weight.requires_grad = layer.bias.requires_grad = False
    assert layer(frozen)._grad_fn is None


@pytest.mark.parametrize("name", sorted(autograd.DIFFERENTIABLE_OPS))
def test_every_rule_keeps_float32(name):
    """The reference rules give a float32 graph float32 gradients (float64 would spread to the next matmul). Not
    asked of students: the engine casts each gradient to its input's dtype anyway."""
    fn, arrays = EXAMPLES[name]
    out = fn(*[Tensor(np.asarray(a, dtype=np.float32), requires_grad=True) for a in arrays])
    grads = out._grad_fn.apply(np.full(out.shape, 0.5, dtype=np.float32))
    dtypes = [str(np.asarray(g).dtype) for g in grads if g is not None]
    assert dtypes and set(dtypes) == {"float32"}, f"{name}: gradients of dtypes {dtypes}"
