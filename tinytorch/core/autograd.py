# Generated from src/06_autograd/06_autograd.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['DIFFERENTIABLE_OPS', 'no_grad', 'is_grad_enabled', 'Function', 'AddBackward', 'SubBackward', 'MulBackward',
           'DivBackward', 'NegBackward', 'MatmulBackward', 'SumBackward', 'MeanBackward', 'MaxBackward',
           'ReshapeBackward', 'TransposeBackward', 'PermuteBackward', 'SliceBackward', 'ReLUBackward',
           'SigmoidBackward', 'TanhBackward', 'GELUBackward', 'SoftmaxBackward', 'MSEBackward', 'BCEBackward',
           'CrossEntropyBackward', 'unbroadcast', 'topological_order', 'backward', 'zero_grad', 'detach', 'retain_grad',
           'LinearBackward', 'op_name', 'disable_autograd', 'enable_autograd', 'GradcheckError', 'gradcheck',
           'graph_memory', 'GraphView', 'show_graph']

# %% ../../src/06_autograd/06_autograd.py #06_autograd-002
import functools
import gc

import numpy as np

from .tensor import Tensor, as_tensor
from .activations import ReLU, Sigmoid, Tanh, GELU, Softmax
from .losses import MSELoss, BinaryCrossEntropyLoss, CrossEntropyLoss
from .layers import Linear

# %% ../../src/06_autograd/06_autograd.py #06_autograd-005
_grad_enabled = True   # grad mode: False inside `with no_grad():`


class no_grad:
    """Context manager: inside `with no_grad():` operations record no graph. Nests freely."""

    def __enter__(self):
        global _grad_enabled
        self._previous, _grad_enabled = _grad_enabled, False
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous
        return False


def is_grad_enabled():
    """True unless we are inside `with no_grad():`."""
    return _grad_enabled


def _needs(t):
    """Does this saved input want a gradient?"""
    return isinstance(t, Tensor) and t.requires_grad


def _record(out, node):
    """Make `out` the output of graph node `node`."""
    out.requires_grad, out._grad_fn = True, node
    return out


def _attach(out, node):
    """Make `out` a graph node created by `node`, if grad mode is on and some input requires grad."""
    if _grad_enabled and any(_needs(t) for t in node.saved_tensors):
        return _record(out, node)
    return out

# %% ../../src/06_autograd/06_autograd.py #function
class Function:
    """Base class of every backward rule: remembers the inputs of one operation."""

    def __init__(self, *tensors):
        """Store the operation's inputs.

        TODO: keep `tensors` (a tuple) in `self.saved_tensors`.

        APPROACH: one assignment.

        HINTS: keep the order: `apply` returns gradients in the same order.
        """
        self.saved_tensors = tensors

    def apply(self, grad_output):
        """Return one gradient (np.ndarray or None) per saved tensor. Subclasses implement this.

        Contract with the engine: never change `grad_output` in place, and return either new arrays or
        `grad_output` itself (or a view of it), never an array kept elsewhere: the engine stores a new
        array in a leaf's `.grad` without copying it."""
        raise NotImplementedError(f"{type(self).__name__}.apply is not implemented")

    def __repr__(self):
        return f"<{type(self).__name__}>"

# %% ../../src/06_autograd/06_autograd.py #arithmetic-backward
class AddBackward(Function):
    """z = a + b: grad_a = g, grad_b = g."""

    def apply(self, grad_output):
        """TODO: return the gradients for a and b (None for an input that does not require grad).

        APPROACH: both are grad_output, unchanged. HINTS: use `_needs(tensor)`.
        """
        a, b = self.saved_tensors
        return (grad_output if _needs(a) else None, grad_output if _needs(b) else None)


class SubBackward(Function):
    """z = a - b: grad_a = g, grad_b = -g."""

    def apply(self, grad_output):
        """TODO: gradients for a and b. APPROACH: g for a, -g for b."""
        a, b = self.saved_tensors
        return (grad_output if _needs(a) else None, -grad_output if _needs(b) else None)


