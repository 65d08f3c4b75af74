"""Author-only: every operation of the engine against PyTorch's CPU build, forward values and gradients.

Needs the `differential` extra (torch==2.13.0, a CPU wheel; `make test` installs it, the student set-up never
does). Without torch the file is skipped. Both sides run in float64 on the same inputs, including each
operation's edge values (zeros for log/sqrt/abs, bounds for clip, ties for min/max, negative bases for pow),
and the gradients are taken for the same random upstream gradient."""
import types

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
F = torch.nn.functional

from tinytorch.core import autograd as ag                                                   # noqa: E402
from tinytorch.core.activations import GELU, ReLU, Sigmoid, Softmax, Tanh                   # noqa: E402
from tinytorch.core.layers import Linear                                                    # noqa: E402
from tinytorch.core.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss         # noqa: E402
from tinytorch.core.tensor import Tensor                                                    # noqa: E402

SETTINGS = settings(max_examples=15, deadline=None)


@pytest.fixture(autouse=True, scope="module")
def autograd_on():
    ag.enable_autograd(quiet=True)
    yield
    ag.disable_autograd()


@pytest.fixture(autouse=True)
def float64(monkeypatch):
    monkeypatch.setattr(Tensor, "default_dtype", np.float64)     # numbers become float64 constants, as in torch


# ---- inputs: each a function of a NumPy Generator -----------------------------------------------------------
def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def positive(*shape, low=1e-3):
    return lambda rng: rng.uniform(low, 3.0, size=shape)


def grid(*shape, values=(-1.0, -0.5, 0.0, 0.5, 1.0)):
    """Few distinct values: exact zeros, bounds and ties."""
    return lambda rng: rng.choice(values, size=shape)


def probabilities(*shape):
    return lambda rng: rng.uniform(0.01, 0.99, size=shape)


def linear(module_out=Linear):
    def ours(x, w, b):
        layer = module_out(*w.shape)
        layer.weight, layer.bias = w, b
        return layer(x)
    return ours


LABELS = np.array([2, 0, 1, 1])

# name: (ours, theirs, inputs). `ours` and `theirs` take Tensors / torch tensors made from the same arrays.
CASES = {
    "Tensor.__add__": (lambda a, b: a + b, None, [normal(3, 4), normal(4)]),
    "Tensor.__radd__": (lambda a: 2.0 + a, None, [normal(3)]),
    "Tensor.__sub__": (lambda a, b: a - b, None, [normal(3, 1), normal(4)]),
    "Tensor.__rsub__": (lambda a: 2.0 - a, None, [normal(3)]),
    "Tensor.__mul__": (lambda a, b: a * b, None, [normal(2, 3), normal(2, 1)]),
    "Tensor.__rmul__": (lambda a: 3.0 * a, None, [normal(3)]),
    "Tensor.__truediv__": (lambda a, b: a / b, None, [normal(2, 3), positive(3, low=0.5)]),
    "Tensor.__rtruediv__": (lambda a: 2.0 / a, None, [positive(3, low=0.5)]),
    "Tensor.__neg__": (lambda a: -a, None, [normal(3)]),
    "Tensor.__pow__": (lambda a, b: a ** b, None, [grid(3, 4, values=(-2.0, -0.5, 0.0, 0.5, 2.0)),
                                                   grid(4, values=(-1.0, 0.0, 0.5, 2.0, 3.0))]),
    "Tensor.__rpow__": (lambda a: 2.5 ** a, None, [normal(3)]),
    "Tensor.matmul": (lambda a, b: a.matmul(b), None, [normal(2, 3, 4), normal(4, 5)]),
    "Tensor.__matmul__": (lambda a, b: a @ b, None, [normal(4), normal(4, 2)]),
    "Tensor.__rmatmul__": (lambda a: np.ones((2, 3)) @ a, lambda a: torch.ones(2, 3, dtype=a.dtype) @ a,
                           [normal(3, 4)]),
    "Tensor.exp": (lambda a: a.exp(), None, [normal(3, 2)]),
    "Tensor.log": (lambda a: a.log(), None, [positive(3, 2)]),
    "Tensor.sqrt": (lambda a: a.sqrt(), None, [positive(3, 2)]),
    "Tensor.abs": (lambda a: a.abs(), None, [grid(3, 4)]),
    "Tensor.clip": (lambda a: a.clip(-0.5, 0.5), None, [grid(3, 4, values=(-1.0, -0.5, 0.0, 0.5, 0.7))]),
    "Tensor.clamp": (lambda a: a.clamp(min=-0.5), None, [grid(3, 4)]),
    "Tensor.minimum": (lambda a, b: a.minimum(b), None, [grid(3, 4), grid(4)]),
    "Tensor.maximum": (lambda a, b: a.maximum(b), None, [grid(3, 4), grid(3, 1)]),
    "Tensor.sum": (lambda a: a.sum(0), None, [normal(3, 4)]),
    "Tensor.mean": (lambda a: a.mean(-1, True), None, [normal(3, 4)]),
    "Tensor.max": (lambda a: a.max(1) + a.max(), lambda a: a.amax(1) + a.max(), [grid(3, 4)]),
    "Tensor.min": (lambda a: a.min(0, True) + a.min(), lambda a: a.amin(0, True) + a.min(), [grid(3, 4)]),
    "Tensor.argmax": (lambda a: a.argmax(1), None, [normal(3, 4)]),
    "Tensor.reshape": (lambda a: a.reshape(4, 3), None, [normal(2, 6)]),
    "Tensor.permute": (lambda a: a.permute(2, 0, 1), None, [normal(2, 3, 4)]),
    "Tensor.transpose": (lambda a: a.transpose(0, 2), None, [normal(2, 3, 4)]),
    "Tensor.T": (lambda a: a.T, None, [normal(3, 4)]),
    "Tensor.flatten": (lambda a: a.flatten(1), None, [normal(2, 3, 4)]),
    "Tensor.squeeze": (lambda a: a.squeeze(1), None, [normal(3, 1, 2)]),
    "Tensor.unsqueeze": (lambda a: a.unsqueeze(-1), None, [normal(3, 2)]),
    "Tensor.clone": (lambda a: a.clone(), None, [normal(3, 2)]),
    "Tensor.__getitem__": (lambda a: a[[0, 0, 2], 1:] + a[a > 0].sum(), None, [normal(3, 4)]),
    "Tensor.__lt__": (lambda a, b: a < b, None, [grid(3, 4), grid(4)]),
    "Tensor.__le__": (lambda a, b: a <= b, None, [grid(3, 4), grid(4)]),
    "Tensor.__gt__": (lambda a, b: a > b, None, [grid(3, 4), grid(4)]),
    "Tensor.__ge__": (lambda a, b: a >= b, None, [grid(3, 4), grid(4)]),
    "Tensor.__eq__": (lambda a, b: a == b, None, [grid(3, 4), grid(4)]),
    "Tensor.__ne__": (lambda a, b: a != b, None, [grid(3, 4), grid(4)]),
    "Tensor.tolist": (lambda a: a.tolist(), None, [normal(2, 3)]),
    "ReLU.forward": (lambda a: ReLU()(a), torch.relu, [grid(3, 4, values=(-1.0, -0.5, 0.5, 1.0))]),
    "Sigmoid.forward": (lambda a: Sigmoid()(a), torch.sigmoid, [normal(3, 4)]),
    "Tanh.forward": (lambda a: Tanh()(a), torch.tanh, [normal(3, 4)]),
    "GELU.forward": (lambda a: GELU()(a), lambda a: F.gelu(a, approximate="tanh"), [normal(3, 4)]),
    "Softmax.forward": (lambda a: Softmax(dim=0)(a), lambda a: torch.softmax(a, 0), [normal(3, 4)]),
    "MSELoss.forward": (lambda p, t: MSELoss()(p, t), F.mse_loss, [normal(4, 3), normal(4, 3)]),
    "BinaryCrossEntropyLoss.forward": (lambda p, t: BinaryCrossEntropyLoss()(p, t), F.binary_cross_entropy,
                                       [probabilities(4, 3), probabilities(4, 3)]),
    "CrossEntropyLoss.forward": (lambda z: CrossEntropyLoss()(z, LABELS),
                                 lambda z: F.cross_entropy(z, torch.tensor(LABELS)), [normal(4, 3)]),
    "Linear.forward": (linear(), lambda x, w, b: x @ w + b, [normal(5, 3), normal(3, 2), normal(2)]),
}
NOT_OPERATIONS = {"numpy", "item", "__len__", "__repr__", "__array__", "__bool__", "backward", "zero_grad",
                  "detach", "retain_grad", "shape", "size", "ndim", "dtype"}


