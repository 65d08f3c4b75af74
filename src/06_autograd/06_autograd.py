# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 06: Autograd
#
# Training a network means nudging every parameter a little in the direction that lowers the loss, and that
# direction is the **gradient**: one partial derivative per parameter. A small network has thousands of
# parameters, a large one billions; nobody derives those by hand. Every framework (PyTorch, TensorFlow, JAX)
# therefore ships an *automatic differentiation* engine, and in this module you build one.
#
# The idea fits in two sentences. While the forward pass runs, every operation leaves a note on its result
# saying *which operation made me, and from which inputs*; those notes form a **computation graph**. Calling
# `loss.backward()` walks the graph from the loss back to the parameters, and at each note applies that
# operation's local derivative rule (the **chain rule**), so every parameter ends up with its `.grad`.
#
# What you will write:
#
# | part | you implement | the idea |
# |---|---|---|
# | 1 | `Function` | a graph node that remembers its inputs |
# | 2 | `AddBackward`, `MulBackward`, `MatmulBackward`, ... | one local derivative rule per operation |
# | 3 | `unbroadcast` | a broadcast input gets the *sum* of its gradients |
# | 4 | `backward` | the reverse walk over the graph, in topological order |
# | 5 | `zero_grad`, `detach`, `retain_grad` | managing accumulated gradients |
# | 6 | `enable_autograd` | teaching the module-01 `Tensor` (and modules 02-04) to record graphs |
#
# Then we check everything numerically with `gradcheck`, look at how much memory a graph holds, and train a
# real classifier with nothing but your engine and plain gradient descent.
#
# Not in scope: gradients of gradients (PyTorch's `create_graph=True`), fused GPU kernels, and gradient
# checkpointing (we only *measure* the memory it would save).

# %%
#| default_exp core.autograd

# %%
#| export
import functools
import gc
import weakref
from typing import Callable, NamedTuple

import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor
from tinytorch.core.activations import ReLU, Sigmoid, Tanh, GELU, Softmax
from tinytorch.core.losses import MSELoss, BinaryCrossEntropyLoss, CrossEntropyLoss
from tinytorch.core.layers import Linear

# %%
# Used only by this notebook's experiments and demo (not exported).
import contextlib
import os
import sys
import time

# The autograder (nbgrader sets NBGRADER_EXECUTION) and `tito module complete` (TITO_DEMOS=0) run every test of
# this notebook but not its demos and timings. When you run the notebook yourself, DEMOS is True.
DEMOS = os.environ.get("NBGRADER_EXECUTION") != "autograde" and os.environ.get("TITO_DEMOS") != "0"


@contextlib.contextmanager
def needs(exercise):
    """Runs a demo that relies on your code: if that code is missing or wrong, one line says what to finish."""
    try:
        yield
    except Exception as error:
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        print(f"(this demo needs {exercise}; it stopped with {reason}. Finish that exercise first.)")

# %% [markdown]
# ## 1. Computation graphs
#
# Write `y = x * 3 + 1`. Python evaluates it in two steps, and so builds a small graph:
#
# ```
# forward:   x ──[mul 3]──> t ──[add 1]──> y
# backward:  x.grad <──[MulBackward]── t's grad <──[AddBackward]── dy/dy = 1
# ```
#
# Each result tensor keeps a reference to the **node** that created it, in its `_grad_fn` attribute (module 01
# already reserved the slot; it is `None` for tensors you create yourself, the *leaves*). The node stores the
# operation's inputs, because the backward rule needs them: for `z = a * b` the gradient reaching `a` is
# `grad_z * b`, so `b` must still be around when the backward pass runs. That is autograd's central trade:
# **memory for the saved inputs, in exchange for a backward pass that costs about as much as the forward.**
# We measure that memory in section 11.
#
# Two switches decide whether a graph is recorded at all:
#
# - `requires_grad`: only operations with at least one input that requires grad record a node. Data and labels
#   don't need gradients, parameters do; opting in keeps graphs small.
# - **grad mode**: inside `with no_grad():` nothing is recorded, which is what you want for evaluation.
#
# The flag and two helpers are given. `_record(out, node)` makes `out` the output of `node`. `_attach(out, node)`
# does the same, but only when grad mode is on and some saved input requires grad: section 6 builds its first
# graphs by hand with it. From section 8 on, every operator records its own node (section 3.1 shows how).

# %%
#| export
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

# %% [markdown]
# ## 2. The chain rule
#
# If `z = f(g(x))` then `dz/dx = dz/dg · dg/dx`: walk from the output back to the input and multiply the local
# derivatives met on the way. With tensors the "multiply" is a *vector-Jacobian product*: a node receives
# `grad_output` (the gradient of the final scalar loss with respect to its output, same shape as the output)
# and returns the gradient with respect to each input (same shape as that input). It never needs the full
# Jacobian matrix.
#
# Two facts turn this into an algorithm:
#
# 1. **Each node only knows its own rule.** `MulBackward` knows nothing about the network around it.
# 2. **Paths add up.** When a tensor feeds several operations (a shared weight, or `x * x`), the gradients
#    arriving from each use are *summed*.
#
# Our referee throughout is the **central difference** `(f(x+h) - f(x-h)) / 2h`, which approximates a
# derivative with error of order `h²`. The helper below applies it to plain NumPy functions, in float64; the
# tests of your backward rules compare against it. (Section 9's `gradcheck` does the same for whole graphs.)

# %%
def _close(got, expected, rtol=1e-5, atol=1e-8, *, allclose=np.allclose, asarray=np.asarray):
    """np.allclose on plain float64 arrays. The tests use it instead of np.allclose: NumPy's functions are
    bound here, when this cell runs, so code under test cannot swap them for ones that always agree."""
    return bool(allclose(asarray(got, dtype=np.float64), asarray(expected, dtype=np.float64),
                         rtol=rtol, atol=atol))


def numerical_grads(f, *arrays, upstream=None, h=1e-6):
    """Central-difference gradients of sum(f(*arrays) * upstream) with respect to each array (float64)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out = np.asarray(f(*arrays), dtype=np.float64)
    upstream = np.ones_like(out) if upstream is None else np.asarray(upstream, dtype=np.float64)
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            plus = np.sum(np.asarray(f(*arrays)) * upstream)
            a[i] = old - h
            minus = np.sum(np.asarray(f(*arrays)) * upstream)
            a[i] = old
            g[i] = (plus - minus) / (2 * h)
        grads.append(g)
    return grads


# What a test says when one of your rules raises an error (a NumPy shape error, say): the rule, what it was
# given, and the mistake it most often is.
RULE_HINTS = {
    "MulBackward": "a's gradient is g * b and b's is g * a (each uses the *other* input)",
    "DivBackward": "b's gradient is -g * a / b**2",
    "MatmulBackward": "only one arrangement fits the shapes: grad_A = g @ Bᵀ has A's shape, grad_B = Aᵀ @ g has "
                      "B's; for stacks of matrices transpose the last two axes with np.swapaxes(x, -1, -2), not .T",
    "SumBackward": "put the reduced axes back (np.expand_dims) before broadcasting g to x's shape",
    "MeanBackward": "like SumBackward, then divide by the number of averaged elements",
    "MaxBackward": "mask the maxima with keepdims=True, so the mask broadcasts against g",
    "SoftmaxBackward": "s * (g - sum(g * s, along dim, keepdims=True)): keep the summed axis",
    "PowBackward": "the exponent's gradient is g * z * log(a), defined where a > 0",
}


def explain(test):
    """Decorator for the tests below: an error raised inside one of your rules comes back naming the rule, the
    shapes it was given, and the likely mistake, instead of a bare NumPy message."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except Exception as error:
            frame = _rule_frame(error.__traceback__)
            if frame is None or isinstance(error, AssertionError):
                raise
            node, g = frame.f_locals["self"], frame.f_locals.get("grad_output")
            rule = type(node).__name__
            if isinstance(error, NotImplementedError):
                raise AssertionError(f"{rule}.apply is not written yet: write it in its exercise cell above, "
                                     "then run this test again") from None
            shapes = ", ".join(str(t.shape) for t in node.saved_tensors)
            raise AssertionError(f"{rule}.apply raised {type(error).__name__}: {error}\n  it was given inputs "
                                 f"of shapes {shapes} and grad_output of shape {np.shape(g)}\n  hint: "
                                 f"{RULE_HINTS.get(rule, 'each gradient must have the shape of its input')}"
                                 ) from error
    return run


def _rule_frame(traceback):
    """The innermost frame of the traceback that runs a rule's apply (a method of a Function), or None."""
    found = None
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_name == "apply" and isinstance(frame.f_locals.get("self"), Function):
            found = frame
        traceback = traceback.tb_next
    return found


# The chain rule, checked numerically: d/dx sin(x²) = cos(x²) · 2x
x0 = np.array([0.7])
print("chain rule:", np.cos(x0 ** 2) * 2 * x0, " central difference:",
      numerical_grads(lambda x: np.sin(x ** 2), x0)[0])

# %% [markdown]
# ## 3. `Function`: the graph node
#
# Every backward rule is a subclass of `Function`. The constructor receives the operation's input tensors and
# keeps them in `saved_tensors`; `apply(grad_output)` receives the upstream gradient as an `np.ndarray` and
# returns **a tuple with one gradient per saved tensor**, in the same order. An input that does not require
# grad gets `None`, so no work is wasted on data or constants.
#
# Rules that need more than the inputs (an axis, the forward output) store it in their own `__init__`. A
# `Function` can also hold the forward half of an operation: section 9.1 adds an operation of your own
# that way, with `forward` and `run`.
#
# **Your first exercise cell starts with `#| export`.** That line is for nbdev, the tool that turns this
# notebook into the package: `tito module complete 06` copies every cell that starts with `#| export` into
# `tinytorch/core/autograd.py`, and leaves the others (tests, demos) in the notebook. Write your code in the
# exercise cells and it is exported with them. If you add a helper function in a cell of your own, start that
# cell with `#| export` too: without it the notebook works, but the package lacks the helper and its tests fail
# with `NameError` (`tito module complete` tells you which helper).
#
# Each test cell checks its exercise at once, with a few chosen cases. The package tests that `tito module
# complete 06` runs afterwards check the same rules on many more: random shapes drawn by hypothesis,
# broadcasting, and edge values.

# %% nbgrader={"grade": false, "grade_id": "function", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Function:
    """Base class of every backward rule: remembers the inputs of one operation."""

    def __init__(self, *tensors):
        """Store the operation's inputs.

        TODO: keep `tensors` (a tuple) in `self.saved_tensors`.

        APPROACH: one assignment.

        HINTS: keep the order: `apply` returns gradients in the same order.
        """
        ### BEGIN SOLUTION
        self.saved_tensors = tensors
        ### END SOLUTION

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

# %% nbgrader={"grade": true, "grade_id": "test-function", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_function():
    a, b = Tensor([1.0]), Tensor([2.0])
    node = Function(a, b)
    saved = getattr(node, "saved_tensors", None)
    assert type(saved) is tuple and len(saved) == 2 and saved[0] is a and saved[1] is b, \
        f"Function(a, b).saved_tensors should be the tuple (a, b), got {getattr(node, 'saved_tensors', None)!r}"
    try:
        node.apply(np.ones(1))
    except NotImplementedError:
        pass
    else:
        raise AssertionError("Function.apply should raise NotImplementedError: subclasses implement it")
    ### BEGIN HIDDEN TESTS
    empty = Function().saved_tensors
    assert type(empty) is tuple and len(empty) == 0, "Function() should save an empty tuple"
    assert Function(a).saved_tensors[0] is a, "saved_tensors must hold the tensors themselves, not copies"
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_function()

