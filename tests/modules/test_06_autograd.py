"""Module 06 (autograd): the engine in tinytorch.core.autograd, checked numerically.

This file ships with the student release and runs on the student's exported package (`tito module
complete 06`); the author-only mutation tests are in tests/test_06_mutations.py."""
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinytorch.core import autograd as ag
from tinytorch.core.activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from tinytorch.core.layers import Linear
from tinytorch.core.autograd import (DIFFERENTIABLE_OPS, Function, GradcheckError, activation, binary,
                                     differentiates, enable_autograd, gradcheck, graph_memory, no_grad, show_graph)
from tinytorch.core.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss
from tinytorch.core.tensor import Tensor

ROOT = Path(__file__).resolve().parents[2]
FAST = settings(max_examples=30, deadline=None)


@pytest.fixture(autouse=True, scope="module")
def autograd_on():
    """Enable autograd for this file only, so the suites of modules 01-05 still see the plain Tensor."""
    enable_autograd(quiet=True)
    yield
    ag.disable_autograd()


def T(values, grad=True):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


def rand(seed, shape, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def away_from_zero(seed, shape, low=0.5, high=2.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------------------------------------------------
# hypothesis strategies
# ---------------------------------------------------------------------------------------------------------
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pairs(draw):
    """(shape_a, shape_b) that broadcast: b drops leading axes of a and may squash some axes to 1."""
    a = draw(shapes)
    keep = draw(st.integers(0, len(a)))
    b = tuple(1 if draw(st.booleans()) else d for d in a[len(a) - keep:])
    return (a, b) if draw(st.booleans()) else (b, a)


@st.composite
def matmul_pairs(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    kind = draw(st.sampled_from(["2d", "batched", "batch-a", "batch-b", "1d-a", "1d-b", "1d-both"]))
    return {"2d": ((n, k), (k, m)), "batched": (batch + (n, k), batch + (k, m)),
            "batch-a": (batch + (n, k), (k, m)), "batch-b": ((n, k), batch + (k, m)),
            "1d-a": ((k,), batch + (k, m)), "1d-b": (batch + (n, k), (k,)), "1d-both": ((k,), (k,))}[kind]


seeds = st.integers(0, 2 ** 16)
scales = st.sampled_from([1e-3, 1.0, 10.0, 1e3])


# ---------------------------------------------------------------------------------------------------------
# every rule against gradcheck
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(broadcast_pairs(), seeds, st.sampled_from(["add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv"]))
def test_binary_ops_broadcasting(pair, seed, op):
    a, b = rand(seed, pair[0]), away_from_zero(seed + 1, pair[1])
    fns = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "radd": lambda a, b: 2.0 + b + a, "rsub": lambda a, b: 3.0 - b - a,
           "rmul": lambda a, b: 0.5 * b * a, "rdiv": lambda a, b: 1.5 / b + a}
    assert gradcheck(fns[op], T(a), T(b))


@FAST
@given(shapes, seeds, scales)
def test_arithmetic_extreme_scales(shape, seed, scale):
    a, b = rand(seed, shape) * scale, away_from_zero(seed + 1, shape) * scale
    assert gradcheck(lambda a, b: (a * b - a) / b + (-a), T(a), T(b), rtol=1e-3, atol=1e-5 * scale ** 2)


@FAST
@given(matmul_pairs(), seeds)
def test_matmul_all_layouts(pair, seed):
    assert gradcheck(lambda a, b: a.matmul(b), T(rand(seed, pair[0])), T(rand(seed + 1, pair[1])))
    assert gradcheck(lambda a, b: a @ b, T(rand(seed, pair[0])), T(rand(seed + 1, pair[1])))


@st.composite
def reduction_cases(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    axes = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)))
    return shape, axes, draw(st.booleans())


@FAST
@given(reduction_cases(), seeds, st.sampled_from(["sum", "mean", "max"]))
def test_reductions(case, seed, op):
    shape, axis, keepdims = case
    size = int(np.prod(shape))
    values = np.random.default_rng(seed).permutation(size).reshape(shape) * 0.37 - 1.0   # distinct: no ties
    assert gradcheck(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), T(values))


def test_max_ties_share_evenly():
    x = T([[1.0, 5.0, 5.0], [2.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    assert np.allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = T([3.0, 3.0, 1.0, 3.0])
    y.max().backward()
    assert np.allclose(y.grad, [1 / 3, 1 / 3, 0, 1 / 3])


@FAST
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), seeds, st.data())
def test_shape_ops(shape, seed, data):
    x = T(rand(seed, shape))
    perm = data.draw(st.permutations(range(len(shape))))
    assert gradcheck(lambda x: x.permute(*perm), x)
    assert gradcheck(lambda x: x.reshape(-1), x)
    assert gradcheck(lambda x: x.reshape(tuple(reversed(shape))), x)
    if len(shape) >= 2:
        d0, d1 = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2, unique=True))
        assert gradcheck(lambda x: x.transpose(d0, d1), x)
        assert gradcheck(lambda x: x.transpose(), x)
    assert gradcheck(lambda x: x.transpose(), x)


