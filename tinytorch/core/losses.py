# Generated from src/04_losses/04_losses.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['Loss', 'MSELoss', 'BinaryCrossEntropyLoss', 'log_softmax', 'CrossEntropyLoss']

# %% ../../src/04_losses/04_losses.py #04_losses-002
import numpy as np

from .tensor import Tensor, as_tensor

# %% ../../src/04_losses/04_losses.py #04_losses-004
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

# %% ../../src/04_losses/04_losses.py #mse
class MSELoss(Loss):
    def forward(self, pred, target):
        """Mean of squared differences, as a 0-d Tensor."""
        pred, target = as_tensor(pred), as_tensor(target)
        _check_same_shape("MSELoss", pred, target)
        return Tensor(np.mean((pred.data - target.data) ** 2))

# %% ../../src/04_losses/04_losses.py #bce
class BinaryCrossEntropyLoss(Loss):
    eps = 1e-7

    def forward(self, pred, target):
        """Mean binary cross-entropy of probabilities `pred` against labels `target` in [0, 1]."""
        pred, target = as_tensor(pred), as_tensor(target)
        _check_same_shape("BinaryCrossEntropyLoss", pred, target)
        if target.size and (target.data.min() < 0 or target.data.max() > 1):
            raise ValueError(f"BinaryCrossEntropyLoss: targets must be in [0, 1], got values from "
                             f"{target.data.min()} to {target.data.max()}")
        # float64 inside: 1 - 1e-7 is not a float32 number (it would round to 1 - 1.19e-7)
        p = np.clip(pred.data.astype(np.float64), self.eps, 1 - self.eps)
        t = target.data.astype(np.float64)
        return Tensor(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p))))

# %% ../../src/04_losses/04_losses.py #log-softmax
def log_softmax(x, axis=-1):
    """Stable log-softmax of a NumPy array along `axis` (returns a NumPy array)."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

# %% ../../src/04_losses/04_losses.py #04_losses-012
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

# %% ../../src/04_losses/04_losses.py #cross-entropy
class CrossEntropyLoss(Loss):
    def forward(self, pred, target):
        """Mean of -log_softmax(pred)[i, target[i]] over the batch."""
        pred = as_tensor(pred)
        indices = _class_indices(pred, target)
        logp = log_softmax(pred.data, axis=1)
        return Tensor(-np.mean(logp[np.arange(len(indices)), indices]))
