# Generated from src/06_autograd/06_autograd.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['DIFFERENTIABLE_OPS', 'no_grad', 'is_grad_enabled', 'Function', 'Op', 'op_name', 'differentiates', 'binary', 'unary',
           'with_output', 'reduction', 'parsed', 'activation', 'along_dim', 'loss', 'AddBackward', 'SubBackward',
           'MulBackward', 'DivBackward', 'NegBackward', 'MatmulBackward', 'SumBackward', 'MeanBackward', 'MaxBackward',
           'ReshapeBackward', 'PermuteBackward', 'SliceBackward', 'ReLUBackward', 'SigmoidBackward', 'TanhBackward',
           'GELUBackward', 'SoftmaxBackward', 'MSEBackward', 'BCEBackward', 'CrossEntropyBackward', 'PowBackward',
           'ExpBackward', 'LogBackward', 'SqrtBackward', 'AbsBackward', 'ClipBackward', 'MaximumBackward',
           'MinimumBackward', 'MinBackward', 'unbroadcast', 'topological_order', 'backward', 'zero_grad', 'detach',
           'retain_grad', 'layer', 'LinearBackward', 'disable_autograd', 'enable_autograd', 'GradcheckError',
           'gradcheck', 'graph_memory', 'GraphView', 'show_graph']

# %% ../../src/06_autograd/06_autograd.py #06_autograd-002
import functools
import gc
import weakref
from typing import Callable, NamedTuple

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
        """Store the operation's inputs."""
        self.saved_tensors = tensors

    def apply(self, grad_output):
        """Return one gradient (np.ndarray or None) per saved tensor. Subclasses implement this.

        Contract with the engine: never change `grad_output` in place, and return either new arrays or
        `grad_output` itself (or a view of it), never an array kept elsewhere: the engine stores a new
        array in a leaf's `.grad` without copying it."""
        raise NotImplementedError(f"{type(self).__name__}.apply is not implemented")

    def forward(self, *arrays, **options):
        """The operation itself, on NumPy arrays (NumPy in, NumPy out): what a custom operation defines.

        It runs on the node, so it may keep on `self` whatever `apply` will need."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented: define it to use "
                                  f"{type(self).__name__}.run(...) (see Function.run)")

    @classmethod
    def run(cls, *inputs, **options):
        """Apply this operation to `inputs` (Tensors, arrays or numbers): the public way to add an operation.

        Subclass Function with `forward(self, *arrays, **options)` and `apply(self, grad_output)`, then call
        `MyOp.run(x, ...)`, as PyTorch's `MyOp.apply(x, ...)`: `forward` runs on the inputs' arrays, and the
        result records a `MyOp` node when grad mode is on and an input requires grad.
        """
        tensors = [as_tensor(t) for t in inputs]
        node = cls(*tensors)
        return _attach(Tensor(node.forward(*(t.data for t in tensors), **options)), node)

    def __repr__(self):
        return f"<{type(self).__name__}>"

# %% ../../src/06_autograd/06_autograd.py #06_autograd-012
class Op(NamedTuple):
    """One differentiable operation: `owner.method`, whose results `record` links to a `rule` node."""
    owner: type
    method: str
    rule: type
    record: Callable


DIFFERENTIABLE_OPS = {}   # "Tensor.__mul__" -> Op(Tensor, "__mul__", MulBackward, binary), filled by @differentiates


def op_name(owner, method):
    """The registry name of an operation, e.g. 'Tensor.__add__' or 'ReLU.forward'."""
    return f"{owner.__name__}.{method}"


def differentiates(owner, method, record):
    """Class decorator: register the decorated rule as the backward of `owner.method`, recorded by `record`.

    Registering a name again replaces its entry. `enable_autograd()` wires everything registered so far.
    """
    def register(rule):
        DIFFERENTIABLE_OPS[op_name(owner, method)] = Op(owner, method, rule, record)
        return rule
    return register


def binary(original, rule):
    """Recorder for `a.op(b)`: the node is `rule(a, b)`; a number, list or array `b` becomes a constant."""
    def op(self, other):
        try:
            other = as_tensor(other)
        except TypeError:                  # not a number: the forward's error names the operation and the type
            return original(self, other)
        out = original(self, other)
        if _grad_enabled and (self.requires_grad or other.requires_grad):
            _record(out, rule(self, other))
        return out
    return functools.wraps(original)(op)


def _method(original, node):
    """`x.op(*args)` recording `node(x, out, *args)` when x requires grad and grad mode is on."""
    def op(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        if _grad_enabled and self.requires_grad:
            _record(out, node(self, out, *args, **kwargs))
        return out
    return functools.wraps(original)(op)


def unary(original, rule):
    """Recorder for `x.op(...)` whose rule needs the input only: `rule(x)`."""
    return _method(original, lambda x, out, *args, **kwargs: rule(x))


def with_output(original, rule):
    """Recorder for `x.op(...)` whose rule reuses the forward's result: `rule(x, out)`."""
    return _method(original, lambda x, out, *args, **kwargs: rule(x, out))