@FAST
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), seeds, st.data())
def test_indexing(shape, seed, data):
    x = T(rand(seed, shape))
    idx = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))   # repeats allowed
    assert gradcheck(lambda x: x[idx], x)
    assert gradcheck(lambda x: x[np.array(idx)], x)
    assert gradcheck(lambda x: x[shape[0] - 1], x)
    assert gradcheck(lambda x: x[: shape[0] // 2 + 1], x)
    assert gradcheck(lambda x: x[x.data > 0] if (x.data > 0).any() else x[0], x)


def test_repeated_index_accumulates():
    x = T([1.0, 2.0, 3.0])
    x[[0, 0, 0, 2]].sum().backward()
    assert np.allclose(x.grad, [3.0, 0.0, 1.0])


@FAST
@given(shapes, seeds, st.sampled_from([0.1, 1.0, 5.0, 30.0]),
       st.sampled_from([ReLU, Sigmoid, Tanh, GELU]))
def test_elementwise_activations(shape, seed, scale, cls):
    values = away_from_zero(seed, shape, 0.05, 1.0) * scale   # |x| >= 0.05*scale: away from ReLU's kink
    assert gradcheck(lambda x: cls()(x), T(values), atol=1e-5, rtol=1e-3)


@FAST
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seeds, st.data(),
       st.sampled_from([1.0, 10.0]))
def test_softmax_any_dim(shape, seed, data, scale):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert gradcheck(lambda x: Softmax(dim=dim)(x), T(rand(seed, shape) * scale))   # non-uniform upstream


def test_softmax_jacobian_is_not_diagonal():
    x = T([[0.2, -1.0, 0.7]])
    s = Softmax()(x)
    g = np.array([[0.5, -1.5, 2.0]])
    s.backward(g)
    sv = s.data
    assert np.allclose(x.grad, sv * (g - (g * sv).sum(-1, keepdims=True)), atol=1e-6)
    assert not np.allclose(x.grad, g * sv * (1 - sv), atol=1e-3)


@FAST
@given(st.integers(1, 6), st.integers(2, 6), seeds, st.sampled_from([1.0, 20.0, 100.0]))
def test_cross_entropy(batch, classes, seed, scale):
    labels = np.random.default_rng(seed).integers(0, classes, size=batch)
    logits = T(rand(seed, (batch, classes)) * scale)
    assert gradcheck(lambda z: CrossEntropyLoss()(z, labels) * 1.7, logits)
    assert gradcheck(lambda z: CrossEntropyLoss()(z, Tensor(labels)), logits)


@FAST
@given(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple), seeds)
def test_mse_and_bce(shape, seed):
    p, t = T(rand(seed, shape, 0.05, 0.95)), T(rand(seed + 1, shape, 0.0, 1.0))
    assert gradcheck(lambda p, t: MSELoss()(p, t), p, t)
    assert gradcheck(lambda p: BinaryCrossEntropyLoss()(p, Tensor(t.data)), p)
    assert gradcheck(lambda z: BinaryCrossEntropyLoss()(Sigmoid()(z), Tensor(t.data)), T(rand(seed, shape)))


def test_bce_target_gradient():
    p, t = T([0.7, 0.2]), T([0.6, 0.1])
    BinaryCrossEntropyLoss()(p, t).backward()
    assert np.allclose(t.grad, [-0.4236, 0.6931], atol=1e-4)      # -(log p - log(1 - p)) / N, as PyTorch
    assert gradcheck(lambda p, t: BinaryCrossEntropyLoss()(p, t), T(rand(0, (3, 2), 0.05, 0.95)),
                     T(rand(1, (3, 2), 0.0, 1.0)))


@pytest.mark.parametrize("p", [0.0, 1.0, 1e-9, 1 - 1e-9, -0.5, 1.5, 2e-7, 1 - 2e-7, 1e-3])
def test_bce_backward_matches_the_clipped_forward(p):
    """Where the forward clips p (to [1e-7, 1 - 1e-7]) it is flat: gradient 0, in p's dtype; just inside, exact."""
    eps = min(1e-10, abs(p) / 10) if p else 1e-10
    targets = Tensor([0.3])
    assert gradcheck(lambda p: BinaryCrossEntropyLoss()(p, targets), T([p]), eps=eps, rtol=1e-4)
    p32 = Tensor(np.array([p, 0.5], np.float32), requires_grad=True)
    BinaryCrossEntropyLoss()(p32, Tensor([0.3, 0.3])).backward()
    assert p32.grad.dtype == np.float32 and np.all(np.isfinite(p32.grad))
    if not 1e-7 <= p <= 1 - 1e-7:
        assert p32.grad[0] == 0.0


# ---------------------------------------------------------------------------------------------------------
# powers, element-wise functions, clamps, minimum/maximum/min: gradcheck on hypothesis-drawn cases and edges
# ---------------------------------------------------------------------------------------------------------
@FAST
@given(broadcast_pairs(), seeds)
def test_pow_tensor_tensor(pair, seed):
    base, exponent = rand(seed, pair[0], 0.2, 3.0), rand(seed + 1, pair[1], -2.0, 2.0)
    assert gradcheck(lambda a, b: a ** b, T(base), T(exponent))