# %% [markdown]
# ### 3.1 Registering a rule
#
# A rule is useless until the forward operation it differentiates records it. So every rule says, on the
# line above its class, **which operation it differentiates and how that call becomes a node**:
#
# ```python
# @differentiates(Tensor, "__mul__", binary)
# class MulBackward(Function):
#     ...
# ```
#
# `differentiates` adds one entry to the registry `DIFFERENTIABLE_OPS`; in section 8 you write
# `enable_autograd()`, which reads it and replaces each registered method with a version that records its
# node. Any later module can register its own operations the same way, in its own file.
#
# The third argument, the **recorder**, turns a forward call into a node. There are a few call shapes, each
# one small function below; a rule's constructor receives exactly what the recorder hands it, which is what
# the forward computed:
#
# | recorder | called as | node built |
# |---|---|---|
# | `binary` | `a.op(b)` | `Rule(a, b)`; a number or list `b` becomes a constant Tensor |
# | `unary` | `x.op(...)` | `Rule(x)` |
# | `with_output` | `x.op(...)` | `Rule(x, out)`, `out` being the forward's result |
# | `reduction` | `x.op(axis=None, keepdims=False)` | `Rule(x, out, axis, keepdims)` |
# | `parsed(parse)` | `x.op(*args)` | `Rule(x, parse(x, *args))`: module 01's own parser, e.g. the normalised axes |
# | `activation` | `act.forward(x)` | `Rule(x, out)` |
# | `along_dim` | `softmax.forward(x)` | `Rule(x, out, softmax.dim)` |
# | `loss` | `loss.forward(pred, target)` | `Rule(pred, target)` |
#
# Each recorder asks "grad mode on, and does an input require grad?" *before* building the node: inference
# (`no_grad`) and constants then build no graph at all. A recorder runs once per operation, so its few
# lines are the engine's per-operation overhead.

# %%
#| export
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

# %% [markdown]
# ## 4. The backward rules
#
# Each rule below is a few lines of NumPy, registered by the line above its class (section 3.1). Write `g` for
# `grad_output`. Two conventions keep them short:
#
# - **Shapes.** Return gradients in the shape the *operation* produced them (for `a + b` with a broadcast `b`,
#   the full broadcast shape). The engine reduces each gradient to its input's shape with `unbroadcast`
#   (section 5), so no rule has to.
# - **`None` for inputs that don't require grad**: check `tensor.requires_grad` before computing.
#
# ### 4.1 Arithmetic
#
# | operation | gradient for `a` | gradient for `b` |
# |---|---|---|
# | `a + b` | `g` | `g` |
# | `a - b` | `g` | `-g` |
# | `a * b` | `g * b` | `g * a` |
# | `a / b` | `g / b` | `-g * a / b²` |
# | `-a` | `-g` | |

# %% nbgrader={"grade": false, "grade_id": "arithmetic-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
@differentiates(Tensor, "__add__", binary)
class AddBackward(Function):
    """z = a + b: ∂a = g, ∂b = g."""

    def apply(self, grad_output):
        """TODO: return the gradients for a and b (None for an input that does not require grad).

        APPROACH: both are grad_output, unchanged. HINTS: use `_needs(tensor)`.
        """
        a, b = self.saved_tensors
        ### BEGIN SOLUTION
        return (grad_output if _needs(a) else None, grad_output if _needs(b) else None)
        ### END SOLUTION


@differentiates(Tensor, "__sub__", binary)
class SubBackward(Function):
    """z = a − b: ∂a = g, ∂b = −g."""

    def apply(self, grad_output):
        """TODO: gradients for a and b. APPROACH: g for a, -g for b."""
        a, b = self.saved_tensors
        ### BEGIN SOLUTION
        return (grad_output if _needs(a) else None, -grad_output if _needs(b) else None)
        ### END SOLUTION


@differentiates(Tensor, "__mul__", binary)
class MulBackward(Function):
    """z = a · b: ∂a = g · b, ∂b = g · a."""

    def apply(self, grad_output):
        """TODO: gradients for a and b. APPROACH: g * b for a, g * a for b (use the `.data` arrays)."""
        a, b = self.saved_tensors
        ### BEGIN SOLUTION
        return (grad_output * b.data if _needs(a) else None, grad_output * a.data if _needs(b) else None)
        ### END SOLUTION


@differentiates(Tensor, "__truediv__", binary)
class DivBackward(Function):
    """z = a / b: ∂a = g / b, ∂b = −g · a / b²."""

    def apply(self, grad_output):
        """TODO: gradients for a and b.

        APPROACH: d(a/b)/da = 1/b, d(a/b)/db = -a/b².  HINTS: mind the minus sign.
        """
        a, b = self.saved_tensors
        ### BEGIN SOLUTION
        grad_a = grad_output / b.data if _needs(a) else None
        grad_b = -grad_output * a.data / b.data ** 2 if _needs(b) else None
        return grad_a, grad_b
        ### END SOLUTION


@differentiates(Tensor, "__neg__", unary)
class NegBackward(Function):
    """z = −a: ∂a = −g."""

    def apply(self, grad_output):
        """TODO: a one-element tuple holding the gradient for a."""
        (a,) = self.saved_tensors
        ### BEGIN SOLUTION
        return (-grad_output if _needs(a) else None,)
        ### END SOLUTION

# %% [markdown]
# The tests compare each rule with `numerical_grads` using a random, non-uniform `grad_output`: an all-ones
# upstream gradient hides many bugs (for instance a softmax rule that is wrong only off the diagonal).

# %%
def _rule_check(rule, forward, *arrays, upstream=None, name="", atol=2e-3, rtol=2e-3):
    """Compare rule(*tensors).apply(upstream) with central differences; return the rule's gradients."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = np.asarray(forward(*[np.asarray(a, dtype=np.float64) for a in arrays]))
    rng = np.random.default_rng(1)
    upstream = rng.uniform(0.5, 1.5, out.shape) * rng.choice([-1.0, 1.0], out.shape) if upstream is None else upstream
    node = rule(*tensors)
    label = type(node).__name__            # the class, even when `rule` is a lambda that builds it
    got = node.apply(upstream.astype(np.float32))
    assert isinstance(got, tuple) and len(got) >= len(arrays), \
        f"{label}.apply must return a tuple with one gradient per saved tensor, got {got!r}"
    expected = numerical_grads(forward, *arrays, upstream=upstream)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g is not None, f"{label}: gradient for input {i} is None but the input requires grad"
        g = np.asarray(g)
        assert g.shape == e.shape, \
            f"{label}: gradient for input {i} has shape {g.shape}, expected {e.shape} {name}"
        worst = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(g - e)), e.shape)) if e.size else ()
        assert _close(g, e, atol=atol, rtol=rtol), \
            (f"{label}: gradient for input {i} is wrong at position {worst}: expected {e[worst]:.5f}, "
             f"got {g[worst]:.5f} {name}")
    return got

# %% nbgrader={"grade": true, "grade_id": "test-arithmetic-backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_arithmetic_backward():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.uniform(0.5, 2.0, size=(2, 3)) * rng.choice([-1, 1], (2, 3))
    _rule_check(AddBackward, lambda a, b: a + b, a, b)
    _rule_check(SubBackward, lambda a, b: a - b, a, b, name="(a - b: the gradient for b is -grad_output)")
    _rule_check(MulBackward, lambda a, b: a * b, a, b, name="(a * b: a's gradient uses b, and b's uses a)")
    _rule_check(DivBackward, lambda a, b: a / b, a, b, name="(a / b: b's gradient is -g * a / b**2)")
    _rule_check(NegBackward, lambda a: -a, a)
    const = Tensor([2.0])
    assert MulBackward(Tensor([3.0], requires_grad=True), const).apply(np.ones(1))[1] is None, \
        "MulBackward: an input with requires_grad=False should get None, not an array"
    ### BEGIN HIDDEN TESTS
    g = np.array([[1.0, -2.0, 0.5]])
    x, y = Tensor([[1.0, 2.0, 4.0]], requires_grad=True), Tensor([[2.0, -1.0, 0.5]], requires_grad=True)
    assert _close(SubBackward(x, y).apply(g)[1], -g), "SubBackward: sign of b's gradient"
    assert _close(DivBackward(x, y).apply(g)[1], -g * x.data / y.data ** 2), "DivBackward: b's gradient"
    assert _close(DivBackward(x, y).apply(g)[0], g / y.data), "DivBackward: a's gradient"
    assert AddBackward(Tensor([1.0]), x).apply(g)[0] is None, "AddBackward: None for a constant"
    assert SubBackward(x, Tensor([1.0])).apply(g)[1] is None, "SubBackward: None for a constant"
    assert DivBackward(Tensor([1.0]), x).apply(g)[0] is None, "DivBackward: None for a constant"
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_arithmetic_backward()

# %% [markdown]
# ### 4.2 Matrix multiplication
#
# For `Z = A @ B` with `A: (n, k)`, `B: (k, m)`, `Z: (n, m)`:
#
# - `grad_A = g @ Bᵀ`, shape `(n, m) @ (m, k) = (n, k)`: the shape of A, as it must be;
# - `grad_B = Aᵀ @ g`, shape `(k, n) @ (n, m) = (k, m)`: the shape of B.
#
# If you forget which operand to transpose, **check the shapes**: only one arrangement fits. For stacks of
# matrices (`(batch, n, k)`) "transpose" means swapping the *last two* axes, `np.swapaxes(x, -1, -2)`; a
# batch dimension that was broadcast (a weight shared by every sample) is summed by the engine.
#
# 1-D operands follow `np.matmul`: a vector `a: (k,)` on the left acts as a `(1, k)` row, a vector on the
# right as a `(k, 1)` column, and that extra axis is dropped from the result. The backward does the same
# dance: promote, apply the 2-D rule, drop the axis again.

# %% nbgrader={"grade": false, "grade_id": "matmul-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
@differentiates(Tensor, "matmul", binary)
class MatmulBackward(Function):
    """Z = A @ B (2-D, batched or 1-D operands): ∂A = g @ Bᵀ, ∂B = Aᵀ @ g."""

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
        ### BEGIN SOLUTION
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
        ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-matmul-backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_matmul_backward():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    g = rng.normal(size=(2, 4))
    ga, gb = MatmulBackward(Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)).apply(g)
    for name, got, want in (("A", ga, A), ("B", gb, B)):
        assert np.shape(got) == want.shape, (
            f"MatmulBackward: grad for {name} has shape {np.shape(got)}, expected {want.shape} — "
            "did you transpose the wrong operand?")
    assert _close(ga, g @ B.T, atol=1e-4), "MatmulBackward: grad for A should be grad_output @ B.T"
    assert _close(gb, A.T @ g, atol=1e-4), "MatmulBackward: grad for B should be A.T @ grad_output"
    _rule_check(MatmulBackward, np.matmul, rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 3, 4)),
                name="(batched: transpose the last two axes with np.swapaxes(x, -1, -2), not .T)")
    _rule_check(MatmulBackward, np.matmul, rng.normal(size=3), rng.normal(size=(3, 4)),
                name="(1-D A: treat it as a (1, k) row, then drop that axis)")
    ### BEGIN HIDDEN TESTS
    _rule_check(MatmulBackward, np.matmul, rng.normal(size=(2, 3)), rng.normal(size=3), name="(1-D B)")
    _rule_check(MatmulBackward, np.matmul, rng.normal(size=3), rng.normal(size=3), name="(1-D both)")
    _rule_check(MatmulBackward, np.matmul, rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 3)), name="(square)")
    _rule_check(MatmulBackward, np.matmul, rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), name="(square 2-D)")
    assert MatmulBackward(Tensor(A), Tensor(B, requires_grad=True)).apply(g)[0] is None, "None for constant A"
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_matmul_backward()

# %% [markdown]
# ### 4.3 Reductions
#
# - `sum`: every input element contributed once, so each receives the upstream gradient: **broadcast `g`
#   back** to the input's shape. When `keepdims=False` the reduced axes are gone from `g`; put them back with
#   `np.expand_dims(g, axis)` first. (With `axis=None` the output is a scalar, which broadcasts as is.)
# - `mean`: the same, divided by the number of elements averaged, `input size / output size`.
# - `max`: only the winning element moved the output, so the gradient goes to it: the elements equal to the
#   forward's output. When several elements tie for the maximum they **share** it evenly (PyTorch does the
#   same for a full reduction): mask them and divide the mask by how many there are.
#
# The recorder hands each rule what the forward computed: the output, `axis` and `keepdims`.

# %% nbgrader={"grade": false, "grade_id": "reduction-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
        """TODO: broadcast the (expanded) upstream gradient to x's shape.

        APPROACH: `np.broadcast_to(self._expand(grad_output), x.shape)`.
        """
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        return (np.broadcast_to(self._expand(grad_output), x.shape),)
        ### END SOLUTION


@differentiates(Tensor, "mean", reduction)
class MeanBackward(_ReduceBackward):
    """z = x.mean(axis): g / n copied to each of the n averaged elements."""

    def apply(self, grad_output):
        """TODO: like SumBackward, divided by the count of averaged elements (x.size / self.out.size)."""
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        count = x.data.size / max(self.out.size, 1)
        return (np.broadcast_to(self._expand(grad_output), x.shape) / count,)
        ### END SOLUTION


@differentiates(Tensor, "max", reduction)
class MaxBackward(_ReduceBackward):
    """z = x.max(axis): g to the maximum (shared evenly between ties), 0 elsewhere."""

    def apply(self, grad_output):
        """TODO: send the gradient to the elements equal to the output; tied ones share it evenly.

        APPROACH:
        1. `mask = x.data == self._expand(self.out)` marks the elements the forward picked.
        2. `share = mask / mask.sum(axis=self.axis, keepdims=True, dtype=grad_output.dtype)` (the count in
           the gradient's dtype, so that the share is not float64).
        3. Return `(share * self._expand(grad_output),)`.
        """
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        mask = x.data == self._expand(self.out)
        share = mask / mask.sum(axis=self.axis, keepdims=True, dtype=grad_output.dtype)
        return (share * self._expand(grad_output),)
        ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-reduction-backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def _check_reduction(rule, numpy_reduce, x, axis=None, keepdims=False, **kwargs):
    """_rule_check for a reduction: builds the node as the recorder does, from the forward's output."""
    forward = lambda a: numpy_reduce(a, axis=axis, keepdims=keepdims)
    return _rule_check(lambda t: rule(t, Tensor(forward(t.data)), axis, keepdims), forward, x, **kwargs)


@explain
def test_unit_reduction_backward():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    _check_reduction(SumBackward, np.sum, x, upstream=np.array(2.0))
    _check_reduction(SumBackward, np.sum, x, axis=1,
                     name="(sum over axis 1 without keepdims: expand g before broadcasting)")
    _check_reduction(MeanBackward, np.mean, x, axis=0, keepdims=True,
                     name="(mean: divide by the number of averaged elements)")
    _check_reduction(MaxBackward, np.max, x, axis=1,
                     name="(max: the gradient goes to the largest element of each row)")
    tie = MaxBackward(Tensor([1.0, 3.0, 3.0], requires_grad=True), Tensor(3.0)).apply(np.array(1.0))[0]
    assert _close(tie, [0.0, 0.5, 0.5]), f"MaxBackward: two tied maxima should share the gradient, got {tie}"
    ### BEGIN HIDDEN TESTS
    y = rng.normal(size=(2, 3, 4))
    _check_reduction(SumBackward, np.sum, y, axis=(0, 2), name="(tuple axis)")
    _check_reduction(MeanBackward, np.mean, y, axis=-1, name="(negative axis)")
    _check_reduction(MeanBackward, np.mean, y, upstream=np.array(-1.5))
    _check_reduction(MaxBackward, np.max, y, axis=0, keepdims=True)
    tie = MaxBackward(Tensor([[2.0, 2.0, 2.0, 1.0]], requires_grad=True), Tensor([2.0]), 1).apply(np.array([3.0]))[0]
    assert _close(tie, [[1.0, 1.0, 1.0, 0.0]]), "MaxBackward: three ties share 3.0 evenly"
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_reduction_backward()

# %% [markdown]
# ### 4.4 Shape operations
#
# These move numbers without changing them, so the backward moves the gradient back:
#
# - `reshape`: reshape `g` to the input's shape.
# - `permute(*axes)`: undo with the inverse permutation, `np.argsort(axes)`. The recorder hands the rule the
#   axes as module 01's `permute` understood them (its parser `_permutation`: a tuple, negatives resolved).
#   `transpose` needs no rule of its own: module 01 writes it as the permutation that swaps two axes.
# - indexing `x[key]`: scatter `g` into zeros of x's shape at `key` (again the key as module 01 used it). With
#   an index array an element can be picked **twice** (`x[[0, 0]]`); both picks must contribute, and
#   `zeros[key] += g` silently keeps only one. `np.add.at(zeros, key, g)` accumulates correctly.

# %% nbgrader={"grade": false, "grade_id": "shape-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
@differentiates(Tensor, "clone", unary)
@differentiates(Tensor, "reshape", unary)
class ReshapeBackward(Function):
    """z = x.reshape(shape) (or x.clone()): g reshaped back to the input's shape."""

    def apply(self, grad_output):
        """TODO: reshape the gradient to x's shape."""
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        return (np.reshape(grad_output, x.shape),)
        ### END SOLUTION


@differentiates(Tensor, "permute", parsed(Tensor._permutation))
class PermuteBackward(Function):
    """z = x.permute(axes): g permuted by the inverse permutation."""

    def __init__(self, x, axes):
        super().__init__(x)
        self.axes = axes

    def apply(self, grad_output):
        """TODO: apply the inverse permutation. HINTS: `np.transpose(g, np.argsort(self.axes))`."""
        ### BEGIN SOLUTION
        return (np.transpose(grad_output, np.argsort(self.axes)),)
        ### END SOLUTION


@differentiates(Tensor, "__getitem__", parsed(Tensor._index_key))
class SliceBackward(Function):
    """z = x[key]: g scattered into zeros at the indexed positions (repeats add up)."""

    def __init__(self, x, key):
        super().__init__(x)
        self.key = key

    def apply(self, grad_output):
        """TODO: scatter the gradient into zeros of x's shape, accumulating repeated indices.

        APPROACH: `grad = np.zeros_like(x.data)`; `np.add.at(grad, self.key, grad_output)`.
        """
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        grad = np.zeros_like(x.data)
        np.add.at(grad, self.key, grad_output)
        return (grad,)
        ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-shape-backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_shape_backward():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4))
    _rule_check(ReshapeBackward, lambda a: a.reshape(6, 4), x)
    _rule_check(lambda t: PermuteBackward(t, (2, 0, 1)), lambda a: np.transpose(a, (2, 0, 1)), x,
                name="(permute: undo with the inverse permutation np.argsort(axes))")
    _rule_check(lambda t: PermuteBackward(t, (0, 2, 1)), lambda a: np.swapaxes(a, -2, -1), x, name="(a transpose)")
    picked = SliceBackward(Tensor([1.0, 2.0, 3.0], requires_grad=True), [0, 0, 2]).apply(np.array([1.0, 1.0, 1.0]))[0]
    assert _close(picked, [2.0, 0.0, 1.0]), \
        f"SliceBackward: x[[0, 0, 2]] picks x[0] twice, so its gradient is 2; got {picked} (use np.add.at)"
    ### BEGIN HIDDEN TESTS
    _rule_check(lambda t: SliceBackward(t, (slice(None), 1)), lambda a: a[:, 1], x)
    _rule_check(lambda t: SliceBackward(t, (0, slice(1, 3), [3, 3, 0])), lambda a: a[0, 1:3, [3, 3, 0]], x)
    _rule_check(lambda t: PermuteBackward(t, (1, 2, 0)), lambda a: np.transpose(a, (1, 2, 0)), x)
    _rule_check(ReshapeBackward, lambda a: a.reshape(-1), x)
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_shape_backward()