def test_every_operation_has_a_case():
    methods = {f"Tensor.{name}" for name, value in vars(Tensor).items()
               if isinstance(value, (types.FunctionType, property)) and name not in NOT_OPERATIONS
               and (not name.startswith("_") or (name.endswith("__") and name != "__init__"))}
    expected = methods | set(ag.DIFFERENTIABLE_OPS)
    assert set(CASES) == expected, (f"missing: {sorted(expected - set(CASES))}, "
                                    f"stale: {sorted(set(CASES) - expected)}")


def _close(ours, theirs, what):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch {theirs.shape}"
    if ours.dtype == bool or theirs.dtype == bool or ours.dtype.kind in "iu":
        assert np.array_equal(ours, theirs), f"{what}: {ours} != PyTorch's {theirs}"
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(seed=st.integers(0, 2 ** 16))
def test_the_engine_agrees_with_pytorch(name, seed):
    ours_fn, theirs_fn, inputs = CASES[name]
    theirs_fn = theirs_fn or ours_fn
    rng = np.random.default_rng(seed)
    arrays = [make(rng) for make in inputs]
    mine = [Tensor(a, requires_grad=True) for a in arrays]
    torchs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    with np.errstate(divide="ignore", invalid="ignore"):          # pow and log at their edges: inf, nan
        out, expected = ours_fn(*mine), theirs_fn(*torchs)
        if not isinstance(out, Tensor):                            # tolist
            assert out == expected, name
            return
        _close(out.data, expected.detach().numpy(), f"{name} forward")
        if not expected.requires_grad:                            # comparisons, argmax: no graph on either side
            assert out._grad_fn is None and not out.requires_grad, name
            return
        upstream = rng.normal(size=out.shape)
        out.backward(upstream)
        expected.backward(torch.tensor(upstream))
    for i, (t, e) in enumerate(zip(mine, torchs)):
        ours_grad = np.zeros_like(t.data) if t.grad is None else t.grad
        theirs_grad = np.zeros_like(arrays[i]) if e.grad is None else e.grad.numpy()
        _close(ours_grad, theirs_grad, f"{name}: gradient of input {i}")