@FAST
@given(shapes, seeds, st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0]))
def test_pow_by_a_number_and_of_a_number(shape, seed, number):
    negative_ok = number == int(number)                  # x ** 2 of a negative x is defined, x ** 0.5 is not
    x = away_from_zero(seed, shape, 0.3, 2.0) if negative_ok else rand(seed, shape, 0.3, 2.0)
    assert gradcheck(lambda x: x ** number, T(x))
    assert gradcheck(lambda x: abs(number) + 0.5 ** x * 2.0 ** x + (abs(number) + 0.1) ** x, T(x))


def test_pow_edges_follow_pytorch():
    a, b = T([0.0, 0.0, 0.0, -2.0, 2.0]), T([0.0, 2.0, 1.0, 2.0, 0.0])
    (a ** b).backward(np.ones(5))
    assert np.array_equal(a.grad, [0.0, 0.0, 1.0, -4.0, 0.0])             # b = 0: flat in a, even at a = 0
    assert np.array_equal(b.grad[:3], [0.0, 0.0, 0.0]) and np.isnan(b.grad[3])   # a = 0 <= b: 0; a < 0: nan
    assert np.isclose(b.grad[4], np.log(2.0))
    x = T([0.0, -1.0])
    (x ** 2).sum().backward()
    assert np.array_equal(x.grad, [0.0, -2.0])


@FAST
@given(shapes, seeds, st.sampled_from([1e-3, 0.1, 1.0, 30.0]))
def test_exp_log_sqrt_near_their_edges(shape, seed, scale):
    positive = rand(seed, shape, 0.5, 2.0) * scale                      # log and sqrt down to 5e-4
    assert gradcheck(lambda x: x.log(), T(positive), eps=1e-6 * scale)
    assert gradcheck(lambda x: x.sqrt(), T(positive), eps=1e-6 * scale)
    assert gradcheck(lambda x: (x * (1 / scale)).exp(), T(rand(seed + 1, shape) * scale))


def test_log_and_sqrt_at_zero_are_infinite_as_in_pytorch():
    x = T([0.0, 4.0])
    with np.errstate(divide="ignore"):             # the forward's log(0) = -inf, as NumPy says
        y = x.log() + x.sqrt()
    y.backward(np.ones(2))
    assert x.grad[0] == np.inf and np.isclose(x.grad[1], 0.25 + 0.25)


@FAST
@given(shapes, seeds, st.data())
def test_abs_and_clip_near_and_at_their_kinks(shape, seed, data):
    x = away_from_zero(seed, shape, 1e-3, 2.0)                           # near the kink of abs
    assert gradcheck(lambda x: x.abs(), T(x), eps=1e-7)
    low, high = sorted(data.draw(st.lists(st.sampled_from([-1.0, -0.25, 0.0, 0.5, 1.0]), min_size=2,
                                          max_size=2, unique=True)))
    near = np.clip(x, low, high) + away_from_zero(seed + 2, shape, 1e-3, 0.5)   # beside the bounds, not on them
    assert gradcheck(lambda x: x.clip(low, high), T(near), eps=1e-7)
    assert gradcheck(lambda x: x.clamp(min=low), T(near), eps=1e-7)
    assert gradcheck(lambda x: x.clamp(max=high), T(near), eps=1e-7)
    kinks = T([0.0, low, high, low - 1.0, high + 1.0])
    (kinks.abs() + kinks.clip(low, high)).backward(np.ones(5))
    assert np.array_equal(kinks.grad, [0.0 + (low <= 0 <= high), np.sign(low) + 1, np.sign(high) + 1,
                                       np.sign(low - 1.0), np.sign(high + 1.0)])   # |x|' = 0 at 0; bounds pass


@FAST
@given(broadcast_pairs(), seeds, st.sampled_from(["minimum", "maximum"]))
def test_minimum_maximum_with_ties(pair, seed, op):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(-2, 3, pair[0]) * 0.5, rng.integers(-2, 3, pair[1]) * 0.5   # few values: many ties
    assert gradcheck(lambda a, b: getattr(a, op)(b), T(a), T(b))         # at a tie, half each = central difference


def test_ties_share_the_gradient_evenly():
    a, b = T([1.0, 2.0, 3.0]), T([1.0, 5.0, 0.0])
    (a.maximum(b) + a.minimum(b)).backward(np.ones(3))
    assert np.array_equal(a.grad, [1.0, 1.0, 1.0]) and np.array_equal(b.grad, [1.0, 1.0, 1.0])
    a.grad = b.grad = None
    a.maximum(b).backward(np.ones(3))
    assert np.array_equal(a.grad, [0.5, 0.0, 1.0]) and np.array_equal(b.grad, [0.5, 1.0, 0.0])
    y = T([[3.0, 1.0, 1.0, 1.0], [0.0, 2.0, 0.0, 5.0]])
    y.min(axis=1).sum().backward()
    assert np.allclose(y.grad, [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0, 0.5, 0]])