class MulBackward(Function):
    """z = a * b: grad_a = g * b, grad_b = g * a."""

    def apply(self, grad_output):
        """TODO: gradients for a and b. APPROACH: g * b for a, g * a for b (use the `.data` arrays)."""
        a, b = self.saved_tensors
        return (grad_output * b.data if _needs(a) else None, grad_output * a.data if _needs(b) else None)


class DivBackward(Function):
    """z = a / b: grad_a = g / b, grad_b = -g * a / b²."""

    def apply(self, grad_output):
        """TODO: gradients for a and b.

        APPROACH: d(a/b)/da = 1/b, d(a/b)/db = -a/b².  HINTS: mind the minus sign.
        """
        a, b = self.saved_tensors
        grad_a = grad_output / b.data if _needs(a) else None
        grad_b = -grad_output * a.data / b.data ** 2 if _needs(b) else None
        return grad_a, grad_b


class NegBackward(Function):
    """z = -a: grad_a = -g."""

    def apply(self, grad_output):
        """TODO: a one-element tuple holding the gradient for a."""
        (a,) = self.saved_tensors
        return (-grad_output if _needs(a) else None,)

# %% ../../src/06_autograd/06_autograd.py #matmul-backward
class MatmulBackward(Function):
    """Z = A @ B (2-D, batched or 1-D operands): grad_A = g @ Bᵀ, grad_B = Aᵀ @ g."""

    def apply(self, grad_output):
        """TODO: gradients for A and B.

        APPROACH:
        1. Promote 1-D operands as np.matmul does: A (k,) -> (1, k), B (k,) -> (k, 1); give `g` the matching
           axis (g[..., None] for a 1-D B first, then g[..., None, :] for a 1-D A).
        2. grad_A = g @ swapaxes(B, -1, -2);  grad_B = swapaxes(A, -1, -2) @ g.
        3. Drop the promoted axis again (grad_A[..., 0, :] for a 1-D A, grad_B[..., 0] for a 1-D B).

        HINTS: `T = lambda x: np.swapaxes(x, -1, -2)`. Batch axes that were broadcast are summed by the engine.
        """
        a, b = self.saved_tensors
        A, B, g = a.data, b.data, grad_output
        T = lambda x: np.swapaxes(x, -1, -2)
        if B.ndim == 1:
            B, g = B[:, None], g[..., None]
        if A.ndim == 1:
            A, g = A[None, :], g[..., None, :]
        grad_a = g @ T(B) if _needs(a) else None
        grad_b = T(A) @ g if _needs(b) else None
        if a.data.ndim == 1 and grad_a is not None:
            grad_a = grad_a[..., 0, :]
        if b.data.ndim == 1 and grad_b is not None:
            grad_b = grad_b[..., 0]
        return grad_a, grad_b

# %% ../../src/06_autograd/06_autograd.py #reduction-backward
class _ReduceBackward(Function):
    """Shared constructor for sum/mean/max: remembers axis and keepdims."""

    def __init__(self, x, axis=None, keepdims=False):
        super().__init__(x)
        self.axis, self.keepdims = axis, keepdims

    def _expand(self, g):
        """Give g back the reduced axes (size 1), so it broadcasts against the input."""
        return g if self.keepdims or self.axis is None else np.expand_dims(g, self.axis)


class SumBackward(_ReduceBackward):
    """z = x.sum(axis): grad_x = g broadcast back to x's shape."""

    def apply(self, grad_output):
        """TODO: broadcast the (expanded) upstream gradient to x's shape.

        APPROACH: `np.broadcast_to(self._expand(grad_output), x.shape)`.
        """
        (x,) = self.saved_tensors
        return (np.broadcast_to(self._expand(grad_output), x.shape),)


class MeanBackward(_ReduceBackward):
    """z = x.mean(axis): grad_x = g broadcast back to x's shape, divided by the number of elements averaged."""

    def apply(self, grad_output):
        """TODO: like SumBackward, divided by the count of averaged elements (x.size / grad_output.size)."""
        (x,) = self.saved_tensors
        count = x.data.size / max(np.size(grad_output), 1)
        return (np.broadcast_to(self._expand(grad_output), x.shape) / count,)