def reduction(original, rule):
    """Recorder for `x.op(axis=None, keepdims=False)`: `rule(x, out, axis, keepdims)`."""
    return _method(original, lambda x, out, axis=None, keepdims=False: rule(x, out, axis, keepdims))


def parsed(parse):
    """Recorder for `x.op(*args)`: `rule(x, parse(x, *args))`, `parse` being the forward's own parser.

    For a rule that needs the arguments as the forward understood them (module 01 parses them)."""
    def record(original, rule):
        return _method(original, lambda x, out, *args: rule(x, parse(x, *args)))
    return record


def _module(original, node):
    """`module.forward(x)` recording `node(module, x, out)` when x requires grad and grad mode is on."""
    def op(module, x):
        x = as_tensor(x)
        out = original(module, x)
        if _grad_enabled and x.requires_grad:
            _record(out, node(module, x, out))
        return out
    return functools.wraps(original)(op)


def activation(original, rule):
    """Recorder for `act.forward(x)`: `rule(x, out)`."""
    return _module(original, lambda module, x, out: rule(x, out))


def along_dim(original, rule):
    """Recorder for `act.forward(x)` of an activation with a `dim` (Softmax): `rule(x, out, act.dim)`."""
    return _module(original, lambda module, x, out: rule(x, out, module.dim))


def loss(original, rule):
    """Recorder for `loss.forward(pred, target)`: `rule(pred, target)`."""
    def op(module, pred, target):
        out = original(module, pred, target)
        if _grad_enabled and (getattr(pred, "requires_grad", False) or getattr(target, "requires_grad", False)):
            _record(out, rule(as_tensor(pred), as_tensor(target)))
        return out
    return functools.wraps(original)(op)

# %% ../../src/06_autograd/06_autograd.py #arithmetic-backward
@differentiates(Tensor, "__add__", binary)
class AddBackward(Function):
    """z = a + b: ∂a = g, ∂b = g."""

    def apply(self, grad_output):
        a, b = self.saved_tensors
        return (grad_output if _needs(a) else None, grad_output if _needs(b) else None)


@differentiates(Tensor, "__sub__", binary)
class SubBackward(Function):
    """z = a − b: ∂a = g, ∂b = −g."""

    def apply(self, grad_output):
        a, b = self.saved_tensors
        return (grad_output if _needs(a) else None, -grad_output if _needs(b) else None)


@differentiates(Tensor, "__mul__", binary)
class MulBackward(Function):
    """z = a · b: ∂a = g · b, ∂b = g · a."""

    def apply(self, grad_output):
        a, b = self.saved_tensors
        return (grad_output * b.data if _needs(a) else None, grad_output * a.data if _needs(b) else None)


@differentiates(Tensor, "__truediv__", binary)
class DivBackward(Function):
    """z = a / b: ∂a = g / b, ∂b = −g · a / b²."""

    def apply(self, grad_output):
        a, b = self.saved_tensors
        grad_a = grad_output / b.data if _needs(a) else None
        grad_b = -grad_output * a.data / b.data ** 2 if _needs(b) else None
        return grad_a, grad_b


@differentiates(Tensor, "__neg__", unary)
class NegBackward(Function):
    """z = −a: ∂a = −g."""

    def apply(self, grad_output):
        (a,) = self.saved_tensors
        return (-grad_output if _needs(a) else None,)

# %% ../../src/06_autograd/06_autograd.py #matmul-backward
@differentiates(Tensor, "matmul", binary)
class MatmulBackward(Function):
    """Z = A @ B (2-D, batched or 1-D operands): ∂A = g @ Bᵀ, ∂B = Aᵀ @ g."""

    def apply(self, grad_output):
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
    """Shared constructor of the reductions: keeps the forward's output, axis and keepdims."""

    def __init__(self, x, out, axis=None, keepdims=False):
        super().__init__(x)
        self.out, self.axis, self.keepdims = out.data, axis, keepdims

    def _expand(self, g):
        """Give g back the reduced axes (size 1), so it broadcasts against the input."""
        return g if self.keepdims or self.axis is None else np.expand_dims(g, self.axis)