@FAST
@given(reduction_cases(), seeds)
def test_min_reduction(case, seed):
    shape, axis, keepdims = case
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 1.0
    assert gradcheck(lambda x: x.min(axis=axis, keepdims=keepdims), T(values))


@FAST
@given(st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple), seeds, st.data())
def test_shape_helpers(shape, seed, data):
    x = T(rand(seed, shape))
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    assert gradcheck(lambda x: x.T * 1.5, x)
    assert gradcheck(lambda x: x.flatten(), x)
    assert gradcheck(lambda x: x.squeeze(), x)
    assert gradcheck(lambda x: x.unsqueeze(new_axis), x)
    assert gradcheck(lambda x: x.clone() * x, x)
    if shape:
        start, axis = data.draw(st.integers(0, len(shape) - 1)), data.draw(st.integers(-len(shape), len(shape) - 1))
        assert gradcheck(lambda x: x.flatten(start), x)
        assert gradcheck(lambda x: x.squeeze(axis), x)


def test_clone_copies():
    x = T([1.0, 2.0])
    y = x.clone()
    y.data[0] = 5.0
    assert x.data[0] == 1.0 and type(y._grad_fn) is ag.ReshapeBackward


def test_losses_written_by_hand_match_the_built_in_ones():
    rng = np.random.default_rng(0)
    for built_in, by_hand, low, high in (
            (MSELoss(), lambda p, t: ((p - t) ** 2).mean(), -2.0, 2.0),
            (BinaryCrossEntropyLoss(), lambda p, t: (-(t * p.log() + (1 - t) * (1 - p).log())).mean(), 0.05, 0.95)):
        p_data, t_data = rng.uniform(low, high, (4, 3)), rng.uniform(0.0, 1.0, (4, 3))
        grads = []
        for loss in (built_in, by_hand):
            p, t = T(p_data), T(t_data)
            value = loss(p, t)
            value.backward()
            grads.append((value.item(), p.grad, t.grad))
        (v1, p1, t1), (v2, p2, t2) = grads
        assert abs(v1 - v2) < 1e-6 and np.allclose(p1, p2, atol=1e-6) and np.allclose(t1, t2, atol=1e-6)


def test_comparisons_argmax_tolist_record_no_graph():
    x = T([[1.0, 5.0, 2.0]])
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, 2 < x):
        assert result.dtype == bool and result._grad_fn is None and not result.requires_grad
    assert (x == 5).tolist() == [[False, True, False]]
    assert x.argmax().tolist() == 1 and x.argmax(axis=1).dtype == np.int64 and x.argmax()._grad_fn is None
    assert x.tolist() == [[1.0, 5.0, 2.0]] and len({x, T([1.0])}) == 2 and x in {x}
    assert (x == None) is False and (x != None) is True                                   # noqa: E711
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x == x)


@pytest.mark.parametrize("call, words", [
    (lambda x: x + "a", ("add", "str")), (lambda x: x ** None, ("pow", "NoneType")),
    (lambda x: x.matmul({}), ("matmul", "dict")), (lambda x: "a" - x, ("sub", "str")),
    (lambda x: x.maximum(object()), ("maximum", "object")), (lambda x: x < "a", ("<", "str")),
])
def test_an_unsupported_operand_names_the_operation_and_the_types(call, words):
    with pytest.raises(TypeError) as error:
        call(T([1.0, 2.0]))
    assert all(word in str(error.value) for word in words + ("Tensor",)), str(error.value)


# ---------------------------------------------------------------------------------------------------------
# a custom operation: Function.forward + Function.apply, called with Function.run
# ---------------------------------------------------------------------------------------------------------
class LogCosh(Function):
    """log(cosh(scale x)) / scale, without overflow: d/dx = tanh(scale x)."""

    def forward(self, x, scale=1.0):
        self.scale = scale
        return (np.logaddexp(scale * x, -scale * x) - np.log(2.0)) / scale

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (grad_output * np.tanh(self.scale * x.data),)


@FAST
@given(shapes, seeds, st.sampled_from([0.5, 1.0, 3.0]))
def test_a_custom_operation(shape, seed, scale):
    assert gradcheck(lambda x: LogCosh.run(x, scale=scale), T(rand(seed, shape) * 5))
    assert gradcheck(lambda x: LogCosh.run(x * x) * x, T(rand(seed, shape)))


def test_a_custom_operation_records_only_when_needed():
    x = T([-1000.0, 0.0, 1000.0])
    y = LogCosh.run(x)
    assert type(y._grad_fn) is LogCosh and np.allclose(y.data, [1000.0 - np.log(2.0), 0.0, 1000.0 - np.log(2.0)])
    y.backward(np.ones(3))
    assert np.allclose(x.grad, [-1.0, 0.0, 1.0])
    assert LogCosh.run([1.0, 2.0])._grad_fn is None
    with no_grad():
        assert LogCosh.run(x)._grad_fn is None
    with pytest.raises(NotImplementedError, match="forward"):
        Function.run(x)


