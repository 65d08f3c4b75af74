# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 04: Losses
#
# A **loss** turns a batch of predictions and the right answers into one number: how wrong the model is.
# Training is the search for parameters that make this number small, and autograd (module 06) starts every
# backward pass from it. So each loss here returns a **scalar** Tensor, the mean over the batch.
#
# | loss | predictions | targets | formula (per sample) |
# |---|---|---|---|
# | `MSELoss` | any real numbers | same shape | `(pred - target)^2` |
# | `BinaryCrossEntropyLoss` | probabilities in (0, 1) | 0/1 (or soft) labels in [0, 1] | `-(t log p + (1 - t) log(1 - p))` |
# | `CrossEntropyLoss` | logits `(batch, classes)` | class indices `(batch,)` | `-log softmax(logits)[target]` |
#
# Logs are where numerics go wrong: `log(0) = -inf`. BCE clips probabilities to `[1e-7, 1 - 1e-7]`, and
# cross-entropy uses a stable `log_softmax` that never takes the log of an exponential that has under- or
# overflowed.

# %%
#| default_exp core.losses

# %%
#| export
import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor

# %% [markdown]
# ## The shared base class
#
# `loss(pred, target)` calls `loss.forward(pred, target)`, looked up at call time so that autograd can
# replace `forward`.

# %%
#| export
class Loss:
    """Base class: `loss(pred, target)` calls `loss.forward(pred, target)` and returns a scalar Tensor."""

    def forward(self, pred, target):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def parameters(self):
        return []

    def __repr__(self):
        return f"{type(self).__name__}()"



def _check_same_shape(loss_name, pred, target):
    # Broadcasting (batch, 1) against (batch,) silently builds a (batch, batch) matrix: refuse it.
    if pred.shape != target.shape:
        raise ValueError(f"{loss_name}: prediction shape {pred.shape} and target shape {target.shape} "
                         "differ; reshape one of them")


# %% [markdown]
# ## Mean squared error
#
# `MSE = mean((pred - target)^2)`. Squaring punishes large errors much more than small ones.

# %% nbgrader={"grade": false, "grade_id": "mse", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class MSELoss(Loss):
    def forward(self, pred, target):
        """Mean of squared differences, as a 0-d Tensor.

        TODO: return `Tensor(np.mean((pred.data - target.data) ** 2))`.
        """
        pred, target = as_tensor(pred), as_tensor(target)
        _check_same_shape("MSELoss", pred, target)
        ### BEGIN SOLUTION
        return Tensor(np.mean((pred.data - target.data) ** 2))
        ### END SOLUTION


# %% [markdown]
# ## Binary cross-entropy
#
# For a predicted probability `p` and a label `t`: `-(t log p + (1 - t) log(1 - p))`. A confident wrong
# answer (`p = 0`, `t = 1`) would cost `-log 0 = inf`; clipping `p` to `[1e-7, 1 - 1e-7]` caps the cost at
# about 16 and keeps every gradient finite. (We clip in float64: `1 - 1e-7` has no exact
# float32 value.) Targets outside [0, 1] are a bug, so they raise.

# %% nbgrader={"grade": false, "grade_id": "bce", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class BinaryCrossEntropyLoss(Loss):
    eps = 1e-7

    def forward(self, pred, target):
        """Mean binary cross-entropy of probabilities `pred` against labels `target` in [0, 1].

        TODO: clip `pred` (as float64) to [eps, 1 - eps], then average -(t log p + (1 - t) log(1 - p)).

        HINTS: `np.clip`, `np.log`, `np.mean`.
        """
        pred, target = as_tensor(pred), as_tensor(target)
        _check_same_shape("BinaryCrossEntropyLoss", pred, target)
        if target.size and (target.data.min() < 0 or target.data.max() > 1):
            raise ValueError(f"BinaryCrossEntropyLoss: targets must be in [0, 1], got values from "
                             f"{target.data.min()} to {target.data.max()}")
        ### BEGIN SOLUTION
        # float64 inside: 1 - 1e-7 is not a float32 number (it would round to 1 - 1.19e-7)
        p = np.clip(pred.data.astype(np.float64), self.eps, 1 - self.eps)
        t = target.data.astype(np.float64)
        return Tensor(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p))))
        ### END SOLUTION


# %% [markdown]
# ## Stable log-softmax
#
# `log softmax(x)_i = x_i - log sum_j e^{x_j}`. Subtracting the row maximum `m` first gives the same value,
# `(x_i - m) - log sum_j e^{x_j - m}`, but the largest exponent is now `e^0 = 1`: the sum is at least 1, so
# its log is finite, and nothing overflows even for logits of ±1000.

# %% nbgrader={"grade": false, "grade_id": "log-softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def log_softmax(x, axis=-1):
    """Stable log-softmax of a NumPy array along `axis` (returns a NumPy array).

    TODO: shifted = x - max(x, axis, keepdims=True); return shifted - log(sum(exp(shifted), axis,
    keepdims=True)).
    """
    ### BEGIN SOLUTION
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    ### END SOLUTION


# %% [markdown]
# ## Cross-entropy for classification
#
# With logits of shape `(batch, classes)` and integer targets of shape `(batch,)`, the loss of each sample
# is minus the log-probability the model gave the right class. NumPy's *fancy indexing* picks one entry per
# row: `logp[np.arange(batch), target]`. Targets are validated first: they must be whole numbers and name a
# class that exists.