class MaxBackward(_ReduceBackward):
    """z = x.max(axis): grad_x = g at the maxima (tied maxima share it evenly), 0 elsewhere."""

    def apply(self, grad_output):
        """TODO: send the gradient to the maxima; tied maxima share it evenly.

        APPROACH:
        1. `top = x.data.max(axis=self.axis, keepdims=True)`; `mask = (x.data == top)`.
        2. `share = mask / mask.sum(axis=self.axis, keepdims=True)`.
        3. Return `(share * self._expand(grad_output),)`.
        """
        (x,) = self.saved_tensors
        mask = x.data == x.data.max(axis=self.axis, keepdims=True)
        share = mask / mask.sum(axis=self.axis, keepdims=True)
        return (share * self._expand(grad_output),)

# %% ../../src/06_autograd/06_autograd.py #shape-backward
class ReshapeBackward(Function):
    """z = x.reshape(shape): grad_x = g reshaped to x's shape."""

    def __init__(self, x, *shape):
        super().__init__(x)

    def apply(self, grad_output):
        """TODO: reshape the gradient to x's shape."""
        (x,) = self.saved_tensors
        return (np.reshape(grad_output, x.shape),)


class TransposeBackward(Function):
    """z = x.transpose(dim0, dim1): grad_x = g with the same two axes swapped back."""

    def __init__(self, x, dim0=None, dim1=None):
        super().__init__(x)
        self.dims = (-2, -1) if dim0 is None else (dim0, dim1)

    def apply(self, grad_output):
        """TODO: swap the same two axes back (a tensor with fewer than 2 axes was returned unchanged)."""
        (x,) = self.saved_tensors
        if x.data.ndim < 2:
            return (grad_output,)
        return (np.swapaxes(grad_output, *self.dims),)


class PermuteBackward(Function):
    """z = x.permute(axes): grad_x = g permuted by the inverse permutation."""

    def __init__(self, x, *axes):
        super().__init__(x)
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        self.axes = [int(a) % max(x.data.ndim, 1) for a in axes]

    def apply(self, grad_output):
        """TODO: apply the inverse permutation. HINTS: `np.transpose(g, np.argsort(self.axes))`."""
        return (np.transpose(grad_output, np.argsort(self.axes)),)


class SliceBackward(Function):
    """z = x[key]: grad_x = g scattered into zeros of x's shape at key (repeated indices add up)."""

    def __init__(self, x, key):
        super().__init__(x)
        self.key = key.data.astype(np.int64) if isinstance(key, Tensor) else key

    def apply(self, grad_output):
        """TODO: scatter the gradient into zeros of x's shape, accumulating repeated indices.

        APPROACH: `grad = np.zeros_like(x.data)`; `np.add.at(grad, self.key, grad_output)`.
        """
        (x,) = self.saved_tensors
        grad = np.zeros_like(x.data)
        np.add.at(grad, self.key, grad_output)
        return (grad,)

# %% ../../src/06_autograd/06_autograd.py #activation-backward
class _ActivationBackward(Function):
    """Element-wise activation: saves the input x and keeps the output array as `self.out`."""

    def __init__(self, x, out):
        super().__init__(x)
        self.out = out.data if isinstance(out, Tensor) else np.asarray(out)


class ReLUBackward(_ActivationBackward):
    """z = relu(x): grad_x = g * (x > 0)."""

    def apply(self, grad_output):
        """TODO: pass the gradient where x > 0, zero elsewhere."""
        (x,) = self.saved_tensors
        return (grad_output * (x.data > 0),)


class SigmoidBackward(_ActivationBackward):
    """s = sigmoid(x): grad_x = g * s * (1 - s)."""

    def apply(self, grad_output):
        """TODO: g * s * (1 - s), with s = self.out."""
        s = self.out
        return (grad_output * s * (1 - s),)


class TanhBackward(_ActivationBackward):
    """s = tanh(x): grad_x = g * (1 - s²)."""

    def apply(self, grad_output):
        """TODO: g * (1 - s**2), with s = self.out."""
        return (grad_output * (1 - self.out ** 2),)