# ---------------------------------------------------------------------------------------------------------
# completeness, driven by the registry
# ---------------------------------------------------------------------------------------------------------
labels3 = np.array([2, 0, 1])
EXAMPLES = {   # registry name -> (function of the inputs, inputs)
    "Tensor.__add__": (lambda a, b: a + b, [rand(1, (3, 2)), rand(2, (2,))]),
    "Tensor.__sub__": (lambda a, b: a - b, [rand(1, (3, 2)), rand(2, (3, 1))]),
    "Tensor.__mul__": (lambda a, b: a * b, [rand(1, (3, 2)), rand(2, (2,))]),
    "Tensor.__truediv__": (lambda a, b: a / b, [rand(1, (3, 2)), away_from_zero(2, (3, 2))]),
    "Tensor.matmul": (lambda a, b: a.matmul(b), [rand(1, (2, 3, 4)), rand(2, (4, 2))]),
    "Tensor.__neg__": (lambda a: -a, [rand(1, (3,))]),
    "Tensor.sum": (lambda a: a.sum(axis=0), [rand(1, (3, 2))]),
    "Tensor.mean": (lambda a: a.mean(axis=-1, keepdims=True), [rand(1, (3, 2))]),
    "Tensor.max": (lambda a: a.max(axis=1), [np.arange(6.0).reshape(2, 3)[:, ::-1] * 0.3]),
    "Tensor.reshape": (lambda a: a.reshape(2, 3), [rand(1, (3, 2))]),
    "Tensor.permute": (lambda a: a.permute(2, 0, 1), [rand(1, (2, 3, 4))]),
    "Tensor.__getitem__": (lambda a: a[[0, 0, 2], 1:], [rand(1, (3, 3))]),
    "ReLU.forward": (lambda a: ReLU()(a), [away_from_zero(1, (3, 2))]),
    "Sigmoid.forward": (lambda a: Sigmoid()(a), [rand(1, (3, 2))]),
    "Tanh.forward": (lambda a: Tanh()(a), [rand(1, (3, 2))]),
    "GELU.forward": (lambda a: GELU()(a), [rand(1, (3, 2))]),
    "Softmax.forward": (lambda a: Softmax(dim=0)(a), [rand(1, (3, 2))]),
    "MSELoss.forward": (lambda p, t: MSELoss()(p, t), [rand(1, (3, 2)), rand(2, (3, 2))]),
    "BinaryCrossEntropyLoss.forward": (lambda p: BinaryCrossEntropyLoss()(p, Tensor([[0.0, 1.0]] * 3)),
                                       [rand(1, (3, 2), 0.1, 0.9)]),
    "CrossEntropyLoss.forward": (lambda z: CrossEntropyLoss()(z, labels3), [rand(1, (3, 4))]),
    "Linear.forward": (lambda x, w, b: linear_with(w, b)(x), [rand(1, (5, 3)), rand(2, (3, 2)), rand(3, (2,))]),
    "Tensor.clone": (lambda a: a.clone(), [rand(1, (3, 2))]),
    "Tensor.__pow__": (lambda a, b: a ** b, [rand(1, (3, 2), 0.5, 2.0), rand(2, (2,))]),
    "Tensor.exp": (lambda a: a.exp(), [rand(1, (3, 2))]),
    "Tensor.log": (lambda a: a.log(), [rand(1, (3, 2), 0.5, 2.0)]),
    "Tensor.sqrt": (lambda a: a.sqrt(), [rand(1, (3, 2), 0.5, 2.0)]),
    "Tensor.abs": (lambda a: a.abs(), [away_from_zero(1, (3, 2))]),
    "Tensor.clip": (lambda a: a.clip(-1.0, 1.0), [np.array([[-1.7, -0.4], [0.3, 0.9], [1.2, 1.8]])]),
    "Tensor.maximum": (lambda a, b: a.maximum(b), [rand(1, (3, 2)), rand(2, (2,))]),
    "Tensor.minimum": (lambda a, b: a.minimum(b), [rand(1, (3, 2)), rand(2, (3, 1))]),
    "Tensor.min": (lambda a: a.min(axis=0), [np.arange(6.0).reshape(2, 3)[::-1] * 0.3]),
}


def linear_with(weight, bias=None):
    """A Linear layer whose parameters are the given tensors (so gradcheck can vary them)."""
    layer = Linear(*weight.shape, bias=bias is not None)
    layer.weight, layer.bias = weight, bias
    return layer


def test_examples_cover_the_registry_exactly():
    assert set(EXAMPLES) == set(DIFFERENTIABLE_OPS), "every registry entry needs an example here (and no stale ones)"


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE_OPS))
def test_every_registered_op_records_and_is_correct(name):
    fn, arrays = EXAMPLES[name]
    inputs = [T(a) for a in arrays]
    out = fn(*inputs)
    rule = DIFFERENTIABLE_OPS[name].rule
    assert type(out._grad_fn) is rule, f"{name} recorded {out._grad_fn!r}, not {rule.__name__}"
    assert out.requires_grad
    assert gradcheck(fn, *inputs)


