"""Module 04: losses against direct formulas, extreme inputs and bad targets."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss, log_softmax
from tinytorch.core.tensor import Tensor

FAST = settings(max_examples=40, deadline=None)


def arrays(shape, low, high):
    return hnp.arrays(np.float32, shape, elements=st.floats(low, high, width=32))


@FAST
@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=5).flatmap(
    lambda shape: st.tuples(arrays(shape, -100, 100), arrays(shape, -100, 100))))
def test_mse_matches_formula(pair):
    pred, target = pair
    loss = MSELoss()(Tensor(pred), Tensor(target))
    assert loss.shape == () and loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), np.mean((pred.astype(np.float64) - target) ** 2), rtol=1e-4, atol=1e-6)


@FAST
@given(st.integers(1, 20).flatmap(lambda n: st.tuples(arrays((n,), 0, 1), arrays((n,), 0, 1))))
def test_bce_matches_clipped_formula(pair):
    pred, target = pair
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = BinaryCrossEntropyLoss()(Tensor(pred), Tensor(target))
    p = np.clip(pred.astype(np.float64), 1e-7, 1 - 1e-7)
    expected = -np.mean(target * np.log(p) + (1 - target) * np.log(1 - p))
    assert loss.shape == () and np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-3, atol=1e-5)


def test_bce_extremes_are_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = BinaryCrossEntropyLoss()(Tensor([0.0, 1.0, 0.0, 1.0]), Tensor([1.0, 0.0, 0.0, 1.0])).item()
    assert np.isfinite(loss) and 7 < loss < 9   # two capped mistakes (~16 each) and two perfect answers


@pytest.mark.parametrize("bad", [[-0.5, 1.0], [0.0, 2.0]])
def test_bce_rejects_targets_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"BinaryCrossEntropyLoss: targets must be in \[0, 1\], got values"):
        BinaryCrossEntropyLoss()(Tensor([0.5, 0.5]), Tensor(bad))


@st.composite
def logits_and_targets(draw):
    batch, classes = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    logits = draw(arrays((batch, classes), -1000, 1000))
    target = draw(hnp.arrays(np.int64, (batch,), elements=st.integers(0, classes - 1)))
    return logits, target


@FAST
@given(logits_and_targets())
def test_cross_entropy_matches_formula(case):
    logits, target = case
    x = logits.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    logp = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    expected = -np.mean(logp[np.arange(len(target)), target])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for given_target in (target, list(target), Tensor(target)):
            loss = CrossEntropyLoss()(Tensor(logits), given_target)
            assert loss.shape == () and np.isfinite(loss.item())
            np.testing.assert_allclose(loss.item(), expected, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(log_softmax(logits.astype(np.float64), axis=1), logp, atol=1e-9)


def test_cross_entropy_extreme_logits():
    loss = CrossEntropyLoss()(Tensor([[1000.0, -1000.0]]), [1]).item()
    assert loss == pytest.approx(2000.0)


@pytest.mark.parametrize("target, message", [
    ([0, 3], r"CrossEntropyLoss: class index 3 is outside \[0, 3\) for logits of shape \(2, 3\)"),
    ([-1, 0], r"CrossEntropyLoss: class index -1 is outside \[0, 3\) for logits of shape \(2, 3\)"),
    ([0.5, 1], r"CrossEntropyLoss: targets must be integer class indices"),
    ([0], r"CrossEntropyLoss: targets must have shape \(2,\) to match logits of shape \(2, 3\), got \(1,\)"),
    (["a", "b"], r"CrossEntropyLoss: targets must be integer class indices"),
])
def test_cross_entropy_bad_targets(target, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyLoss()(Tensor(np.zeros((2, 3))), target)


def test_cross_entropy_needs_2d_logits():
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: logits must have shape \(batch, classes\), got \(3,\)"):
        CrossEntropyLoss()(Tensor([1.0, 2.0, 3.0]), [0])


@pytest.mark.parametrize("loss", [MSELoss(), BinaryCrossEntropyLoss()])
def test_shape_mismatch_is_an_error(loss):
    name = type(loss).__name__
    with pytest.raises(ValueError, match=rf"{name}: prediction shape \(4, 1\) and target shape \(4,\) differ"):
        loss(Tensor(np.full((4, 1), 0.5)), Tensor(np.ones(4)))


@pytest.mark.parametrize("cls", [MSELoss, BinaryCrossEntropyLoss, CrossEntropyLoss])
def test_call_uses_forward_at_call_time(cls, monkeypatch):
    loss = cls()
    monkeypatch.setattr(cls, "forward", lambda self, pred, target: "patched")
    assert loss(Tensor([[0.5]]), [0]) == "patched"