@differentiates(Tensor, "sum", reduction)
class SumBackward(_ReduceBackward):
    """z = x.sum(axis): g copied to every summed element."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (np.broadcast_to(self._expand(grad_output), x.shape),)


@differentiates(Tensor, "mean", reduction)
class MeanBackward(_ReduceBackward):
    """z = x.mean(axis): g / n copied to each of the n averaged elements."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        count = x.data.size / max(self.out.size, 1)
        return (np.broadcast_to(self._expand(grad_output), x.shape) / count,)


@differentiates(Tensor, "max", reduction)
class MaxBackward(_ReduceBackward):
    """z = x.max(axis): g to the maximum (shared evenly between ties), 0 elsewhere."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        mask = x.data == self._expand(self.out)
        share = mask / mask.sum(axis=self.axis, keepdims=True, dtype=grad_output.dtype)
        return (share * self._expand(grad_output),)

# %% ../../src/06_autograd/06_autograd.py #shape-backward
@differentiates(Tensor, "clone", unary)
@differentiates(Tensor, "reshape", unary)
class ReshapeBackward(Function):
    """z = x.reshape(shape) (or x.clone()): g reshaped back to the input's shape."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (np.reshape(grad_output, x.shape),)


@differentiates(Tensor, "permute", parsed(Tensor._permutation))
class PermuteBackward(Function):
    """z = x.permute(axes): g permuted by the inverse permutation."""

    def __init__(self, x, axes):
        super().__init__(x)
        self.axes = axes

    def apply(self, grad_output):
        return (np.transpose(grad_output, np.argsort(self.axes)),)


@differentiates(Tensor, "__getitem__", parsed(Tensor._index_key))
class SliceBackward(Function):
    """z = x[key]: g scattered into zeros at the indexed positions (repeats add up)."""

    def __init__(self, x, key):
        super().__init__(x)
        self.key = key

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        grad = np.zeros_like(x.data)
        np.add.at(grad, self.key, grad_output)
        return (grad,)

# %% ../../src/06_autograd/06_autograd.py #activation-backward
class _OutputBackward(Function):
    """A rule that reuses its forward's result: saves the input x and keeps the output array as `self.out`."""

    def __init__(self, x, out):
        super().__init__(x)
        self.out = out.data


@differentiates(ReLU, "forward", activation)
class ReLUBackward(_OutputBackward):
    """z = relu(x): g where x > 0, else 0."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (grad_output * (x.data > 0),)


@differentiates(Sigmoid, "forward", activation)
class SigmoidBackward(_OutputBackward):
    """z = sigmoid(x): g · s · (1 − s), s the output."""

    def apply(self, grad_output):
        s = self.out
        return (grad_output * s * (1 - s),)


@differentiates(Tanh, "forward", activation)
class TanhBackward(_OutputBackward):
    """z = tanh(x): g · (1 − t²), t the output."""

    def apply(self, grad_output):
        return (grad_output * (1 - self.out ** 2),)


@differentiates(GELU, "forward", activation)
class GELUBackward(_OutputBackward):
    """z = gelu(x): g · GELU′(x), the derivative of the tanh approximation."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        c, k = (2 / np.pi) ** 0.5, 0.044715         # Python floats: they keep x's dtype
        inner = np.clip(x.data, -20, 20)
        t = np.tanh(c * (inner + k * inner ** 3))
        return (grad_output * (0.5 * (1 + t) + 0.5 * x.data * (1 - t ** 2) * c * (1 + 3 * k * inner ** 2)),)


@differentiates(Softmax, "forward", along_dim)
class SoftmaxBackward(_OutputBackward):
    """z = softmax(x, dim): s · (g − Σ g·s along dim), s the output."""

    def __init__(self, x, out, dim=-1):
        super().__init__(x, out)
        self.dim = dim

    def apply(self, grad_output):
        s = self.out
        return (s * (grad_output - np.sum(grad_output * s, axis=self.dim, keepdims=True)),)

# %% ../../src/06_autograd/06_autograd.py #loss-backward
@differentiates(MSELoss, "forward", loss)
class MSEBackward(Function):
    """mean((p − t)²): ∂p = 2g (p − t) / n, ∂t = −∂p."""

    def apply(self, grad_output):
        pred, target = self.saved_tensors
        grad = grad_output * 2 * (pred.data - target.data) / pred.data.size
        return (grad if _needs(pred) else None, -grad if _needs(target) else None)