@FAST
@given(st.lists(st.integers(1, 3), max_size=2).map(tuple), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.booleans(), seeds)
def test_linear_layer_is_one_node_with_the_gradients_of_matmul_plus_bias(batch, n_in, n_out, bias, x_grad, seed):
    x = T(rand(seed, batch + (n_in,)), grad=x_grad)
    w, b = T(rand(seed + 1, (n_in, n_out))), T(rand(seed + 2, (n_out,))) if bias else None
    upstream = rand(seed + 3, batch + (n_out,))
    fused = linear_with(w, b)(x)
    assert isinstance(fused._grad_fn, ag.LinearBackward) and fused.shape == batch + (n_out,)
    fused.backward(upstream)
    params = [p for p in (x, w, b) if p is not None and p.requires_grad]
    got = [p.grad for p in params]
    for p in params:
        p.grad = None
    unfused = x @ w + b if bias else x @ w
    assert not isinstance(unfused._grad_fn, ag.LinearBackward)
    unfused.backward(upstream)
    for p, g in zip(params, got):
        assert g.shape == p.shape and np.allclose(g, p.grad), "the fused Linear node disagrees with x @ W + b"
    assert gradcheck(lambda x, *params: linear_with(*params)(x), T(x.data), w, *([b] if bias else []))


def test_linear_layer_graph_keeps_inputs_and_parameters_only():
    layer = Linear(64, 32, seed=0)
    x = Tensor(np.ones((16, 64)), requires_grad=True)
    fused_bytes = graph_memory(layer(x))
    unfused_bytes = graph_memory(x @ layer.weight + layer.bias)
    product_bytes = 16 * 32 * 4
    assert fused_bytes == unfused_bytes - product_bytes, (fused_bytes, unfused_bytes)


SAMPLE_CALLS = {   # every public Tensor method: how to call it (x is (2, 3), requires grad)
    "__add__": (1.0,), "__sub__": (1.0,), "__mul__": (2.0,), "__truediv__": (2.0,), "__neg__": (),
    "__radd__": (1.0,), "__rsub__": (1.0,), "__rmul__": (2.0,), "__rtruediv__": (2.0,),
    "__pow__": (2.0,), "__rpow__": (2.0,), "exp": (), "log": (), "sqrt": (), "abs": (), "clip": (3.5, 4.0),
    "clamp": (None, 4.0), "minimum": (4.0,), "maximum": (np.full(3, 4.0),), "clone": (),
    "matmul": (np.ones((3, 2)),), "__matmul__": (np.ones((3, 2)),), "__rmatmul__": (np.ones((4, 2)),),
    "sum": (), "mean": (), "max": (), "min": (1,), "reshape": (3, 2), "transpose": (), "permute": (1, 0),
    "flatten": (), "squeeze": (), "unsqueeze": (1,), "__getitem__": (0,),
    "numpy": (), "item": None, "tolist": (), "__len__": (), "__repr__": (), "__array__": (), "__bool__": None,
    "backward": None, "zero_grad": None, "detach": None, "retain_grad": None, "_as_array": None,
    # answers, not values to differentiate: a Tensor without a graph
    "argmax": (), "__lt__": (4.0,), "__le__": (4.0,), "__gt__": (4.0,), "__ge__": (4.0,), "__eq__": (4.0,),
    "__ne__": (4.0,),
}
NO_GRAPH = {"argmax", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "detach"}


def test_every_tensor_method_returning_a_tensor_records_a_graph():
    methods = {name for name, value in vars(Tensor).items()
               if isinstance(value, (types.FunctionType, staticmethod))
               and name not in ("__init__", "__array_ufunc__", "__init_subclass__")
               and (not name.startswith("_") or name.endswith("__") or name == "_as_array")}
    missing = methods - set(SAMPLE_CALLS)
    assert not missing, f"new Tensor methods without a sample call here: {sorted(missing)}"
    for name in sorted(methods):
        args = SAMPLE_CALLS[name]
        if args is None:
            continue
        x = T(rand(0, (2, 3)) + 3.0)
        result = getattr(x, name)(*args)
        if isinstance(result, Tensor):
            recorded = result._grad_fn is not None
            assert recorded != (name in NO_GRAPH), f"Tensor.{name}: {'a' if recorded else 'no'} graph recorded"
    assert T(rand(0, (2, 3))).T._grad_fn is not None
    for name in ("__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__matmul__", "__rmatmul__", "__rpow__",
                 "clamp", "transpose", "flatten", "squeeze", "unsqueeze"):
        fn = lambda x, name=name: getattr(x, name)(*SAMPLE_CALLS[name])
        assert gradcheck(fn, T(rand(0, (2, 3)) + 3.0)), name