# %% [markdown]
# ### 4.5 Activations
#
# The rules for element-wise activations multiply `g` by the local derivative. Sigmoid and tanh are cheapest
# written with their own **output** `s`, so their nodes store it (`self.out`):
#
# - ReLU: `g * (x > 0)`
# - Sigmoid: `g * s * (1 - s)`
# - Tanh: `g * (1 - s²)`
# - GELU (module 02's tanh approximation `0.5·x·(1 + tanh(u))`, `u = c·(x + 0.044715·x³)`, `c = √(2/π)`):
#   `g * (0.5·(1 + t) + 0.5·x·(1 - t²)·c·(1 + 3·0.044715·x²))` with `t = tanh(u)`.
#
# **Softmax** is not element-wise: every output depends on every input along `dim`, so its Jacobian is a full
# matrix `J = diag(s) - s sᵀ`. You never build it; the vector-Jacobian product simplifies to
#
# `grad_x = s * (g - sum(g * s, along dim, keepdims=True))`.
#
# Keeping only the diagonal (`g * s * (1 - s)`) is a classic bug: it looks plausible and is wrong.

# %% nbgrader={"grade": false, "grade_id": "activation-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class _OutputBackward(Function):
    """A rule that reuses its forward's result: saves the input x and keeps the output array as `self.out`."""

    def __init__(self, x, out):
        super().__init__(x)
        self.out = out.data


@differentiates(ReLU, "forward", activation)
class ReLUBackward(_OutputBackward):
    """z = relu(x): g where x > 0, else 0."""

    def apply(self, grad_output):
        """TODO: pass the gradient where x > 0, zero elsewhere."""
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        return (grad_output * (x.data > 0),)
        ### END SOLUTION


@differentiates(Sigmoid, "forward", activation)
class SigmoidBackward(_OutputBackward):
    """z = sigmoid(x): g · s · (1 − s), s the output."""

    def apply(self, grad_output):
        """TODO: g * s * (1 - s), with s = self.out."""
        ### BEGIN SOLUTION
        s = self.out
        return (grad_output * s * (1 - s),)
        ### END SOLUTION


@differentiates(Tanh, "forward", activation)
class TanhBackward(_OutputBackward):
    """z = tanh(x): g · (1 − t²), t the output."""

    def apply(self, grad_output):
        """TODO: g * (1 - s**2), with s = self.out."""
        ### BEGIN SOLUTION
        return (grad_output * (1 - self.out ** 2),)
        ### END SOLUTION


@differentiates(GELU, "forward", activation)
class GELUBackward(_OutputBackward):
    """z = gelu(x): g · GELU′(x), the derivative of the tanh approximation."""

    def apply(self, grad_output):
        """TODO: the derivative of the tanh approximation given above.

        HINTS: clip x to [-20, 20] for u, as the forward does (beyond that the derivative is 0 or 1 anyway).
        """
        (x,) = self.saved_tensors
        ### BEGIN SOLUTION
        c, k = (2 / np.pi) ** 0.5, 0.044715         # Python floats: they keep x's dtype
        inner = np.clip(x.data, -20, 20)
        t = np.tanh(c * (inner + k * inner ** 3))
        return (grad_output * (0.5 * (1 + t) + 0.5 * x.data * (1 - t ** 2) * c * (1 + 3 * k * inner ** 2)),)
        ### END SOLUTION


@differentiates(Softmax, "forward", along_dim)
class SoftmaxBackward(_OutputBackward):
    """z = softmax(x, dim): s · (g − Σ g·s along dim), s the output."""

    def __init__(self, x, out, dim=-1):
        super().__init__(x, out)
        self.dim = dim

    def apply(self, grad_output):
        """TODO: s * (g - sum(g * s, axis=self.dim, keepdims=True)), with s = self.out."""
        ### BEGIN SOLUTION
        s = self.out
        return (s * (grad_output - np.sum(grad_output * s, axis=self.dim, keepdims=True)),)
        ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-activation-backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def _softmax(a, dim=-1):
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _gelu(a):
    inner = np.clip(a, -20, 20)
    return 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (inner + 0.044715 * inner ** 3)))


def _with_out(rule, forward):
    """A rule constructor for _rule_check: computes the forward output the node stores."""
    return lambda t: rule(t, Tensor(forward(t.data)))


@explain
def test_unit_activation_backward():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4)) * 2
    x[np.abs(x) < 0.05] = 0.3   # stay away from ReLU's kink
    sig = lambda a: 1 / (1 + np.exp(-a))
    _rule_check(_with_out(ReLUBackward, lambda a: np.maximum(a, 0)), lambda a: np.maximum(a, 0), x)
    _rule_check(_with_out(SigmoidBackward, sig), sig, x)
    _rule_check(_with_out(TanhBackward, np.tanh), np.tanh, x)
    _rule_check(_with_out(GELUBackward, _gelu), _gelu, x)
    _rule_check(_with_out(SoftmaxBackward, _softmax), _softmax, x,
                name="(softmax: the Jacobian is diag(s) - s s^T, not just its diagonal)")
    ### BEGIN HIDDEN TESTS
    y = rng.normal(size=(2, 3, 4))
    _rule_check(lambda t: SoftmaxBackward(t, Tensor(_softmax(t.data, 1)), 1), lambda a: _softmax(a, 1), y,
                name="(softmax along dim=1)")
    _rule_check(lambda t: SoftmaxBackward(t, Tensor(_softmax(t.data, 0)), 0), lambda a: _softmax(a, 0), y)
    big = np.array([-30.0, -3.0, 0.5, 3.0, 25.0])
    _rule_check(_with_out(GELUBackward, _gelu), _gelu, big)
    _rule_check(_with_out(SigmoidBackward, sig), sig, big)
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_activation_backward()