@differentiates(BinaryCrossEntropyLoss, "forward", loss)
class BCEBackward(Function):
    """binary cross-entropy: ∂p = g (p − t) / (p (1 − p)) / n, 0 where p was clipped; ∂t = g log((1 − p) / p) / n."""

    def apply(self, grad_output):
        pred, target = self.saved_tensors
        eps = BinaryCrossEntropyLoss.eps
        p = pred.data.astype(np.float64)             # float64, as the forward: 1 - 1e-7 is no float32 number
        q, t, n = np.clip(p, eps, 1 - eps), target.data.astype(np.float64), p.size
        grad_p = np.where(p == q, grad_output * (q - t) / (q * (1 - q)) / n, 0.0)
        grad_t = grad_output * (np.log(1 - q) - np.log(q)) / n
        return (grad_p.astype(pred.data.dtype) if _needs(pred) else None,
                grad_t.astype(target.data.dtype) if _needs(target) else None)


@differentiates(CrossEntropyLoss, "forward", loss)
class CrossEntropyBackward(Function):
    """cross-entropy of logits: ∂logits = g (softmax(logits) − onehot(t)) / batch."""

    def apply(self, grad_output):
        logits, target = self.saved_tensors
        z = logits.data - logits.data.max(axis=-1, keepdims=True)
        probs = np.exp(z)
        probs /= probs.sum(axis=-1, keepdims=True)
        batch = len(probs)
        probs[np.arange(batch), target.data.astype(np.int64)] -= 1
        return (grad_output * probs / batch if _needs(logits) else None, None)

# %% ../../src/06_autograd/06_autograd.py #elementwise-backward
@differentiates(Tensor, "__pow__", binary)
class PowBackward(Function):
    """z = a ** b: ∂a = g · b · a^(b − 1) (0 where b = 0), ∂b = g · a^b · log a (0 where a = 0 ≤ b)."""

    def apply(self, grad_output):
        a, b = self.saved_tensors
        A, B = a.data, b.data
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = grad_output * np.where(B == 0, 0.0, B * A ** (B - 1)) if _needs(a) else None
            grad_b = grad_output * np.where((A == 0) & (B >= 0), 0.0, A ** B * np.log(A)) if _needs(b) else None
        return grad_a, grad_b


@differentiates(Tensor, "exp", with_output)
class ExpBackward(_OutputBackward):
    """z = exp(x): g · z, the output."""

    def apply(self, grad_output):
        return (grad_output * self.out,)


@differentiates(Tensor, "log", unary)
class LogBackward(Function):
    """z = log(x): g / x."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        with np.errstate(divide="ignore"):
            return (grad_output / x.data,)


@differentiates(Tensor, "sqrt", with_output)
class SqrtBackward(_OutputBackward):
    """z = sqrt(x): g / (2 z), z the output."""

    def apply(self, grad_output):
        with np.errstate(divide="ignore"):
            return (grad_output / (2 * self.out),)

# %% ../../src/06_autograd/06_autograd.py #06_autograd-036
@differentiates(Tensor, "abs", unary)
class AbsBackward(Function):
    """z = |x|: g · sign(x), 0 at x = 0."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (grad_output * np.sign(x.data),)


@differentiates(Tensor, "clip", with_output)
class ClipBackward(_OutputBackward):
    """z = x.clip(min, max): g where x is within the bounds (bounds included), 0 where it was clipped."""

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (grad_output * (x.data == self.out),)


@differentiates(Tensor, "maximum", binary)
class MaximumBackward(Function):
    """z = a.maximum(b): g to the larger input; a tie splits it evenly."""

    def _share(self, a, b):
        """a's share of the gradient: 1 where a wins, 1/2 on a tie, 0 where b wins."""
        return (a > b) + 0.5 * (a == b)

    def apply(self, grad_output):
        a, b = self.saved_tensors
        share = self._share(a.data, b.data).astype(grad_output.dtype)
        return (grad_output * share if _needs(a) else None, grad_output * (1 - share) if _needs(b) else None)


@differentiates(Tensor, "minimum", binary)
class MinimumBackward(MaximumBackward):
    """z = a.minimum(b): g to the smaller input; a tie splits it evenly."""

    def _share(self, a, b):
        return (a < b) + 0.5 * (a == b)