class GELUBackward(_ActivationBackward):
    """z = gelu(x) (tanh approximation): grad_x = g * the derivative of that approximation."""

    def apply(self, grad_output):
        """TODO: the derivative of the tanh approximation given above.

        HINTS: clip x to [-20, 20] for u, as the forward does (beyond that the derivative is 0 or 1 anyway).
        """
        (x,) = self.saved_tensors
        c, k = np.sqrt(2 / np.pi), 0.044715
        inner = np.clip(x.data, -20, 20)
        t = np.tanh(c * (inner + k * inner ** 3))
        return (grad_output * (0.5 * (1 + t) + 0.5 * x.data * (1 - t ** 2) * c * (1 + 3 * k * inner ** 2)),)


class SoftmaxBackward(_ActivationBackward):
    """s = softmax(x) along dim: grad_x = s * (g - sum(g * s, along dim))."""

    def __init__(self, x, out, dim=-1):
        super().__init__(x, out)
        self.dim = dim

    def apply(self, grad_output):
        """TODO: s * (g - sum(g * s, axis=self.dim, keepdims=True)), with s = self.out."""
        s = self.out
        return (s * (grad_output - np.sum(grad_output * s, axis=self.dim, keepdims=True)),)

# %% ../../src/06_autograd/06_autograd.py #loss-backward
class MSEBackward(Function):
    """mean((p - t)²) over N elements: grad_p = g · 2 (p - t) / N, grad_t = -grad_p."""

    def apply(self, grad_output):
        """TODO: gradients for predictions and targets of mean((p - t)**2)."""
        pred, target = self.saved_tensors
        grad = grad_output * 2 * (pred.data - target.data) / pred.data.size
        return (grad if _needs(pred) else None, -grad if _needs(target) else None)


class BCEBackward(Function):
    """-mean(t log p + (1 - t) log(1 - p)) over N elements: grad_p = g · (p - t) / (p (1 - p)) / N."""

    def apply(self, grad_output):
        """TODO: gradient for the predictions (None for the targets)."""
        pred, target = self.saved_tensors
        p = np.clip(pred.data, 1e-7, 1 - 1e-7)
        grad = grad_output * (p - target.data) / (p * (1 - p)) / p.size
        return (grad if _needs(pred) else None, None)


class CrossEntropyBackward(Function):
    """mean(-log softmax(z)[i, t_i]) over the batch: grad_z = g · (softmax(z) - onehot(t)) / batch."""

    def apply(self, grad_output):
        """TODO: g * (softmax(logits) - onehot(targets)) / batch; None for the targets.

        HINTS: softmax along the last axis, stabilised by subtracting the row max; build the one-hot by
        subtracting 1 at `[np.arange(batch), targets]` from a copy of the softmax.
        """
        logits, target = self.saved_tensors
        z = logits.data - logits.data.max(axis=-1, keepdims=True)
        probs = np.exp(z)
        probs /= probs.sum(axis=-1, keepdims=True)
        batch = len(probs)
        probs[np.arange(batch), target.data.astype(np.int64)] -= 1
        return (grad_output * probs / batch if _needs(logits) else None, None)

# %% ../../src/06_autograd/06_autograd.py #unbroadcast
def unbroadcast(grad, shape):
    """Reduce `grad` to `shape` by summing the axes that broadcasting created or stretched.

    TODO: implement the two steps above.

    APPROACH:
    1. While `grad.ndim > len(shape)`: `grad = grad.sum(axis=0)`.
    2. For each axis where `shape[axis] == 1` and `grad.shape[axis] != 1`: sum it with keepdims=True.

    HINTS: return `grad` untouched when it already has `shape`; if it cannot be reduced, return it as is
    (the engine then reports the shape mismatch).
    """
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.ndim == len(shape) and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad

# %% ../../src/06_autograd/06_autograd.py #backward
def topological_order(root):
    """Every tensor of root's graph that requires grad, each after all of its inputs (iterative DFS).

    TODO: the explicit-stack depth-first search described above.
    """
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            if node._grad_fn is not None:
                for t in node._grad_fn.saved_tensors:
                    if _needs(t) and id(t) not in visited:
                        stack.append((t, False))
    return order