# %% [markdown]
# ### 4.6 Losses
#
# A loss reduces predictions and targets to one number, so `g` is a scalar. With `N` the number of elements
# averaged over:
#
# - MSE, `mean((p - t)²)`: `grad_p = g · 2 (p - t) / N` (and the negative for `t`, if it requires grad).
# - Binary cross-entropy, `-mean(t log p + (1 - t) log(1 - p))`: `grad_p = g · (p - t) / (p (1 - p)) / N`
#   and `grad_t = g · (log(1 - p) - log p) / N`. The forward clips `p` into `[1e-7, 1 - 1e-7]` (in float64,
#   where `1 - 1e-7` exists), so a saturated prediction cannot divide by zero; the backward uses the same
#   clipped `p`, and where the forward clipped, the loss does not move with `p`: `grad_p` is 0 there.
# - Cross-entropy on logits `z: (batch, classes)` with integer targets, `mean(-log softmax(z)[i, t_i])`:
#   `grad_z = g · (softmax(z) - onehot(t)) / batch`. The softmax and the log cancel into this famously simple
#   form, which is why frameworks fuse them. Integer targets get no gradient (`None`).

# %% nbgrader={"grade": false, "grade_id": "loss-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
@differentiates(MSELoss, "forward", loss)
class MSEBackward(Function):
    """mean((p − t)²): ∂p = 2g (p − t) / n, ∂t = −∂p."""

    def apply(self, grad_output):
        """TODO: gradients for predictions and targets of mean((p - t)**2)."""
        pred, target = self.saved_tensors
        ### BEGIN SOLUTION
        grad = grad_output * 2 * (pred.data - target.data) / pred.data.size
        return (grad if _needs(pred) else None, -grad if _needs(target) else None)
        ### END SOLUTION


@differentiates(BinaryCrossEntropyLoss, "forward", loss)
class BCEBackward(Function):
    """binary cross-entropy: ∂p = g (p − t) / (p (1 − p)) / n, 0 where p was clipped; ∂t = g log((1 − p) / p) / n."""

    def apply(self, grad_output):
        """TODO: the arrays `grad_p` and `grad_t` (the lines below cast them and choose None).

        APPROACH: the formulas above with `q`, the clipped p: `grad_p = g (q - t) / (q (1 - q)) / n`, but 0
        where the forward clipped (`np.where(p == q, ..., 0.0)`); `grad_t = g (log(1 - q) - log q) / n`.
        """
        pred, target = self.saved_tensors
        eps = BinaryCrossEntropyLoss.eps
        p = pred.data.astype(np.float64)             # float64, as the forward: 1 - 1e-7 is no float32 number
        q, t, n = np.clip(p, eps, 1 - eps), target.data.astype(np.float64), p.size
        ### BEGIN SOLUTION
        grad_p = np.where(p == q, grad_output * (q - t) / (q * (1 - q)) / n, 0.0)
        grad_t = grad_output * (np.log(1 - q) - np.log(q)) / n
        ### END SOLUTION
        return (grad_p.astype(pred.data.dtype) if _needs(pred) else None,
                grad_t.astype(target.data.dtype) if _needs(target) else None)


@differentiates(CrossEntropyLoss, "forward", loss)
class CrossEntropyBackward(Function):
    """cross-entropy of logits: ∂logits = g (softmax(logits) − onehot(t)) / batch."""

    def apply(self, grad_output):
        """TODO: g * (softmax(logits) - onehot(targets)) / batch; None for the targets.

        HINTS: softmax along the last axis, stabilised by subtracting the row max; build the one-hot by
        subtracting 1 at `[np.arange(batch), targets]` from a copy of the softmax.
        """
        logits, target = self.saved_tensors
        ### BEGIN SOLUTION
        z = logits.data - logits.data.max(axis=-1, keepdims=True)
        probs = np.exp(z)
        probs /= probs.sum(axis=-1, keepdims=True)
        batch = len(probs)
        probs[np.arange(batch), target.data.astype(np.int64)] -= 1
        return (grad_output * probs / batch if _needs(logits) else None, None)
        ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-loss-backward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_loss_backward():
    rng = np.random.default_rng(0)
    p, t = rng.uniform(0.1, 0.9, size=(4, 3)), rng.uniform(0, 1, size=(4, 3))
    _rule_check(MSEBackward, lambda p, t: np.mean((p - t) ** 2), p, t, upstream=np.array(1.7))
    bce = lambda p, t: -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    _rule_check(BCEBackward, bce, p, t, upstream=np.array(0.8), name="(BCE: targets that require grad get one too)")
    clipped = BCEBackward(Tensor([0.0, 1.0, 0.5], requires_grad=True), Tensor([1.0, 0.0, 1.0])).apply(np.array(1.0))
    assert clipped[1] is None and _close(clipped[0], [0.0, 0.0, -2 / 3]) and clipped[0].dtype == np.float32, \
        f"BCEBackward: 0 where the forward clipped p (it is flat there), float32 like p; got {clipped[0]!r}"
    z, labels = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    ce = lambda z: -np.mean(np.log(_softmax(z))[np.arange(5), labels])
    _rule_check(lambda q: CrossEntropyBackward(q, Tensor(labels)), ce, z, upstream=np.array(1.3),
                name="(cross-entropy: (softmax - onehot) / batch)")
    ### BEGIN HIDDEN TESTS
    _rule_check(lambda q: CrossEntropyBackward(q, Tensor(labels)), ce, z * 20, upstream=np.array(-0.7))
    assert CrossEntropyBackward(Tensor(z, requires_grad=True), Tensor(labels)).apply(np.array(1.0))[1] is None
    _rule_check(MSEBackward, lambda p, t: np.mean((p - t) ** 2), p[0], t[0], upstream=np.array(-2.0))
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_loss_backward()

# %% [markdown]
# ### 4.7 Powers, exponentials and logarithms
#
# With these, any loss can be written from its formula: `((pred - y) ** 2).mean()`, or binary cross-entropy
# as `-(t * p.log() + (1 - t) * (1 - p).log()).mean()`. Their rules are one line each:
#
# | operation | gradient |
# |---|---|
# | `a ** b` | `∂a = g · b · a^(b−1)`, `∂b = g · a^b · log a` |
# | `x.exp()` | `g · eˣ`: the output itself |
# | `x.log()` | `g / x` |
# | `x.sqrt()` | `g / (2 √x)`: again the output |
#
# `**` covers three calls: `x ** 2` (a constant exponent: only `∂a`), `2 ** x` (a constant base: only `∂b`)
# and `x ** y`. Two edges follow PyTorch's definitions: where `b = 0`, `a^b = 1` does not move with `a`, so
# `∂a = 0`, even at `a = 0` where the formula gives `0 · ∞`; and where `a = 0 ≤ b`, `∂b = 0` (the formula's
# `0 · log 0`). Elsewhere the formulas give `inf` or `nan` exactly where the derivative is infinite or
# undefined (`sqrt` and `log` at 0, the exponent of a negative base): the cells silence NumPy's warnings
# about those with `np.errstate`.

# %% nbgrader={"grade": false, "grade_id": "elementwise-backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
@differentiates(Tensor, "__pow__", binary)
class PowBackward(Function):
    """z = a ** b: ∂a = g · b · a^(b − 1) (0 where b = 0), ∂b = g · a^b · log a (0 where a = 0 ≤ b)."""

    def apply(self, grad_output):
        """TODO: the gradients for a and b, None for an input that does not require grad.

        APPROACH: `np.where(B == 0, 0.0, B * A ** (B - 1))` for a, and
        `np.where((A == 0) & (B >= 0), 0.0, A ** B * np.log(A))` for b, each times `grad_output`.
        """
        a, b = self.saved_tensors
        A, B = a.data, b.data
        with np.errstate(divide="ignore", invalid="ignore"):
            ### BEGIN SOLUTION
            grad_a = grad_output * np.where(B == 0, 0.0, B * A ** (B - 1)) if _needs(a) else None
            grad_b = grad_output * np.where((A == 0) & (B >= 0), 0.0, A ** B * np.log(A)) if _needs(b) else None
            ### END SOLUTION
        return grad_a, grad_b


@differentiates(Tensor, "exp", with_output)
class ExpBackward(_OutputBackward):
    """z = exp(x): g · z, the output."""

    def apply(self, grad_output):
        """TODO: g times the output, `self.out`."""
        ### BEGIN SOLUTION
        return (grad_output * self.out,)
        ### END SOLUTION


@differentiates(Tensor, "log", unary)
class LogBackward(Function):
    """z = log(x): g / x."""

    def apply(self, grad_output):
        """TODO: g / x."""
        (x,) = self.saved_tensors
        with np.errstate(divide="ignore"):
            ### BEGIN SOLUTION
            return (grad_output / x.data,)
            ### END SOLUTION


@differentiates(Tensor, "sqrt", with_output)
class SqrtBackward(_OutputBackward):
    """z = sqrt(x): g / (2 z), z the output."""

    def apply(self, grad_output):
        """TODO: g / (2 * the output)."""
        with np.errstate(divide="ignore"):
            ### BEGIN SOLUTION
            return (grad_output / (2 * self.out),)
            ### END SOLUTION

# %% [markdown]
# ### 4.8 Kinks and ties (given)
#
# A few operations have points where the derivative does not exist: `abs` at 0, `clip` at its bounds,
# `minimum`/`maximum` and `min` where two values tie. An engine must still return *something* there, and
# the choice should be PyTorch's, so that gradients agree across frameworks: `abs` sends 0 at 0; `clip`
# passes the gradient at a bound (the value there is the input's); ties split the gradient evenly, as your
# `MaxBackward` does. `MinBackward` is your `MaxBackward` itself: both send the gradient to the elements
# equal to the output. The rules are given; read them, they use the patterns you wrote above.

# %%
#| export
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

# %% nbgrader={"grade": true, "grade_id": "test-elementwise-backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_elementwise_backward():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2.0, size=(2, 3)), rng.normal(size=(2, 3))
    _rule_check(PowBackward, lambda a, b: a ** b, a, b, name="(a ** b: ∂b = g · a^b · log a)")
    _rule_check(lambda x: PowBackward(x, Tensor(3.0)), lambda x: x ** 3.0, b, name="(x ** 3, negative x too)")
    _rule_check(_with_out(ExpBackward, np.exp), np.exp, b)
    _rule_check(LogBackward, np.log, a)
    _rule_check(_with_out(SqrtBackward, np.sqrt), np.sqrt, a)
    edges = PowBackward(Tensor([0.0, 0.0, 2.0], requires_grad=True),
                        Tensor([0.0, 2.0, 0.0], requires_grad=True)).apply(np.ones(3))
    assert _close(edges[0], [0.0, 0.0, 0.0]) and _close(edges[1], [0.0, 0.0, np.log(2.0)]), \
        f"PowBackward at a = 0 or b = 0: ∂a = 0 where b = 0, ∂b = 0 where a = 0 <= b; got {edges}"
    ### BEGIN HIDDEN TESTS
    x, upstream = Tensor(b, requires_grad=True), rng.normal(size=(2, 3))
    (got,) = [g for g in PowBackward(Tensor(2.0), x).apply(upstream) if g is not None]
    assert _close(got, numerical_grads(lambda e: 2.0 ** e, b, upstream=upstream)[0], atol=2e-3, rtol=2e-3), \
        "PowBackward for 2 ** x: the exponent's gradient g · 2^x · log 2"
    assert PowBackward(x, Tensor(2.0)).apply(upstream)[1] is None, "a constant exponent gets None"
    _rule_check(lambda x: PowBackward(x, Tensor(-2.0)), lambda x: x ** -2.0, a)
    _rule_check(_with_out(ExpBackward, np.exp), np.exp, b * 5)
    _rule_check(LogBackward, np.log, a * 1e-3)
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_elementwise_backward()