# ---------------------------------------------------------------------------------------------------------
# graph shapes, accumulation, grad mode
# ---------------------------------------------------------------------------------------------------------
def test_reference_examples():
    x = Tensor([2.0], requires_grad=True)
    y = x * 3 + 1
    y.backward()
    assert np.allclose(x.grad, [3.0])
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    W = Tensor([[3.0], [4.0]], requires_grad=True)
    loss = (x.matmul(W) * x.matmul(W)).sum()
    loss = (lambda y: (y * y).sum())(x.matmul(W))
    loss.backward()
    assert np.allclose(x.grad, [[66.0, 88.0]]) and np.allclose(W.grad, [[22.0], [44.0]])


def test_diamond_and_reuse(monkeypatch):
    x = Tensor([3.0], requires_grad=True)
    (x * x).backward()
    assert np.allclose(x.grad, [6.0])
    x = Tensor([1.0], requires_grad=True)
    h = x
    for _ in range(30):
        h = h + h
    calls = []
    apply = ag.AddBackward.apply
    monkeypatch.setattr(ag.AddBackward, "apply", lambda node, g: calls.append(node) or apply(node, g))
    h.backward()
    assert x.grad[0] == 2.0 ** 30
    assert len(calls) == 30, "each of the 30 nodes is visited once (a walk per path would make 2**30 visits)"


def test_chain_of_100000_nodes():
    x = Tensor([0.0], requires_grad=True)
    h = x
    for _ in range(100_000):
        h = h + 1.0
    h.backward()
    assert x.grad[0] == 1.0 and h.data[0] == 100_000


def test_accumulation_and_zero_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    loss.backward()                            # the graph is kept: a second call accumulates
    assert np.allclose(w.grad, [4.0, 8.0])
    assert w.grad.dtype == w.data.dtype and w.grad.shape == w.shape
    w.zero_grad()
    assert w.grad is None


def test_intermediates_and_retain_grad():
    x = Tensor([2.0], requires_grad=True)
    mid = x * 3
    kept = (x * 4).retain_grad()
    (mid * kept).backward()
    assert mid.grad is None and np.allclose(kept.grad, [6.0]) and np.allclose(x.grad, [48.0])


def test_no_grad_nests():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        with no_grad():
            assert (x * 2)._grad_fn is None
        assert (x * 2)._grad_fn is None
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled() and (x * 2)._grad_fn is not None
    try:
        with no_grad():
            raise KeyError
    except KeyError:
        pass
    assert ag.is_grad_enabled(), "an exception inside no_grad must restore grad mode"


def test_detach():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d._grad_fn is None
    y = (d * x).sum()
    y.backward()
    assert np.allclose(x.grad, [2.0, 4.0]), "gradient must not flow through the detached branch"
    assert (x > 1).detach().dtype == bool, "detach keeps the dtype"


def test_constants_record_nothing():
    assert (Tensor([1.0]) * 2)._grad_fn is None


