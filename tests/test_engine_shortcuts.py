"""Checks of the engine's performance shortcuts (issue 7): they must not change what users see."""
import sys

import numpy as np
import pytest

from tinytorch.core import autograd
from tinytorch.core.layers import Linear
from tinytorch.core.tensor import Tensor


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