# %% [markdown]
# ## 5. `unbroadcast`: summing over broadcast axes
#
# NumPy broadcasting lets `x: (32, 10) + b: (10,)` add the bias to every row. In the graph, `b` was *used 32
# times*, so, by the chain rule's "paths add up", its gradient is the **sum** of the 32 row gradients. In
# general `AddBackward` hands back a `(32, 10)` gradient and it must be reduced to `b`'s shape `(10,)`:
#
# 1. sum away the leading axes that broadcasting added (`g.ndim > len(shape)`), then
# 2. sum, with `keepdims=True`, every axis where the input had size 1 but the gradient does not.
#
# The engine calls `unbroadcast` on every gradient a rule returns; that is why the rules above could ignore
# broadcasting. Forgetting it leaves a bias with a gradient of the wrong shape.

# %% nbgrader={"grade": false, "grade_id": "unbroadcast", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
    ### BEGIN SOLUTION
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.ndim == len(shape) and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-unbroadcast", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_unbroadcast():
    g = np.ones((32, 10))
    got = unbroadcast(g, (10,))
    assert np.shape(got) == (10,), f"unbroadcast((32, 10) -> (10,)) should have shape (10,), got {np.shape(got)}"
    assert _close(got, 32), "unbroadcast: a bias used by 32 rows collects 32 gradients, so each entry is 32"
    got = unbroadcast(np.ones((3, 4)), (3, 1))
    assert np.shape(got) == (3, 1) and _close(got, 4), \
        f"unbroadcast((3, 4) -> (3, 1)) should sum axis 1 keeping it: shape (3, 1) full of 4, got {got!r}"
    ### BEGIN HIDDEN TESTS
    assert _close(unbroadcast(np.arange(6.0).reshape(2, 3), (2, 3)), np.arange(6.0).reshape(2, 3))
    got = unbroadcast(np.ones((5, 2, 3, 4)), (1, 3, 1))
    assert got.shape == (1, 3, 1) and _close(got, 5 * 2 * 4), "unbroadcast: mixed leading and size-1 axes"
    assert np.shape(unbroadcast(np.ones((2, 3)), ())) == () and float(unbroadcast(np.ones((2, 3)), ())) == 6
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_unbroadcast()

# %% [markdown]
# ## 6. `backward()`: walking the graph
#
# The operators record nothing until you write `enable_autograd` (section 8), so for now we build graphs by
# hand with `_attach`: compute the forward result on the arrays, then attach the node that made it.
# `leaf(...)` makes a parameter-like tensor.

# %%
def leaf(values):
    return Tensor(values, requires_grad=True)


def add(a, b):
    return _attach(Tensor(a.data + b.data), AddBackward(a, b))


def mul(a, b):
    return _attach(Tensor(a.data * b.data), MulBackward(a, b))

# %% [markdown]
# ### 6.1 The simple recursive walk, and why it breaks
#
# The most direct backward is a recursion: add the incoming gradient to this tensor's `.grad`, ask the node
# for its inputs' gradients, and call backward on each input with its share. It is short, and many first
# engines are written this way; it is given below (not graded) so we can measure it.

# %%
def backward_recursive(tensor, gradient=None):
    """The naive walk: recurse into every input, once per path that reaches it."""
    if gradient is None:
        gradient = np.ones_like(tensor.data)
    tensor.grad = gradient if tensor.grad is None else tensor.grad + gradient
    node = tensor._grad_fn
    if node is not None:
        for parent, grad in zip(node.saved_tensors, node.apply(gradient)):
            if grad is not None and parent.requires_grad:
                backward_recursive(parent, unbroadcast(grad, parent.shape))

# %% [markdown]
# It gives the right answer on small graphs. It has two failures, both of which we can provoke in a second:
#
# 1. **Depth.** Each node is one Python stack frame. Python stops at about 1,000 frames, so a chain of a few
#    thousand operations (a long recurrent network, an iterative solver) dies with `RecursionError`.
# 2. **Shared subgraphs.** In `h = h + h`, both inputs of the addition are the same tensor. The recursion
#    walks into it *twice*, and everything below it twice each, so `n` rungs of this ladder cost `2ⁿ` visits
#    for a graph of only `n` nodes. Real networks share subgraphs all the time (residual connections, a
#    weight used at every time step).

# %%
def deep_chain_experiment():
    depth = 2 * sys.getrecursionlimit()          # twice as deep as Python allows recursion to go
    out = leaf([1.0])
    for _ in range(depth):
        out = add(out, leaf([0.0]))
    try:
        backward_recursive(out)
        print("deep chain: no error?")
    except RecursionError as error:
        print(f"deep chain of {depth:,} additions (recursion limit {sys.getrecursionlimit():,}): "
              f"RecursionError ({error})")


def ladder(rungs):
    x = leaf([1.0])
    h = x
    for _ in range(rungs):
        h = add(h, h)
    return x, h


def time_walk(walk, rungs):
    """Seconds that `walk` (a backward function) takes on a ladder of `rungs`, and the ladder's input x."""
    x, h = ladder(rungs)
    start = time.perf_counter()
    walk(h)
    return time.perf_counter() - start, x


def _count_applies(rule, run):
    """How many times `run()` calls `rule.apply` (the tests count node visits instead of timing them)."""
    calls = []
    original = rule.apply
    rule.apply = lambda self, grad_output: calls.append(1) or original(self, grad_output)
    try:
        run()
    finally:
        rule.apply = original
    return len(calls)


def recursive_ladder_experiment():
    times = {}
    for rungs in range(8, 17, 2):
        times[rungs], x = time_walk(backward_recursive, rungs)
        print(f"ladder of {rungs:2d} rungs: recursive walk {times[rungs] * 1e3:8.2f} ms, "
              f"x.grad = {x.grad[0]:.0f} (2**{rungs} = {2 ** rungs})")
    growth = (times[16] / times[8]) ** (1 / 8)
    print(f"each extra rung multiplies the time by about {growth:.2f}: exponential")
    return times, growth


recursive_times, growth = {}, None
if DEMOS:
    with needs("exercises 3 and 4.1 (Function, AddBackward)"):
        deep_chain_experiment()
        recursive_times, growth = recursive_ladder_experiment()

# %% [markdown]
# ### 6.2 The topological walk (your turn)
#
# The fix handles each node **once**, after *all* of its incoming gradients have arrived:
#
# 1. **Order the graph.** A *topological order* lists every node after all of its inputs. Find it with a
#    depth-first search that uses an explicit stack (a Python list) instead of recursion, so depth is no
#    problem: push `(node, False)`; when popped unvisited, mark it visited and push `(node, True)` followed
#    by its inputs; when `(node, True)` is popped, all its inputs are done, so append it to the order.
# 2. **Walk the order backwards**, starting from the output, keeping a dict `grads` from `id(tensor)` to the
#    sum of the gradients that have reached that tensor so far. For each node: take its summed gradient; if
#    it is a leaf (no `_grad_fn`) or called `retain_grad()`, store it in `.grad`; then apply the node's rule
#    and add each input's gradient into the dict. Two paths that reach the same tensor **add up**.
#
# Three helpers do the engineering around the walk; they are given (read them, don't change them):
#
# - `_start_gradient(tensor, gradient)` checks the call and returns the gradient the walk starts from:
#   a copy of the caller's `gradient`, which must have the tensor's exact shape, or, when none is given,
#   ones (`∂loss/∂loss = 1`) for a one-element tensor. A tensor that does not require grad raises `RuntimeError`; a missing or
#   misshapen gradient raises `ValueError`.
# - `_input_gradient(fn, i, g, t)` reduces a rule's gradient to its input's shape with your `unbroadcast`,
#   and raises a `ValueError` naming the rule, the input and both shapes when the rule got it wrong.
# - `_accumulate_grad(tensor, grad)` does `tensor.grad += grad`: `.grad` is an `np.ndarray` with the
#   tensor's shape and dtype, and it **accumulates** over calls. It also makes sure a `.grad` never
#   **aliases** another array: `AddBackward` hands the very same array to both of its inputs, and
#   `ReshapeBackward` returns a view. Copying every time would be correct, but for a 784 × 512 weight it
#   copies 1.6 MB per step; so a new array that the engine just made and that no other `.grad` holds is
#   kept as it is, and anything else is copied. PyTorch's engine makes the same move when it "steals" a
#   gradient.
#
# We keep the graph after `backward()`, so calling it twice accumulates twice. (PyTorch frees the graph's
# saved tensors during backward to save memory; a second call there needs `loss.backward(retain_graph=True)`
# the first time.)

# %%
#| export
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

# %% nbgrader={"grade": false, "grade_id": "backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def topological_order(root):
    """Every tensor of root's graph that requires grad, each after all of its inputs (iterative DFS).

    TODO: the explicit-stack depth-first search described above.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION


def backward(self, gradient=None):
    """Fill `.grad` of every leaf of self's graph with d(self)/d(leaf), accumulating.

    TODO: the topological walk described above.

    APPROACH: `grads` maps id(tensor) to the sum of the gradients that reached it; it starts with self's.
    For node in reversed(topological_order(self)):
    1. `grad = grads.pop(id(node), None)`; skip the node when it is None (no gradient reached it).
    2. On a leaf (no `_grad_fn`) or a tensor that called retain_grad(): `_accumulate_grad(node, grad)`.
    3. Unless it is a leaf: with `fn = node._grad_fn`, for i, (t, g) in enumerate(zip(fn.saved_tensors,
       fn.apply(grad))): skip a None gradient and an input that does not need one (`_needs(t)`);
       otherwise `g = _input_gradient(fn, i, g, t)`, then add g into `grads[id(t)]`.

    HINTS: add with `grads[id(t)] + g`, never `+=`: a rule may hand the same array to several inputs.
    A retained intermediate has a `_retains_grad` attribute; others do not (`getattr` with a default).
    """
    grads = {id(self): _start_gradient(self, gradient)}
    ### BEGIN SOLUTION
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
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def _check_simple_graphs():
    """y = 3x + 1, y = x * x and a broadcast bias: the walk's basic duties."""
    x = leaf([2.0])
    y = add(mul(x, Tensor([3.0])), Tensor([1.0]))         # y = 3x + 1
    backward(y)
    assert x.grad is not None, "backward(y): x.grad is still None; leaves must receive their gradient"
    assert _close(x.grad, [3.0]), f"y = 3x + 1: dy/dx should be [3.], got {x.grad}"
    assert isinstance(x.grad, np.ndarray) and x.grad.dtype == x.data.dtype and x.grad.shape == x.shape, \
        "x.grad should be an np.ndarray with x's shape and dtype"
    assert y._grad_fn is not None and y.grad is None, "intermediate tensors keep grad None (unless retain_grad)"
    x2 = leaf([3.0])
    backward(mul(x2, x2))
    assert _close(x2.grad, [6.0]), f"y = x * x at x = 3: both paths add, dy/dx = 6, got {x2.grad}"
    b = leaf([1.0, 2.0, 3.0])
    backward(add(leaf(np.ones((4, 3))), b), np.ones((4, 3)))
    assert b.grad.shape == (3,) and _close(b.grad, 4), \
        f"a (3,) bias broadcast over 4 rows gets gradient 4 per entry with shape (3,), got {b.grad!r}"


def _check_shared_paths():
    """Shared subgraphs: each node visited once, its gradients summed; .grad accumulates and never aliases."""
    s, t = leaf([1.0, 2.0]), leaf([1.0, 2.0])
    backward(add(s, t), np.ones(2))
    s.grad += 1
    assert _close(t.grad, [1.0, 1.0]), ("a + b hands the same gradient array to a and b: changing a.grad changed "
                                        "b.grad. Store gradients with _accumulate_grad, never assign .grad")
    x12, h12 = ladder(12)
    visits = _count_applies(AddBackward, lambda: backward(h12))
    assert visits == 12, (f"h = h + h twelve times is 12 nodes, but backward called AddBackward.apply {visits} "
                          "times: visit each node once, after summing all of its incoming gradients")
    x3, h = ladder(30)
    backward(h)
    assert x3.grad[0] == 2.0 ** 30, f"h = h + h thirty times: dh/dx = 2**30, got {x3.grad[0]}"
    backward(h)
    assert x3.grad[0] == 2.0 ** 31, "a second backward() must ADD to .grad (accumulate), not overwrite it"