@differentiates(Tensor, "min", reduction)
class MinBackward(MaxBackward):
    """z = x.min(axis): g to the minimum (shared evenly between ties), 0 elsewhere."""

# %% ../../src/06_autograd/06_autograd.py #unbroadcast
def unbroadcast(grad, shape):
    """Reduce `grad` to `shape` by summing the axes that broadcasting created or stretched."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.ndim == len(shape) and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad

# %% ../../src/06_autograd/06_autograd.py #06_autograd-048
def _start_gradient(tensor, gradient):
    """The gradient backward() starts from, checked: a copy of `gradient` (the caller keeps their array), or
    ones when it is None and the tensor has one element."""
    if not tensor.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad and has no graph; create the "
                           "parameters with requires_grad=True (and enable autograd) before the forward pass")
    if gradient is None:
        if tensor.data.size != 1:
            raise ValueError(f"backward(): a gradient argument is needed for a non-scalar tensor of shape "
                             f"{tensor.shape}; call it on a scalar loss or pass backward(gradient)")
        return np.ones_like(tensor.data)
    gradient = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=tensor.data.dtype)
    if gradient.shape != tensor.shape:
        raise ValueError(f"backward(): gradient has shape {gradient.shape}, expected the tensor's shape "
                         f"{tensor.shape}")
    return gradient


def _input_gradient(node, index, grad, tensor):
    """unbroadcast a rule's gradient to its input's shape; a clear error when that is impossible."""
    if isinstance(grad, np.ndarray) and grad.shape == tensor.data.shape:
        return grad        # the common case, kept cheap: this runs once per edge of the graph
    reduced = unbroadcast(grad, tensor.shape)
    if np.shape(reduced) != tensor.shape:
        raise ValueError(f"{type(node).__name__}.apply returned a gradient of shape {np.shape(grad)} for "
                         f"input {index}, which cannot be reduced to the input's shape {tensor.shape}: either "
                         f"that rule is wrong, or unbroadcast (section 5), which turned it into shape "
                         f"{np.shape(reduced)}")
    return reduced


_GRAD_ARRAYS = weakref.WeakValueDictionary()   # id -> an array that is some tensor's .grad (weakly held)


def _accumulate_grad(tensor, grad):
    """`tensor.grad += grad`, storing a plain array of the tensor's dtype that no other `.grad` shares.

    A new array the engine has just made (a rule's result, or a sum) is kept without a copy. Anything else
    is copied: a view (it shares its base's memory), an array of another dtype, and an array that is some
    tensor's `.grad` already (a rule may pass the same array on to several inputs). `_GRAD_ARRAYS` knows
    which arrays are a `.grad`; it holds them weakly, so an entry leaves with its array.
    """
    if tensor.grad is not None:
        grad = tensor.grad + grad              # a new array: the stored one is never changed in place
    dtype = tensor.data.dtype
    if not (type(grad) is np.ndarray and grad.dtype == dtype and grad.base is None
            and grad.flags.writeable and id(grad) not in _GRAD_ARRAYS):
        grad = np.array(grad, dtype=dtype)
    tensor.grad = grad
    _GRAD_ARRAYS[id(grad)] = grad

# %% ../../src/06_autograd/06_autograd.py #backward
def topological_order(root):
    """Every tensor of root's graph that requires grad, each after all of its inputs (iterative DFS)."""
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


def backward(self, gradient=None):
    """Fill `.grad` of every leaf of self's graph with d(self)/d(leaf), accumulating."""
    grads = {id(self): _start_gradient(self, gradient)}
    for node in reversed(topological_order(self)):
        grad = grads.pop(id(node), None)
        if grad is None:          # no gradient reached this tensor (it only feeds a branch that was cut)
            continue
        fn = node._grad_fn
        if fn is None or getattr(node, "_retains_grad", False):
            _accumulate_grad(node, grad)
        if fn is None:
            continue
        for i, (t, g) in enumerate(zip(fn.saved_tensors, fn.apply(grad))):
            if g is not None and _needs(t):
                g = _input_gradient(fn, i, g, t)
                grads[id(t)] = grads[id(t)] + g if id(t) in grads else g

# %% ../../src/06_autograd/06_autograd.py #grad-tools
def zero_grad(self):
    """Forget the accumulated gradient."""
    self.grad = None


def detach(self):
    """A tensor with the same data and dtype, cut from the graph."""
    return Tensor(self.data, dtype=self.dtype)


def retain_grad(self):
    """Keep this intermediate tensor's gradient."""
    self._retains_grad = True
    return self

# %% ../../src/06_autograd/06_autograd.py #06_autograd-060
def layer(original, rule):
    """Recorder for `layer.forward(x)`: one fused node `rule(x, *layer.parameters())`.

    The layer's inner operations record nothing."""
    def op(module, x):
        x = as_tensor(x)
        inputs = (x, *module.parameters())
        if not (_grad_enabled and any(t.requires_grad for t in inputs)):
            return original(module, x)
        with no_grad():
            out = original(module, x)
        return _record(out, rule(*inputs))
    return functools.wraps(original)(op)


@differentiates(Linear, "forward", layer)
class LinearBackward(Function):
    """y = x @ W + b as one node: ∂x = g @ Wᵀ, ∂W = xᵀ @ g, ∂b = g summed over the batch."""

    def apply(self, grad_output):
        x, weight, *bias = self.saved_tensors
        g = grad_output
        rows = g.reshape(-1, g.shape[-1])            # every leading (batch) axis, flattened
        grad_x = g @ weight.data.T if _needs(x) else None
        grad_w = x.data.reshape(-1, x.shape[-1]).T @ rows if _needs(weight) else None
        grad_b = rows.sum(axis=0) if bias and _needs(bias[0]) else None
        return grad_x, grad_w, grad_b


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
    for owner in {op.owner for op in DIFFERENTIABLE_OPS.values()} | {Tensor}:
        for name, original in owner.__dict__.get("_unpatched", {}).items():
            if original is not None:
                setattr(owner, name, original)
            elif name in owner.__dict__:
                delattr(owner, name)


def _gc_paused(function):
    """`function`, with Python's cyclic garbage collector paused while it runs.

    Why: a backward pass allocates a few short-lived objects per node, and every few hundred allocations
    wake the collector, which then scans the graph's (acyclic) objects again: on a chain of 1,000,000
    additions, `backward()` takes about 12 % longer with the collector on. Nothing the walk allocates can
    form a reference cycle.
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

# %% ../../src/06_autograd/06_autograd.py #enable-autograd
def enable_autograd(quiet=False):
    """Make every registered operation record its node, and give Tensor this module's backward tools."""
    for op in DIFFERENTIABLE_OPS.values():
        setattr(op.owner, op.method, op.record(_pristine(op.owner, op.method), op.rule))
    for name, function in _TENSOR_METHODS.items():
        _pristine(Tensor, name)
        setattr(Tensor, name, function)
    if not quiet:
        print(f"autograd enabled: {len(DIFFERENTIABLE_OPS)} differentiable operations")

# %% ../../src/06_autograd/06_autograd.py #06_autograd-067
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
            if isinstance(x, Tensor) and x.requires_grad:
                got = np.zeros_like(x.data) if x.grad is None else x.grad
                _compare(i, got, _central_differences(fn, xs, x, upstream, eps), atol, rtol)
        return True
    finally:
        Tensor.default_dtype = previous


def _central_differences(fn, xs, x, upstream, eps):
    """d sum(fn(*xs) * upstream) / dx, one element of x at a time (no graph recorded)."""
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
    return expected


def _compare(index, got, expected, atol, rtol):
    """Raise GradcheckError naming the input and its worst element when autograd and the differences disagree."""
    if got.shape != expected.shape:
        raise GradcheckError(f"gradcheck: gradient of input {index} has shape {got.shape}, "
                             f"the input has shape {expected.shape}")
    excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
    if not np.all(excess <= 0):                     # written so that a NaN counts as wrong
        worst = np.unravel_index(np.argmax(excess), expected.shape) if expected.ndim else ()
        raise GradcheckError(
            f"gradcheck: gradient of input {index} (shape {expected.shape}) is wrong; worst element {worst}: "
            f"expected {expected[worst]:.6g} (central difference), got {got[worst]:.6g} (autograd)")


def _graph_nodes(tensor):
    """Every tensor of the graph, breadth first from `tensor` (nearest first), constants included.

    The display and memory tools need no topological order, and they must not depend on
    `topological_order`, which is an exercise: a student's stub would break them."""
    nodes, seen = [tensor], {id(tensor)}
    for node in nodes:                     # the list grows while we walk it
        if node._grad_fn is not None:
            for t in node._grad_fn.saved_tensors:
                if isinstance(t, Tensor) and id(t) not in seen:
                    seen.add(id(t))
                    nodes.append(t)
    return nodes


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
        nodes = _graph_nodes(self.tensor)[:self.max_nodes]
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