# %%
#| export
def _class_indices(logits, target):
    """Validate CrossEntropyLoss inputs; return the targets as an int64 array."""
    if logits.ndim != 2:
        raise ValueError(f"CrossEntropyLoss: logits must have shape (batch, classes), got {logits.shape}")
    indices = target.data if isinstance(target, Tensor) else np.asarray(target)
    if indices.shape != (logits.shape[0],):
        raise ValueError(f"CrossEntropyLoss: targets must have shape ({logits.shape[0]},) to match logits "
                         f"of shape {logits.shape}, got {indices.shape}")
    is_integer, is_float = indices.dtype.kind in "iu", indices.dtype.kind == "f"
    if not is_integer and not (is_float and np.all(indices == np.round(indices))):
        raise ValueError(f"CrossEntropyLoss: targets must be integer class indices, got {indices!r}")
    indices = indices.astype(np.int64)
    bad = indices[(indices < 0) | (indices >= logits.shape[1])]
    if bad.size:
        raise ValueError(f"CrossEntropyLoss: class index {bad[0]} is outside [0, {logits.shape[1]}) "
                         f"for logits of shape {logits.shape}")
    return indices


# %% nbgrader={"grade": false, "grade_id": "cross-entropy", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class CrossEntropyLoss(Loss):
    def forward(self, pred, target):
        """Mean of -log_softmax(pred)[i, target[i]] over the batch.

        TODO: validate with `_class_indices`, compute `log_softmax(pred.data, axis=1)`, pick each row's
        target entry with fancy indexing, return minus the mean as a Tensor.
        """
        pred = as_tensor(pred)
        indices = _class_indices(pred, target)
        ### BEGIN SOLUTION
        logp = log_softmax(pred.data, axis=1)
        return Tensor(-np.mean(logp[np.arange(len(indices)), indices]))
        ### END SOLUTION


# %% [markdown]
# ## Tests

# %%
import warnings

# %% nbgrader={"grade": true, "grade_id": "test-mse-bce", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_mse_and_bce():
    pred, target = Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 0.0, 5.0])
    loss = MSELoss()(pred, target)
    assert loss.shape == (), f"a loss must be a scalar Tensor, got shape {loss.shape}"
    assert np.isclose(loss.item(), (0 + 4 + 4) / 3), f"MSE should be 8/3, got {loss.item()}"
    p, t = Tensor([0.9, 0.2, 0.6]), Tensor([1.0, 0.0, 1.0])
    expected = -np.mean(t.data * np.log(p.data) + (1 - t.data) * np.log(1 - p.data))
    bce = BinaryCrossEntropyLoss()(p, t)
    assert np.isclose(bce.item(), expected, atol=1e-6), f"BCE should be {expected:.6f}, got {bce.item():.6f}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # log(0) would warn: clipping must prevent it
        worst = BinaryCrossEntropyLoss()(Tensor([0.0, 1.0]), Tensor([1.0, 0.0])).item()
    assert np.isfinite(worst) and 15 < worst < 17, f"clipped BCE of a certain mistake should be ~16, got {worst}"
    try:
        BinaryCrossEntropyLoss()(Tensor([0.5]), Tensor([2.0]))
        raise AssertionError("a target of 2.0 should raise ValueError")
    except ValueError as error:
        assert "BinaryCrossEntropyLoss" in str(error) and "2.0" in str(error), f"unclear error: {error}"
    ### BEGIN HIDDEN TESTS
    try:
        MSELoss()(Tensor(np.ones((4, 1))), Tensor(np.ones(4)))
        raise AssertionError("shape mismatch should raise")
    except ValueError as error:
        assert "(4, 1)" in str(error)
    assert MSELoss()(Tensor(np.ones((2, 3))), np.ones((2, 3))).item() == 0.0
    ### END HIDDEN TESTS
    print("✅ test_unit_mse_and_bce passed")


if __name__ == "__main__":
    test_unit_mse_and_bce()

# %% nbgrader={"grade": true, "grade_id": "test-cross-entropy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_cross_entropy():
    logits = Tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    target = [0, 1]
    probs = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probs[[0, 1], target]))
    loss = CrossEntropyLoss()(logits, target)
    assert loss.shape == (), f"a loss must be a scalar Tensor, got shape {loss.shape}"
    assert np.isclose(loss.item(), expected, atol=1e-6), f"CE should be {expected:.6f}, got {loss.item():.6f}"
    assert np.allclose(log_softmax(logits.data), np.log(probs), atol=1e-6), "log_softmax wrong"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = CrossEntropyLoss()(Tensor([[1000.0, -1000.0], [-1000.0, 1000.0]]), Tensor([1, 1])).item()
    assert np.isclose(extreme, 1000.0), f"CE of logits ±1000 should be 1000 (finite), got {extreme}"
    try:
        CrossEntropyLoss()(logits, [0, 3])
        raise AssertionError("class index 3 for 3 classes should raise ValueError")
    except ValueError as error:
        assert "3" in str(error) and "(2, 3)" in str(error), f"unclear error: {error}"
    ### BEGIN HIDDEN TESTS
    assert np.isclose(CrossEntropyLoss()(logits, np.array([0, 1])).item(), expected, atol=1e-6)
    try:
        CrossEntropyLoss()(logits, [-1, 0])
        raise AssertionError("negative class should raise")
    except ValueError:
        pass
    ### END HIDDEN TESTS
    print("✅ test_unit_cross_entropy passed")


if __name__ == "__main__":
    test_unit_cross_entropy()

# %% [markdown]
# ## Summary
#
# Three losses, each a scalar mean over the batch: MSE for regression, BCE (clipped) for probabilities,
# cross-entropy (through a stable `log_softmax`) for class indices. Bad targets raise errors that name the
# loss and the offending values. Module 06 differentiates them, and a training loop calls `backward()` on
# their result.