### BEGIN HIDDEN TESTS
def _check_deep_and_diamond():
    deep = leaf([1.0])
    out = deep
    for _ in range(5_000):   # five times as deep as Python lets a recursion go
        out = add(out, Tensor([1.0]))
    backward(out)
    assert deep.grad[0] == 1.0, "a 5,000-node chain must work (no recursion)"
    # diamond: a = x * w; y = a * a + a -> dy/dx = (2a + 1) * w
    x, w = leaf([1.5]), leaf([2.0])
    a = mul(x, w)
    backward(add(mul(a, a), a))
    assert _close(x.grad, (2 * 3.0 + 1) * 2.0), f"diamond: incoming gradients must be summed, got {x.grad}"
    assert _close(w.grad, (2 * 3.0 + 1) * 1.5)


def _check_bad_calls():
    g = np.array([1.0, 2.0])
    v = leaf([1.0, 1.0])
    backward(mul(v, Tensor([3.0, 4.0])), g)
    g[:] = 100
    assert _close(v.grad, [3.0, 8.0]), ".grad must not alias the gradient argument (copy it)"
    for bad in (lambda: backward(Tensor([1.0])), lambda: backward(mul(v, v), np.ones(3))):
        try:
            bad()
        except (RuntimeError, ValueError):
            pass
        else:
            raise AssertionError("backward(): no requires_grad -> RuntimeError; wrong gradient shape -> ValueError")
    class BadBackward(Function):
        def apply(self, g):
            return (np.ones((5, 7)),)
    bad = _attach(Tensor([1.0, 2.0]), BadBackward(leaf([1.0, 2.0])))
    try:
        backward(bad, np.ones(2))
    except ValueError as error:
        assert "BadBackward" in str(error) and "(5, 7)" in str(error), f"name the rule and shapes: {error}"
    else:
        raise AssertionError("a rule returning a gradient of the wrong shape must raise ValueError")
### END HIDDEN TESTS


@explain
def test_unit_backward():
    _check_simple_graphs()
    _check_shared_paths()
    try:
        backward(add(leaf(np.ones(2)), leaf(np.ones(2))))
    except ValueError:
        pass
    else:
        raise AssertionError("backward() on a non-scalar tensor without a gradient must raise ValueError")
    ### BEGIN HIDDEN TESTS
    _check_deep_and_diamond()
    _check_bad_calls()
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_backward()

# %%
def topological_ladder_experiment():
    """Times your backward on ladders of 8 to 30 rungs; returns {rungs: seconds}."""
    x, h = ladder(10)   # first, a cheap check: a walk that visits nodes twice would take hours at 30 rungs
    visits = _count_applies(AddBackward, lambda: backward(h))
    assert visits == 10, f"your backward visited {visits} nodes of a 10-node ladder, each must be visited once"
    times = {rungs: time_walk(backward, rungs)[0] for rungs in range(8, 31, 2)}
    for rungs in (16, 30):
        note = f"(recursive: {recursive_times[rungs] * 1e3:.1f} ms)" if rungs in recursive_times else \
            f"(recursive, extrapolated: about {recursive_times[16] * growth ** (rungs - 16):,.0f} s)" \
            if growth else ""
        print(f"ladder of {rungs} rungs, topological walk: {times[rungs] * 1e3:.2f} ms {note}")
    return times

# %% [markdown]
# The two columns of milliseconds read better as a picture. This notebook draws its figures with matplotlib:
# each is a small function that returns a `Figure` (matplotlib's object API, no `pyplot`), and `show` displays
# it below the cell. (The book draws the same functions in its light and its dark colours; in JupyterLab's
# dark theme, `show(..., theme="dark")` does too.)

# %%
FIGURE_THEMES = {   # matplotlib settings (rcParams) of each colour theme; the series: Okabe and Ito's palette
    theme: {"font.size": 13, "axes.grid": True, "axes.axisbelow": True,
            "axes.spines.top": False, "axes.spines.right": False,
            "figure.facecolor": paper, "axes.facecolor": paper, "legend.framealpha": 1, "legend.edgecolor": paper,
            "text.color": ink, "axes.labelcolor": ink, "xtick.color": ink, "ytick.color": ink,
            "axes.edgecolor": muted, "grid.color": faint,
            "axes.prop_cycle": f"cycler(color={series})", "image.cmap": digits}
    for theme, paper, ink, muted, faint, series, digits in (    # paper and ink: the book's page and text
        ("light", "#ffffff", "#222832", "#6e7781", "#d8dee4", ["#0072B2", "#D55E00"], "gray_r"),
        ("dark", "#121212", "#ced6dd", "#8b949e", "#343b46", ["#56B4E9", "#E69F00"], "gray"),
    )
}


def picture(make_figure, *args, theme="light"):
    """make_figure(*args) drawn in the theme's colours, as a PNG image that Jupyter (and the book) displays.

    A Figure made without pyplot has no display of its own; savefig draws it with the Agg backend."""
    from io import BytesIO
    import matplotlib
    from IPython.display import Image
    with matplotlib.rc_context(FIGURE_THEMES[theme]):
        figure = make_figure(*args)
        png = BytesIO()
        figure.savefig(png, format="png", dpi=2 * figure.dpi)
    return Image(png.getvalue(), retina=True)   # shown at half its pixel size: sharp on any screen


def show(make_figure, *args, theme="light"):
    """Display make_figure(*args) below the cell. Run as a script, or without matplotlib, one line says so."""
    from IPython import get_ipython
    from IPython.display import display
    try:
        image = picture(make_figure, *args, theme=theme)
    except ImportError as error:
        print(f"(no figure: {error}; `pip install matplotlib` to see it)")
        return
    if get_ipython() is None:
        print(f"({make_figure.__name__}: drawn; open the notebook in Jupyter to see it)")
    else:
        display(image)

# %%
def ladder_figure(walks):
    """Time of each walk against the height of the ladder, on a log scale. walks: {name: {rungs: seconds}}."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(6.0, 3.8), layout="constrained")
    ax = figure.add_subplot()
    for name, times in walks.items():
        ax.plot(list(times), [seconds * 1e3 for seconds in times.values()], marker="o", label=name)
    ax.set(yscale="log", xlabel="rungs of the ladder (h = h + h, repeated)", ylabel="one backward pass (ms)")
    ax.yaxis.set_major_formatter("{x:g}")         # 0.1, 1, 10 rather than powers of ten
    figure.legend(loc="outside upper center")     # above the plot, where it hides no line
    return figure

# %%
topological_times = {}
if DEMOS:
    with needs("exercise 6.2 (backward)"):
        topological_times = topological_ladder_experiment()
    if topological_times:
        show(ladder_figure, {"recursive walk": recursive_times, "topological walk (your backward)": topological_times})

# %% [markdown]
# ## 7. Accumulation, `zero_grad`, `detach`, `retain_grad`
#
# Gradients **accumulate**: `backward()` adds into `.grad`. That is a feature: to train on a batch too big
# for memory, run `backward()` on four quarter-batches, and the parameters hold the full batch's gradient.
# It is also the most common training bug: forget to reset between steps and every update uses the sum of
# all previous gradients. So each training step starts with `zero_grad()`, which sets `.grad` to `None`
# (cheaper than filling an array with zeros, and `None` tells "no gradient yet" apart from "gradient zero").
#
# Two more tools:
#
# - `detach()` returns a new tensor sharing the same data but cut from the graph (`requires_grad=False`):
#   gradients stop there. Useful for targets computed from the model, or for logging.
# - `retain_grad()` asks backward to keep the gradient of an *intermediate* tensor in its `.grad` (by default
#   only leaves keep theirs, which saves memory). It sets the flag `_retains_grad` that `backward` reads.

# %% nbgrader={"grade": false, "grade_id": "grad-tools", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def zero_grad(self):
    """Forget the accumulated gradient. TODO: set `self.grad` to None."""
    ### BEGIN SOLUTION
    self.grad = None
    ### END SOLUTION


def detach(self):
    """A tensor with the same data and dtype, cut from the graph. TODO: return a new Tensor (no grad)."""
    ### BEGIN SOLUTION
    return Tensor(self.data, dtype=self.dtype)
    ### END SOLUTION


def retain_grad(self):
    """Keep this intermediate tensor's gradient. TODO: set `self._retains_grad = True`; return self."""
    ### BEGIN SOLUTION
    self._retains_grad = True
    return self
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test-grad-tools", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
@explain
def test_unit_grad_tools():
    w = leaf([2.0])
    backward(mul(w, Tensor([5.0])))
    backward(mul(w, Tensor([5.0])))
    assert _close(w.grad, [10.0]), f"two backward passes accumulate: 5 + 5 = 10, got {w.grad}"
    zero_grad(w)
    assert w.grad is None, "zero_grad should set .grad to None"
    d = detach(w)
    assert not d.requires_grad and d._grad_fn is None and _close(d.data, w.data), \
        "detach(): same values, requires_grad=False, no _grad_fn"
    mid = mul(w, Tensor([3.0]))
    retain_grad(mid)
    backward(mul(mid, mid))
    assert mid.grad is not None and _close(mid.grad, [12.0]), \
        f"retain_grad(): d(mid*mid)/dmid = 2 * mid = 12, got {mid.grad}"
    ### BEGIN HIDDEN TESTS
    assert _close(w.grad, [36.0]), "the leaf still gets its gradient when an intermediate retains grad"
    assert retain_grad(leaf([1.0])) is not None
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_grad_tools()

# %% [markdown]
# ## 8. `enable_autograd`: wiring the engine into Tensor
#
# Module 01's `Tensor` computes forward results only. `enable_autograd()` replaces each registered
# operation with the method its recorder builds (section 3.1): it calls the original and records the
# matching node. Every other method (`__radd__`, `@`, `__rsub__`, `transpose`, ...) calls a registered one at
# call time, so it is covered too. The activations of module 02 and the losses of module 04 get the same
# treatment on their `forward`.
#
# The registry is **one data structure**, `DIFFERENTIABLE_OPS`, which `enable_autograd`, the test suite and
# the book all read. A list kept implicitly, spread over patching code, is how an operation gets silently
# missed (its users would get `x.grad = None` and no error); one list makes an operation without a rule
# impossible to miss.
#
# One more recorder, `layer`, is an optimisation, not a new idea. Module 03's `Linear` computes `x @ W + b`
# with two operations, which would record two nodes, and the addition's node would keep the product `x @ W`
# alive although `b`'s gradient needs only its shape. So `Linear.forward` is registered as **one fused
# node**, `LinearBackward` (given below, built from the rules you wrote): the graph keeps `x`, `W` and `b`
# only, and backward visits one node per layer instead of two. The gradients are the same; a test compares
# the two graphs, and section 11 measures the memory saved.

# %%
#| export
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

# %% [markdown]
# Your part: the function that reads the registry. It must be **idempotent** (calling it twice is harmless)
# and must always wrap the *pristine* methods, never an already-wrapped one: otherwise a second call would
# record two nodes per operation, and an engine enabled earlier in the same Python process (say, the
# package's own) would stay in the loop. `_pristine(owner, name)` gives you the original. Your `backward`
# goes onto `Tensor` with the collector paused while it runs (`_gc_paused`, given above).

# %% nbgrader={"grade": false, "grade_id": "enable-autograd", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def enable_autograd(quiet=False):
    """Make every registered operation record its node, and give Tensor this module's backward tools.

    TODO:
    1. For each `op` in DIFFERENTIABLE_OPS.values() (fields owner, method, rule, record): set
       `op.owner.<op.method>` to `op.record(_pristine(op.owner, op.method), op.rule)`.
    2. For each name, function in _TENSOR_METHODS: remember the pristine one with `_pristine(Tensor, name)`,
       then set it on Tensor.
    3. Unless quiet, print one line saying autograd is on and how many operations are differentiable.

    HINTS: `setattr(owner, name, value)`.
    """
    ### BEGIN SOLUTION
    for op in DIFFERENTIABLE_OPS.values():
        setattr(op.owner, op.method, op.record(_pristine(op.owner, op.method), op.rule))
    for name, function in _TENSOR_METHODS.items():
        _pristine(Tensor, name)
        setattr(Tensor, name, function)
    ### END SOLUTION
    if not quiet:
        print(f"autograd enabled: {len(DIFFERENTIABLE_OPS)} differentiable operations")