def _input_gradient(node, index, grad, tensor):
    """unbroadcast a rule's gradient to its input's shape; a clear error when that is impossible."""
    if isinstance(grad, np.ndarray) and grad.shape == tensor.data.shape:
        return grad        # the common case, kept cheap: this runs once per edge of the graph
    reduced = unbroadcast(grad, tensor.shape)
    if np.shape(reduced) != tensor.shape:
        raise ValueError(f"{type(node).__name__}.apply returned a gradient of shape {np.shape(grad)} for "
                         f"input {index}, which cannot be reduced to the input's shape {tensor.shape}")
    return reduced


def _as_grad(grad, dtype, private):
    """The array to store in a `.grad`: `grad` itself when it is private and already a plain array of
    `dtype`, otherwise a copy (so that `.grad` never aliases another array)."""
    if private and type(grad) is np.ndarray and grad.dtype == dtype:
        return grad
    return np.array(grad, dtype=dtype)


def backward(self, gradient=None):
    """Fill `.grad` of every leaf of self's graph with d(self)/d(leaf), accumulating.

    TODO: check the arguments, then the topological walk described above.

    APPROACH:
    1. Not `self.requires_grad` -> RuntimeError. No gradient: ones for a one-element tensor, else
       ValueError. A gradient of the wrong shape -> ValueError naming both shapes.
    2. `pending = {id(self): (gradient, False)}` maps a tensor to (its summed gradient, is it private?).
       For node in reversed(topological_order(self)): pop its pair (skip the node if none arrived).
    3. On a leaf or a retain_grad tensor, store: `node.grad = _as_grad(grad, dtype, private)` the first
       time (private only on a leaf, and only if no other .grad holds this array already: keep a set of the
       ids stored), then `_as_grad(node.grad + grad, dtype, True)` (a sum is a new array).
    4. Stop at leaves. Otherwise, with `fn = node._grad_fn`, for i, (t, g) in
       enumerate(zip(fn.saved_tensors, fn.apply(grad))): skip None / inputs that don't need grad;
       `g = _input_gradient(fn, i, g, t)` (unbroadcast + shape check); a first gradient for t is stored as
       `(g, private)`, private meaning `g is not grad` (not passed on unchanged) `and g.base is None` (not
       a view); a later one as the sum, `(old + g, True)`.

    HINTS: `dtype` is `node.data.dtype`. A rule may return a tuple or a list.
    """
    if not self.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad and has no graph; create the "
                           "parameters with requires_grad=True (and enable autograd) before the forward pass")
    if gradient is None:
        if self.data.size != 1:
            raise ValueError(f"backward(): a gradient argument is needed for a non-scalar tensor of shape "
                             f"{self.shape}; call it on a scalar loss or pass backward(gradient)")
        gradient = np.ones_like(self.data)
    gradient = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.data.dtype)
    if gradient.shape != self.shape:
        raise ValueError(f"backward(): gradient has shape {gradient.shape}, expected the tensor's shape "
                         f"{self.shape}")
    pending = {id(self): (gradient, False)}   # the caller's gradient is not ours to keep
    stored = set()                            # ids of the arrays put in a .grad during this call
    for node in reversed(topological_order(self)):
        entry = pending.pop(id(node), None)
        if entry is None:   # no gradient reached this node (e.g. it only feeds a branch that was cut)
            continue
        grad, private = entry
        fn = node._grad_fn
        if fn is None or getattr(node, "_retains_grad", False):
            dtype = node.data.dtype
            if node.grad is None:   # a retained intermediate passes grad on below, so it always copies
                node.grad = _as_grad(grad, dtype, private and fn is None and id(grad) not in stored)
            else:
                node.grad = _as_grad(node.grad + grad, dtype, True)
            stored.add(id(node.grad))
        if fn is None:
            continue
        for i, (t, g) in enumerate(zip(fn.saved_tensors, fn.apply(grad))):
            if g is None or not _needs(t):
                continue
            g = _input_gradient(fn, i, g, t)
            if id(t) in pending:
                pending[id(t)] = (pending[id(t)][0] + g, True)
            else:
                # private: a new array, so neither the upstream gradient passed on nor a view of it
                pending[id(t)] = (g, g is not grad and g.base is None)