def test_clear_errors():
    with pytest.raises(ValueError, match="non-scalar"):
        (Tensor([1.0, 2.0], requires_grad=True) * 2).backward()
    with pytest.raises(ValueError, match=r"\(3,\)"):
        (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_a_rule_returning_a_wrong_shape_is_named():
    class WrongShape(Function):
        def forward(self, x):
            return x * 2

        def apply(self, grad_output):
            return (np.ones((4, 5)),)

    bad = WrongShape.run(Tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(ValueError) as error:
        bad.backward(np.ones(2))
    assert all(s in str(error.value) for s in ("WrongShape", "input 0", "(4, 5)", "(2,)"))


def test_a_later_module_registers_its_own_operation(registry):
    class Scale:                    # a module after 06, in its own file: a class and its rule
        def forward(self, x):
            return Tensor(x.data * 3.0)

    @differentiates(Scale, "forward", activation)
    class ScaleBackward(Function):
        def __init__(self, x, out):
            super().__init__(x)

        def apply(self, grad_output):
            return (grad_output * 3.0,)

    enable_autograd(quiet=True)
    x = T([1.0, -2.0])
    assert type(Scale().forward(x)._grad_fn) is ScaleBackward
    assert gradcheck(lambda x: Scale().forward(x) * x, x)


# ---------------------------------------------------------------------------------------------------------
# enable_autograd, tools, packaging
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def registry():
    """For a test that registers rules of its own: the registry and the wiring are restored afterwards."""
    saved = dict(DIFFERENTIABLE_OPS)
    yield DIFFERENTIABLE_OPS
    DIFFERENTIABLE_OPS.clear()
    DIFFERENTIABLE_OPS.update(saved)
    enable_autograd(quiet=True)


def test_enable_is_idempotent_and_wraps_pristine_methods():
    for _ in range(3):
        enable_autograd(quiet=True)
    x = Tensor([1.0], requires_grad=True)
    y = x * 2
    assert type(y._grad_fn) is ag.MulBackward and y._grad_fn.saved_tensors[0] is x, \
        "one node per operation: a wrapper around a wrapper would record two"
    assert y._grad_fn.saved_tensors[1]._grad_fn is None
    assert (x.sum() * 1)._grad_fn.saved_tensors[0]._grad_fn.saved_tensors[0] is x


def test_a_second_registration_replaces_the_first(registry):
    """What a student's notebook does after the package's engine was enabled: the last engine wins."""
    class MarkedMul(ag.MulBackward):
        pass

    differentiates(Tensor, "__mul__", binary)(MarkedMul)
    enable_autograd(quiet=True)
    node = (Tensor([1.0], requires_grad=True) * 2)._grad_fn
    assert type(node) is MarkedMul and node.saved_tensors[0]._grad_fn is None
    differentiates(Tensor, "__mul__", binary)(ag.MulBackward)
    enable_autograd(quiet=True)
    assert type((Tensor([1.0], requires_grad=True) * 2)._grad_fn) is ag.MulBackward


def test_enable_prints_one_line(capsys):
    enable_autograd()
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


def test_gradcheck_reports_a_wrong_rule_and_restores_dtype(registry):
    @differentiates(Tensor, "__mul__", binary)
    class WrongMul(Function):
        def apply(self, grad_output):
            a, b = self.saved_tensors
            return grad_output * a.data, grad_output * b.data     # swapped operands

    enable_autograd(quiet=True)
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda a, b: a * b, T([1.0, 2.0]), T([3.0, -1.0]))
    assert isinstance(error.value, AssertionError)
    assert all(s in str(error.value) for s in ("input 0", "expected", "got", "element"))
    assert Tensor.default_dtype == np.float32
    assert Tensor([1.0]).dtype == np.float32


def test_gradcheck_reports_a_nan_gradient(registry):
    @differentiates(Tensor, "__mul__", binary)
    class NanMul(Function):
        def apply(self, grad_output):
            return np.full_like(grad_output, np.nan), None

    enable_autograd(quiet=True)
    with pytest.raises(GradcheckError, match="input 0.*got nan"):
        gradcheck(lambda a, b: a * b, T([1.0, 2.0]), Tensor([3.0, -1.0]))


def test_gradcheck_needs_a_recorded_graph():
    with pytest.raises(GradcheckError, match="records no graph"):
        gradcheck(lambda a: a * 2, Tensor([1.0]))


def test_show_graph():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    y = x * x
    view = show_graph(y.sum())
    bundle = view._repr_mimebundle_()
    assert bundle["text/vnd.mermaid"].startswith("flowchart")
    assert "MulBackward" in bundle["text/vnd.mermaid"] and "-->" in bundle["text/vnd.mermaid"]
    assert str(view) == bundle["text/plain"] and "SumBackward" in str(view) and "leaf" in str(view)
    h = x
    for _ in range(40):
        h = h + h
    assert len(str(show_graph(h)).splitlines()) < 200     # shared nodes are not re-expanded


def test_graph_memory_counts_each_array_once():
    x = Tensor(np.ones((10, 10)), requires_grad=True)
    assert graph_memory(x * x) == x.data.nbytes
    w = Tensor(np.ones((10, 5)), requires_grad=True)
    y = x.matmul(w)
    assert graph_memory(y) == x.data.nbytes + w.data.nbytes
    t = Tanh()(y)
    assert graph_memory(t) == x.data.nbytes + w.data.nbytes + 2 * y.data.nbytes   # tanh keeps y and its output


def test_public_names():
    rules = {op.rule.__name__ for op in DIFFERENTIABLE_OPS.values()}
    for name in rules | {"Function", "DIFFERENTIABLE_OPS", "differentiates", "unbroadcast", "enable_autograd",
                         "no_grad", "gradcheck", "show_graph", "graph_memory"}:
        assert name in ag.__all__ and getattr(ag, name) is not None, name


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)


def test_plain_import_has_no_autograd_but_top_level_import_does():
    plain = _python("import sys\nfrom tinytorch.core.tensor import Tensor\n"
                    "import tinytorch.core.activations, tinytorch.core.layers, tinytorch.core.losses\n"
                    "assert 'tinytorch.core.autograd' not in sys.modules\n"
                    "assert (Tensor([1.0], requires_grad=True) * 2)._grad_fn is None\n"
                    "try:\n    Tensor([1.0]).backward()\nexcept RuntimeError as e:\n    print('OK', e)\n")
    assert plain.returncode == 0 and "OK" in plain.stdout and "module 06" in plain.stdout, plain.stderr
    top = _python("from tinytorch import Tensor, Linear, ReLU, CrossEntropyLoss, no_grad, enable_autograd\n"
                  "import tinytorch\nassert 'Tensor' in dir(tinytorch) and 'DataLoader' in tinytorch.__all__\n"
                  "x = Tensor([2.0], requires_grad=True)\ny = x * 3 + 1\ny.backward()\nprint(x.grad)\n"
                  "layer = Linear(2, 3)\nCrossEntropyLoss()(ReLU()(layer(Tensor([[1.0, 2.0]]))), [1]).backward()\n"
                  "assert layer.weight.grad.shape == (2, 3)\n")
    assert top.returncode == 0 and "[3.]" in top.stdout, top.stderr + top.stdout