# %% nbgrader={"grade": true, "grade_id": "test-enable-autograd", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
def _check_each_kind_is_wired():
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    for act, rule in ((ReLU(), ReLUBackward), (Sigmoid(), SigmoidBackward), (GELU(), GELUBackward),
                      (Softmax(), SoftmaxBackward)):
        assert isinstance(act(a)._grad_fn, rule), f"{type(act).__name__} not wired"
    assert isinstance(MSELoss()(a, Tensor([[0.0, 1.0]]))._grad_fn, MSEBackward)
    assert isinstance(CrossEntropyLoss()(a, [1])._grad_fn, CrossEntropyBackward)
    p = Tensor([[0.3, 0.6]], requires_grad=True)
    assert isinstance(BinaryCrossEntropyLoss()(p, Tensor([[0.0, 1.0]]))._grad_fn, BCEBackward)
    for result, rule in (((2 - a), SubBackward), ((a @ Tensor([[1.0], [2.0]])), MatmulBackward),
                         (a[0], SliceBackward), (a.transpose(), PermuteBackward), (a.reshape(2), ReshapeBackward),
                         ((-a), NegBackward), ((a / 2), DivBackward), (a.max(), MaxBackward), (a.mean(), MeanBackward),
                         ((a ** 2), PowBackward), (a.log(), LogBackward), (a.min(), MinBackward)):
        assert isinstance(result._grad_fn, rule), f"{rule.__name__} not recorded: {result._grad_fn!r}"
### END HIDDEN TESTS


@explain
def test_unit_enable_autograd():
    disable_autograd()                                # start from modules 01-04's own methods
    enable_autograd()
    enable_autograd(quiet=True)                       # idempotent
    x = Tensor([2.0], requires_grad=True)
    y = x * 3 + 1
    assert isinstance(y._grad_fn, AddBackward), f"x * 3 + 1 should be recorded by AddBackward, got {y._grad_fn!r}"
    assert isinstance(y._grad_fn.saved_tensors[0]._grad_fn, MulBackward), \
        "enable_autograd must wrap the pristine method once: x * 3 was not recorded by a single MulBackward"
    y.backward()
    assert _close(x.grad, [3.0]), f"y = x * 3 + 1: x.grad should be [3.], got {x.grad}"
    t = Tanh()(x)
    assert isinstance(t._grad_fn, TanhBackward), \
        "Tanh()(x) records no TanhBackward: every registry entry must be wired, activations included"
    for op in DIFFERENTIABLE_OPS.values():
        assert getattr(op.owner, op.method) is not _pristine(op.owner, op.method), \
            f"{op_name(op.owner, op.method)} is registered but enable_autograd did not wrap it"
    with no_grad():
        assert (x * 2)._grad_fn is None, "no operation may record a graph inside no_grad()"
    ### BEGIN HIDDEN TESTS
    _check_each_kind_is_wired()
    for name in _TENSOR_METHODS:
        assert getattr(Tensor, name) is _TENSOR_METHODS[name], f"Tensor.{name} should be this module's {name}"
    z = Tensor([1.0, 2.0], requires_grad=True)
    z.sum().backward()
    z.zero_grad()
    assert z.grad is None
    assert (Tensor([1.0]) * 2)._grad_fn is None, "no graph when no input requires grad"
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_unit_enable_autograd()

# %% [markdown]
# Now the first examples read the way they will in every later module:

# %%
with needs("exercises 6.2 and 8 (backward, enable_autograd)"):
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    W = Tensor([[3.0], [4.0]], requires_grad=True)
    y = x.matmul(W)              # [[11.]]
    loss = (y * y).sum()         # 121
    loss.backward()
    print("x.grad =", x.grad, " W.grad =", W.grad.ravel())   # dloss/dy = 2y = 22, so 22 * W and 22 * x

# %% [markdown]
# ## 9. Tools: `gradcheck`, `show_graph`, `graph_memory`
#
# The unit tests above checked each rule in isolation. `gradcheck(fn, *inputs)` checks a whole computation:
# it runs `fn` through the engine, contracts the output with a random, non-uniform upstream gradient, and
# compares every input's `.grad` with central differences. It switches `Tensor.default_dtype` to float64
# while it runs (float32's 7 digits are too few for finite differences) and restores it afterwards.
# `show_graph` draws a graph (a mermaid diagram in JupyterLab, a text tree in a terminal), and `graph_memory`
# adds up the bytes the graph's nodes keep alive.

# %%
#| export
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

# %%
x = Tensor([[1.0, 2.0]], requires_grad=True)
W = Tensor([[3.0], [4.0]], requires_grad=True)
y = x.matmul(W)
graph = show_graph((y * y).sum())
print(graph)   # the text tree: what a terminal (or this module run as a script) shows
graph          # the last value of a cell: JupyterLab draws it as a mermaid diagram

# %% [markdown]
# ### 9.1 Your own operation: `Function.run`
#
# Every operation so far lives in an earlier module and is wired by the registry. For an operation of your
# own you need neither: write one `Function` subclass with both halves, `forward(self, *arrays)` (NumPy in,
# NumPy out) and `apply(self, grad_output)`, and call it with `MyOp.run(x, ...)` (PyTorch spells it
# `MyOp.apply(x, ...)`; here `apply` is the backward). `forward` runs on the node, so it can keep what the
# backward will need on `self`; keyword options are passed on to it.
#
# The example: **softplus**, `log(1 + eˣ)`, a smooth ReLU whose derivative is the sigmoid. Written as
# `(1 + x.exp()).log()` it overflows for large `x` (`e¹⁰⁰⁰` is `inf`); as one operation it can use NumPy's
# stable `np.logaddexp(0, x) = log(e⁰ + eˣ)`. PyTorch's `softplus` has a sharpness `beta`:
# `log(1 + e^(beta·x)) / beta`, derivative `sigmoid(beta·x)`. `gradcheck` confirms the backward.

# %%
def _sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))        # 1 / (1 + e^-a), without overflow


class Softplus(Function):
    """softplus(x) = log(1 + e^(beta·x)) / beta: ∂x = g · sigmoid(beta·x)."""

    def forward(self, x, beta=1.0):
        self.beta = beta
        return np.logaddexp(0.0, beta * x) / beta

    def apply(self, grad_output):
        (x,) = self.saved_tensors
        return (grad_output * _sigmoid(self.beta * x.data),)


with needs("exercises 6.2 and 8 (backward, enable_autograd)"):
    x = Tensor([-1000.0, -2.0, 0.0, 3.0, 1000.0], requires_grad=True)
    y = Softplus.run(x, beta=2.0)
    y.sum().backward()
    print("softplus:", y.data, " gradient:", x.grad)
    points = Tensor([[-3.0, -0.5], [0.2, 4.0]], requires_grad=True)
    print("gradcheck:", gradcheck(lambda x: Softplus.run(x, beta=2.0), points))

# %% [markdown]
# ## 10. Integration: a two-layer network
#
# Module 03's `Linear` layers (one fused `LinearBackward` node each, section 8) and module 02/04's activations
# and losses are wired: a whole network differentiates with no further code. `gradcheck` confirms the gradients of every weight.

# %% nbgrader={"grade": true, "grade_id": "test-integration", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
@explain
def test_integration_two_layer_network():
    enable_autograd(quiet=True)
    rng = np.random.default_rng(0)
    layer1, layer2 = Linear(4, 5, seed=1), Linear(5, 3, seed=2)
    x = Tensor(rng.normal(size=(6, 4)))
    labels = Tensor([0, 2, 1, 1, 0, 2])

    def network(x, w1, b1, w2, b2):
        hidden = Tanh()((x @ w1) + b1)
        return CrossEntropyLoss()(hidden @ w2 + b2, labels)

    params = [layer1.weight, layer1.bias, layer2.weight, layer2.bias]
    loss = network(x, *params)
    loss.backward()
    for p in params:
        assert p.grad is not None and p.grad.shape == p.shape, \
            f"every parameter needs a gradient of its own shape after loss.backward(); got {p.grad!r}"
    assert gradcheck(network, x, *params), "gradcheck failed for the two-layer network"
    ### BEGIN HIDDEN TESTS
    relu_net = lambda x, w1, b1: MSELoss()(ReLU()(x @ w1 + b1), Tensor(np.ones((6, 5))))
    assert gradcheck(relu_net, Tensor(rng.normal(size=(6, 4)), requires_grad=True), layer1.weight, layer1.bias)
    ### END HIDDEN TESTS

if __name__ == "__main__":
    test_integration_two_layer_network()

# %% [markdown]
# ## 11. Systems analysis: what a graph costs
#
# Every node keeps its inputs alive until the graph is dropped. For one linear layer `y = x @ W + b`, the
# forward pass saves `x` (needed for `grad_W = xᵀ @ g`) and `W` (needed for `grad_x = g @ Wᵀ`); the backward
# pass then allocates `grad_x`, `grad_W` and `grad_b`. For a layer of 512 inputs and 768 outputs at batch 32:

# %%
def kib(n_bytes):
    return n_bytes / 1024


batch, n_in, n_out, float_bytes = 32, 512, 768, np.dtype(np.float32).itemsize
memory = {
    "x (saved)": batch * n_in * float_bytes,
    "W (saved)": n_in * n_out * float_bytes,
    "grad_x": batch * n_in * float_bytes,
    "grad_W": n_in * n_out * float_bytes,
    "grad_b": n_out * float_bytes,
}
for name, n_bytes in memory.items():
    print(f"{name:10s} {n_bytes:>10,} bytes = {kib(n_bytes):8,.0f} KiB")
print(f"total      {sum(memory.values()):>10,} bytes = {sum(memory.values()) / 1024 ** 2:.1f} MiB")

# %% [markdown]
# The same layer through our engine: `graph_memory` counts the arrays the graph holds. Written as two
# primitives, `x @ W + b`, the matmul node keeps `x` and `W`, and the addition keeps its input (the product,
# `batch × 768` floats) and `b`. The `Linear` layer records one fused `LinearBackward` node (section 8),
# which keeps `x`, `W` and `b` only:

# %%
layer = Linear(n_in, n_out, seed=0)
x = Tensor(np.random.default_rng(0).normal(size=(batch, n_in)))
two_nodes, fused = x @ layer.weight + layer.bias, layer(x)
for name, y in (("x @ W + b (two nodes)", two_nodes), (f"Linear({n_in}, {n_out}) (one node)", fused)):
    print(f"graph_memory of {name:27s} at batch {batch}: {graph_memory(y):>9,} bytes "
          f"= {graph_memory(y) / 1024 ** 2:.2f} MiB")
h = Tanh()(fused)
print(f"... followed by tanh (which saves its input and its output): {graph_memory(h) / 1024 ** 2:.2f} MiB")

# %% [markdown]
# Tensor by tensor (read from the graphs: the tensors their nodes keep), the difference is the product `x @ W`.
# The addition's node holds on to its inputs, so the product's array stays alive, although the gradient of a sum
# needs none of its values; the fused node never puts that tensor in the graph.

# %%
def saved_by_tensor(y, names):
    """Bytes of each tensor that y's graph keeps for the backward pass, by name (names: {name: tensor}, in the
    order to show them). A kept tensor that `names` leaves out is an error: nothing goes uncounted."""
    if y._grad_fn is None:
        raise ValueError("this tensor has no graph: its operation recorded no node")
    kept = {id(t) for node in _graph_nodes(y) if node._grad_fn is not None
            for t in node._grad_fn.saved_tensors if isinstance(t, Tensor)}
    unnamed = kept - {id(t) for t in names.values()}
    if unnamed:
        raise ValueError(f"the graph keeps {len(unnamed)} tensor(s) that `names` does not name")
    return {name: t.data.nbytes for name, t in names.items() if id(t) in kept}