# %% ../../src/06_autograd/06_autograd.py #grad-tools
def zero_grad(self):
    """Forget the accumulated gradient. TODO: set `self.grad` to None."""
    self.grad = None


def detach(self):
    """A tensor with the same data, cut from the graph. TODO: return `Tensor(self.data)` (no grad)."""
    return Tensor(self.data)


def retain_grad(self):
    """Keep this intermediate tensor's gradient. TODO: set `self._retains_grad = True`; return self."""
    self._retains_grad = True
    return self

# %% ../../src/06_autograd/06_autograd.py #06_autograd-048
class LinearBackward(Function):
    """y = x @ W + b as one node (module 03's Linear): grad_x = g @ Wᵀ, grad_W = xᵀ @ g, grad_b = g summed.

    It saves x, W and b, not the product x @ W."""

    def apply(self, grad_output):
        x, weight, *bias = self.saved_tensors
        g = grad_output
        rows = g.reshape(-1, g.shape[-1])            # every leading (batch) axis, flattened
        grad_x = g @ weight.data.T if _needs(x) else None
        grad_w = x.data.reshape(-1, x.shape[-1]).T @ rows if _needs(weight) else None
        grad_b = rows.sum(axis=0) if bias and _needs(bias[0]) else None
        return grad_x, grad_w, grad_b


DIFFERENTIABLE_OPS = (
    # owner          method         backward rule           kind
    (Tensor, "__add__", AddBackward, "binary"),
    (Tensor, "__sub__", SubBackward, "binary"),
    (Tensor, "__mul__", MulBackward, "binary"),
    (Tensor, "__truediv__", DivBackward, "binary"),
    (Tensor, "matmul", MatmulBackward, "binary"),
    (Tensor, "__neg__", NegBackward, "method"),
    (Tensor, "sum", SumBackward, "method"),
    (Tensor, "mean", MeanBackward, "method"),
    (Tensor, "max", MaxBackward, "method"),
    (Tensor, "reshape", ReshapeBackward, "method"),
    (Tensor, "transpose", TransposeBackward, "method"),
    (Tensor, "permute", PermuteBackward, "method"),
    (Tensor, "__getitem__", SliceBackward, "method"),
    (ReLU, "forward", ReLUBackward, "activation"),
    (Sigmoid, "forward", SigmoidBackward, "activation"),
    (Tanh, "forward", TanhBackward, "activation"),
    (GELU, "forward", GELUBackward, "activation"),
    (Softmax, "forward", SoftmaxBackward, "softmax"),
    (MSELoss, "forward", MSEBackward, "loss"),
    (BinaryCrossEntropyLoss, "forward", BCEBackward, "loss"),
    (CrossEntropyLoss, "forward", CrossEntropyBackward, "loss"),
    (Linear, "forward", LinearBackward, "layer"),
)


def op_name(owner, method):
    """The registry name of an operation, e.g. 'Tensor.__add__' or 'ReLU.forward'."""
    return f"{owner.__name__}.{method}"