def memory_figure(graphs):
    """A bar for each tensor each graph keeps, in KiB. graphs: {graph name: {tensor name: bytes}}."""
    from matplotlib.figure import Figure
    tensors = list(dict.fromkeys(name for saved in graphs.values() for name in saved))
    figure = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = figure.add_subplot()
    height = 0.8 / len(graphs)
    for i, (graph, saved) in enumerate(graphs.items()):
        kib = [saved.get(name, 0) / 1024 for name in tensors]
        bars = ax.barh([row + i * height for row in range(len(tensors))], kib, height,
                       label=f"{graph}: {sum(kib):,.0f} KiB")
        ax.bar_label(bars, [f"{k:,.0f} KiB" if name in saved else "not kept" for name, k in zip(tensors, kib)],
                     padding=3)
    ax.set_yticks([row + height * (len(graphs) - 1) / 2 for row in range(len(tensors))], tensors)
    ax.set(xlabel="KiB kept for the backward pass", ylabel="saved tensor")
    ax.invert_yaxis()
    ax.margins(x=0.25)
    ax.grid(axis="y", visible=False)
    figure.legend(loc="outside upper center")         # above the bars: they leave no room beside them
    return figure

# %%
saved = {}
if DEMOS:
    with needs("exercise 8 (enable_autograd)"):
        product = x @ layer.weight
        names = {"x": x, "W": layer.weight, "b": layer.bias, "x @ W": product}
        saved = {"x @ W + b (two nodes)": saved_by_tensor(product + layer.bias, names),
                 "Linear (one fused node)": saved_by_tensor(layer(x), names)}
    if saved:
        show(memory_figure, saved)

# %% [markdown]
# And what recording costs in time: the per-operation overhead of building a node (measured on a tiny tensor,
# so the arithmetic itself is negligible), and one training step of a small MLP.

# %%
def per_call(functions, number=2000, rounds=7):
    """Best time of one call of each function, in seconds. The functions take turns in every round, so a
    busy machine slows them alike; the minimum over rounds filters out the rest of the noise."""
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for i, fn in enumerate(functions):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best


a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
plain_mul = _pristine(Tensor, "__mul__")                 # module 01's forward-only method
if DEMOS:
    with needs("exercise 8 (enable_autograd)"):
        forward_only, recording = per_call([lambda: plain_mul(a, b), lambda: a * b])
        print(f"a * b on 2 elements: module-01 forward {forward_only * 1e6:.1f} µs, with autograd "
              f"{recording * 1e6:.1f} µs (node recorded): "
              f"recording costs about {(recording - forward_only) * 1e6:.1f} µs per operation")

# %% [markdown]
# Gradient **checkpointing** (which we do not build) trades the other way: drop most saved activations in the
# forward pass and recompute them during backward, paying roughly one extra forward pass for a large cut in
# memory.

# %% [markdown]
# ## 12. Reflection questions (answers computed)
#
# **Q1. Activation memory.** An MLP 784 → 512 → 256 → 128 → 10 processes a batch of 64 in float32, and each
# layer saves its input for the backward pass (count the final 10-wide output too: the loss keeps it).
# How much memory do the saved activations take?

# %%
widths, batch = [784, 512, 256, 128, 10], 64
q1 = [batch * w * 4 for w in widths]
for w, n_bytes in zip(widths, q1):
    print(f"  {batch} x {w:3d} x 4 bytes = {kib(n_bytes):6.1f} KiB")
print(f"Q1: total {kib(sum(q1)):.1f} KiB = {sum(q1) / 1024 ** 2:.2f} MiB per forward pass")

# %% [markdown]
# **Q2. Backward cost.** A forward `y = x @ W` (x: 32×512, W: 512×256) takes 8 ms. How long does its backward
# take? It needs two matrix products of the same size, `grad_x = g @ Wᵀ` and `grad_W = xᵀ @ g`:

# %%
def matmul_flops(n, k, m):
    return 2 * n * k * m


forward_flops = matmul_flops(32, 512, 256)
backward_flops = matmul_flops(32, 256, 512) + matmul_flops(512, 32, 256)
print(f"Q2: backward/forward = {backward_flops / forward_flops:.0f}, so about {8 * backward_flops / forward_flops:.0f} ms "
      f"(training step ≈ {(forward_flops + backward_flops) / forward_flops:.0f}× inference)")

# %% [markdown]
# **Q3. Memory budget.** A 1-billion-parameter float32 model trains with Adam on a 16 GB GPU. How much is left
# for activations? (decimal GB: 1 GB = 10⁹ bytes)

# %%
params = 1_000_000_000
q3 = {"weights": params * 4, "gradients": params * 4, "Adam moments": params * 8}
for name, n_bytes in q3.items():
    print(f"  {name:12s} {n_bytes / 1e9:.0f} GB")
print(f"Q3: {sum(q3.values()) / 1e9:.0f} GB before a single activation: nothing is left of 16 GB "
      "(hence gradient accumulation, checkpointing, mixed precision, sharding)")

# %% [markdown]
# **Q4. `requires_grad` by default.** A batch of 32 RGB images of 224×224 would, if inputs required grad by
# default, get a gradient array as large as itself. How much memory is that?

# %%
q4_values = 32 * 3 * 224 * 224
print(f"Q4: {q4_values / 1e6:.1f} M values x 4 bytes = {q4_values * 4 / 1024 ** 2:.1f} MiB of useless gradient "
      "per batch: that is why requires_grad is opt-in")

# %% [markdown]
# **Q5. Forgetting `zero_grad`.** What does a parameter's `.grad` hold after 10 steps without resetting it?
# Run it and see: the sum of all 10 gradients, not the latest one.

# %%
with needs("exercises 6.2, 7 and 8 (backward, zero_grad, enable_autograd)"):
    w = Tensor([1.0], requires_grad=True)
    history = []
    for step in range(10):
        ((w * w) * 0.5).sum().backward()      # gradient of w²/2 is w; w stays 1, so each step adds 1
        history.append(float(w.grad[0]))
    print(f"Q5: .grad after each step without zero_grad: {history} (correct each time: 1.0)")
    w.zero_grad()

# %% [markdown]
# ## 13. Demo: learning to read digits
#
# scikit-learn ships a small real dataset, `load_digits`: 1,797 handwritten digits as 8×8 images. A two-layer
# MLP trained with plain gradient descent (`w = w - lr * w.grad`, no optimiser yet: that is module 07) on
# 80 % of them, tested on the other 20 %:

# %%
def train_digits(epochs=30, batch_size=64, lr=0.1, seed=0):
    """Train the MLP; returns its test accuracy, training time and steps, each epoch's mean training loss and
    test accuracy, and the test images with their labels and the network's predictions."""
    from sklearn.datasets import load_digits
    enable_autograd(quiet=True)
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    images, labels = digits.data[order] / 16.0, digits.target[order]
    split = int(0.8 * len(labels))
    model = [Linear(64, 64, seed=seed), ReLU(), Linear(64, 10, seed=seed + 1)]
    params = [p for layer in model if isinstance(layer, Linear) for p in (layer.weight, layer.bias)]
    loss_fn = CrossEntropyLoss()

    def forward(x):
        for layer in model:
            x = layer(x)
        return x

    def predict(x):
        with no_grad():
            return forward(Tensor(x)).data.argmax(axis=1)

    seconds, steps, losses, accuracies = 0.0, 0, [], []
    for epoch in range(epochs):
        start, batch_losses = time.perf_counter(), []
        shuffle = rng.permutation(split)
        for i in range(0, split, batch_size):
            idx = shuffle[i:i + batch_size]
            loss = loss_fn(forward(Tensor(images[idx])), Tensor(labels[idx]))
            for p in params:
                p.zero_grad()
            loss.backward()
            for p in params:
                p.data -= lr * p.grad
            batch_losses.append(float(loss.data))
            steps += 1
        seconds += time.perf_counter() - start     # the test below is not training: not timed
        losses.append(float(np.mean(batch_losses)))
        predictions = predict(images[split:])
        accuracies.append(float(np.mean(predictions == labels[split:])))
    return {"accuracy": accuracies[-1], "seconds": seconds, "steps": steps, "losses": losses,
            "accuracies": accuracies, "images": images[split:], "labels": labels[split:], "predictions": predictions}

# %% [markdown]
# Two pictures of the run: the loss and the test accuracy after each epoch, and some of the test digits the
# network still gets wrong (would you have read them right?).

# %%
def training_figure(losses, accuracies):
    """Mean training loss and test accuracy after each epoch, side by side."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(6.0, 3.0), layout="constrained")
    loss_ax, accuracy_ax = figure.subplots(1, 2)
    epochs = range(1, len(losses) + 1)
    loss_ax.plot(epochs, losses, color="C0")
    loss_ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)")
    accuracy_ax.plot(epochs, [100 * a for a in accuracies], color="C1")
    accuracy_ax.set(xlabel="epoch", ylabel="test accuracy (%)")
    return figure


def mistakes_figure(images, labels, predictions, count=8):
    """The first `count` test digits the network gets wrong, each with its true and its predicted label."""
    from matplotlib.figure import Figure
    wrong = np.flatnonzero(labels != predictions)
    shown = wrong[:count]
    rows = max(1, (len(shown) + 3) // 4)                    # four digits a row
    figure = Figure(figsize=(6.0, 0.4 + 2.0 * rows), layout="constrained")
    figure.suptitle(f"{len(wrong)} of the {len(labels)} test digits are read wrong"
                    + (f"; the first {len(shown)}:" if len(shown) else ""))
    axes = figure.subplots(rows, 4, squeeze=False).ravel()
    for ax, i in zip(axes, shown):
        ax.imshow(images[i].reshape(8, 8), vmin=0, vmax=1)
        ax.set(title=f"true {labels[i]}\npredicted {predictions[i]}", xticks=[], yticks=[])
        ax.spines[:].set_visible(True)             # a frame: the digit's blank border is part of the image
    for ax in axes[len(shown):]:
        ax.set_axis_off()
    return figure

# %%
digits_run = None
if DEMOS:
    with needs("every exercise above"):
        digits_run = train_digits()
        seconds, steps = digits_run["seconds"], digits_run["steps"]
        print(f"digits: test accuracy {digits_run['accuracy']:.1%} after {seconds:.1f} s of training, {steps} steps "
              f"({seconds / steps * 1e3:.2f} ms per forward+backward+update step, batch 64, 64-64-10 MLP); "
              f"mean loss of the last epoch {digits_run['losses'][-1]:.3f}")
    if digits_run:   # outside `needs`: a network that learns too little is an error here, not a note
        assert digits_run["accuracy"] >= 0.95, "the network should read at least 95% of the test digits right"
        show(training_figure, digits_run["losses"], digits_run["accuracies"])
        show(mistakes_figure, digits_run["images"], digits_run["labels"], digits_run["predictions"])

# %% [markdown]
# ## Summary
#
# - A computation graph is recorded during the forward pass: each result points to a `Function` node that
#   saved its inputs.
# - Each backward rule is a local vector-Jacobian product, a few lines of NumPy; `unbroadcast` sums the
#   gradient of an input that broadcasting reused.
# - `backward()` walks the graph once in reverse topological order, summing incoming gradients first: no
#   recursion limit, no exponential blow-up on shared subgraphs.
# - Gradients accumulate; `zero_grad()` resets them.
# - One registry lists every differentiable operation, each rule registered on the line above its class, so
#   nothing is silently left without a gradient; a later module registers its own operations the same way,
#   and a one-off operation is a `Function` with `forward` and `apply`, called with `run`.
# - The price is memory: every saved activation stays alive until the graph is dropped.
#
# Next, module 07 turns `p.data -= lr * p.grad` into optimisers: SGD with momentum, and Adam.

# %%
def test_module():
    """Run every test of this module."""
    test_unit_function()
    test_unit_arithmetic_backward()
    test_unit_matmul_backward()
    test_unit_reduction_backward()
    test_unit_shape_backward()
    test_unit_activation_backward()
    test_unit_loss_backward()
    test_unit_elementwise_backward()
    test_unit_unbroadcast()
    test_unit_backward()
    test_unit_grad_tools()
    test_unit_enable_autograd()
    test_integration_two_layer_network()
    print("all module 06 tests passed")

if __name__ == "__main__" and DEMOS:   # the autograder has just run each test in its own cell
    test_module()