def _differentiable(kind, original, rule):
    """Wrap `original` so that its result records a `rule` node (see the table above).

    Same effect as `_attach(original(...), rule(...))`, but the wrappers ask "grad mode on and an input
    requires grad?" *before* building the node: inference (`no_grad`) and constants then build no graph
    at all, and the check reads two attributes instead of looping over the saved tensors (this wrapper runs
    once per operation, so its cost is the engine's per-op overhead).
    """
    if kind == "binary":
        def op(self, other):
            other = as_tensor(other)
            out = original(self, other)
            if _grad_enabled and (self.requires_grad or other.requires_grad):
                return _record(out, rule(self, other))
            return out
    elif kind == "method":
        def op(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            if _grad_enabled and self.requires_grad:
                return _record(out, rule(self, *args, **kwargs))
            return out
    elif kind in ("activation", "softmax"):
        def op(module, x):
            x = as_tensor(x)
            out = original(module, x)
            if _grad_enabled and x.requires_grad:
                return _record(out, rule(x, out) if kind == "activation" else rule(x, out, module.dim))
            return out
    elif kind == "loss":
        def op(module, pred, target):
            out = original(module, pred, target)
            if _grad_enabled and (getattr(pred, "requires_grad", False) or getattr(target, "requires_grad", False)):
                return _record(out, rule(as_tensor(pred), as_tensor(target)))
            return out
    elif kind == "layer":
        def op(module, x):
            x = as_tensor(x)
            inputs = (x, *module.parameters())
            if not (_grad_enabled and any(t.requires_grad for t in inputs)):
                return original(module, x)
            with no_grad():        # one node for the whole layer: its inner operations record nothing
                out = original(module, x)
            return _record(out, rule(*inputs))
    else:
        raise ValueError(f"unknown kind {kind!r} in DIFFERENTIABLE_OPS")
    return functools.wraps(original)(op)


def _pristine(owner, name):
    """The owner's original (module 01-04) method, remembered on the class the first time we patch it.

    None when the class did not define `name` itself (Tensor has no `detach` before this module).
    """
    if "_unpatched" not in owner.__dict__:
        owner._unpatched = {}
    if name not in owner._unpatched:
        owner._unpatched[name] = owner.__dict__.get(name)
    return owner._unpatched[name]


def disable_autograd():
    """Undo enable_autograd: put back every pristine method (used by tests and to compare engines)."""
    for owner in {op[0] for op in DIFFERENTIABLE_OPS} | {Tensor}:
        for name, original in owner.__dict__.get("_unpatched", {}).items():
            if original is not None:
                setattr(owner, name, original)
            elif name in owner.__dict__:
                delattr(owner, name)

# %% ../../src/06_autograd/06_autograd.py #enable-autograd
def _gc_paused(function):
    """`function`, with Python's cyclic garbage collector paused while it runs (provided, not an exercise).

    Why: a backward pass allocates a few short-lived tuples per node, and every few hundred allocations wake
    the collector, which then scans the graph's (acyclic) objects again: on a 1,000,000-node graph that
    doubled the time of `backward()`. Nothing the walk allocates can form a reference cycle.
    """
    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return paused


_TENSOR_METHODS = {"backward": _gc_paused(backward), "zero_grad": zero_grad, "detach": detach,
                   "retain_grad": retain_grad}


def enable_autograd(quiet=False):
    """Patch every operation in DIFFERENTIABLE_OPS, and give Tensor this module's backward tools.

    TODO:
    1. For each (owner, method, rule, kind) in DIFFERENTIABLE_OPS: set owner.method to
       `_differentiable(kind, _pristine(owner, method), rule)`.
    2. For each name, function in _TENSOR_METHODS: remember the pristine one with `_pristine(Tensor, name)`,
       then set it on Tensor.
    3. Unless quiet, print one line saying autograd is on and how many operations are differentiable.

    HINTS: `setattr(owner, name, value)`.
    """
    for owner, method, rule, kind in DIFFERENTIABLE_OPS:
        setattr(owner, method, _differentiable(kind, _pristine(owner, method), rule))
    for name, function in _TENSOR_METHODS.items():
        _pristine(Tensor, name)
        setattr(Tensor, name, function)
    if not quiet:
        print(f"autograd enabled: {len(DIFFERENTIABLE_OPS)} differentiable operations")

# %% ../../src/06_autograd/06_autograd.py #06_autograd-055
class GradcheckError(AssertionError):
    """Raised by gradcheck when autograd and central differences disagree."""


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check autograd's gradients of fn(*inputs) against central differences, in float64.

    Tensor inputs with requires_grad=True are checked; other inputs are passed through. The output (any
    shape) is contracted with a seeded random upstream gradient. Returns True or raises GradcheckError.
    """
    previous = Tensor.default_dtype
    Tensor.default_dtype = np.float64
    try:
        xs = [Tensor(np.array(x.data, dtype=np.float64), requires_grad=x.requires_grad)
              if isinstance(x, Tensor) else x for x in inputs]
        out = fn(*xs)
        if not out.requires_grad:
            raise GradcheckError("gradcheck: the output records no graph: does an input require grad, and "
                                 "is every operation in fn wired by enable_autograd()?")
        rng = np.random.default_rng(seed)
        upstream = rng.uniform(0.5, 1.5, out.shape) * rng.choice([-1.0, 1.0], out.shape)
        out.backward(upstream)
        for i, x in enumerate(xs):
            if not (isinstance(x, Tensor) and x.requires_grad):
                continue
            got = np.zeros_like(x.data) if x.grad is None else x.grad
            expected = np.zeros_like(x.data)
            with no_grad():
                for j in np.ndindex(x.shape):
                    old = x.data[j]
                    x.data[j] = old + eps
                    plus = np.sum(fn(*xs).data * upstream)
                    x.data[j] = old - eps
                    minus = np.sum(fn(*xs).data * upstream)
                    x.data[j] = old
                    expected[j] = (plus - minus) / (2 * eps)
            excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
            if np.any(excess > 0):
                worst = np.unravel_index(np.argmax(excess), x.shape) if x.ndim else ()
                raise GradcheckError(
                    f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong; worst element {worst}: "
                    f"expected {expected[worst]:.6g} (central difference), got {got[worst]:.6g} (autograd)")
        return True
    finally:
        Tensor.default_dtype = previous


def _graph_nodes(tensor):
    """All tensors of the graph (inputs first), including constants that were saved.

    A twin of `topological_order` on purpose: that one is an exercise, and these tools must work while it
    is still a stub (and show the constants it skips)."""
    order, seen, stack = [], set(), [(tensor, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            if node._grad_fn is not None:
                stack.extend((t, False) for t in node._grad_fn.saved_tensors if isinstance(t, Tensor))
    return order


def graph_memory(tensor):
    """Bytes of the arrays kept alive by the graph's nodes (saved tensors and saved outputs), each counted once."""
    arrays = {}
    for node in _graph_nodes(tensor):
        fn = node._grad_fn
        if fn is None:
            continue
        for t in fn.saved_tensors:
            if isinstance(t, Tensor):
                arrays[id(t.data)] = t.data
        for value in vars(fn).values():
            if isinstance(value, np.ndarray):
                arrays[id(value)] = value
    return sum(a.nbytes for a in arrays.values())


class GraphView:
    """A computation graph for display: a mermaid flowchart in Jupyter, an indented tree as text."""

    def __init__(self, tensor, max_nodes=200):
        self.tensor, self.max_nodes = tensor, max_nodes

    @staticmethod
    def _label(t):
        kind = type(t._grad_fn).__name__ if t._grad_fn is not None else (
            "leaf" if t.requires_grad else "constant")
        return f"{kind} {tuple(t.shape)}"

    def mermaid(self):
        nodes = _graph_nodes(self.tensor)[-self.max_nodes:]
        ids = {id(t): f"n{i}" for i, t in enumerate(nodes)}
        lines = ["flowchart BT"]
        lines += [f'    {ids[id(t)]}["{self._label(t)}"]' for t in nodes]
        for t in nodes:
            if t._grad_fn is not None:
                lines += [f"    {ids[id(s)]} --> {ids[id(t)]}" for s in t._grad_fn.saved_tensors
                          if isinstance(s, Tensor) and id(s) in ids]
        return "\n".join(lines)

    def tree(self):
        lines, seen, stack = [], set(), [(self.tensor, "", "")]
        while stack and len(lines) < self.max_nodes:
            t, first, rest = stack.pop()
            again = id(t) in seen and t._grad_fn is not None
            lines.append(first + self._label(t) + ("  (shared, shown above)" if again else ""))
            seen.add(id(t))
            if t._grad_fn is not None and not again:
                kids = [s for s in t._grad_fn.saved_tensors if isinstance(s, Tensor)]
                for k, s in reversed(list(enumerate(kids))):
                    last = k == len(kids) - 1
                    stack.append((s, rest + ("└── " if last else "├── "), rest + ("    " if last else "│   ")))
        if stack:
            lines.append("...")
        return "\n".join(lines)

    def __str__(self):
        return self.tree()

    __repr__ = __str__

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/vnd.mermaid": self.mermaid(), "text/plain": self.tree()}


def show_graph(tensor, max_nodes=200):
    """The graph that produced `tensor`, for display (mermaid in JupyterLab, a text tree in a terminal)."""
    return GraphView(tensor, max_nodes)
