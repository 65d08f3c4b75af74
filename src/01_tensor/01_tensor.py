# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 01: Tensor
#
# A **tensor** is an n-dimensional array of numbers plus a little bookkeeping. Every model in this course,
# from a single linear layer to a small network, is a chain of tensor operations: additions, products,
# matrix multiplications, sums, reshapes.
#
# In this module you build `Tensor` on top of NumPy. It does the *forward* computation only. In module 06
# (autograd) each of these operations learns to pass gradients backwards, and for that autograd needs two
# things from this module:
#
# 1. a small, fixed set of **primitive operations** (`+ - * / **`, unary `-`, `matmul`, `exp`, `log`, `sqrt`,
#    `abs`, `clip`, `minimum`, `maximum`, `sum`, `mean`, `max`, `min`, `reshape`, `permute`, indexing,
#    `clone`). Everything else (`__radd__`, `@`, `transpose`, `.T`, `flatten`, ...) is written in terms of a
#    primitive, so teaching the primitives to differentiate covers the whole class;
# 2. three slots that stay empty for now: `requires_grad`, `grad` and `_grad_fn`.
#
# All data is stored as `float32`, the precision deep-learning frameworks train in. (Comparisons give `bool`
# tensors and `argmax` an `int64` one: answers, not numbers to differentiate.)

# %%
#| default_exp core.tensor

# %%
#| export
import numpy as np

# %% [markdown]
# ## Helpers: clear errors
#
# NumPy's error messages talk about "operands" and "gufunc signatures". Ours name the operation and the
# shapes involved, because a shape mistake is the most common bug in deep learning code.

# %%
#| export
def _check_broadcast(op, shape_a, shape_b):
    """Raise a ValueError naming `op` when two shapes cannot be broadcast together."""
    if not shape_b or shape_a[-len(shape_b):] == shape_b:
        return   # a scalar, equal shapes or a matching tail (a bias) always broadcast: skips np.broadcast_shapes,
                 # which costs microseconds per operation
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ValueError(
            f"{op}: cannot broadcast shapes {tuple(shape_a)} and {tuple(shape_b)}: "
            "each trailing dimension must match or be 1") from None


def _check_matmul(shape_a, shape_b):
    """Raise a ValueError when `a @ b` is impossible, naming both shapes and the offending dimensions."""
    if len(shape_a) == 0 or len(shape_b) == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes "
                         f"{tuple(shape_a)} and {tuple(shape_b)}; use * to multiply by a scalar")
    inner_a = shape_a[-1]
    inner_b = shape_b[0] if len(shape_b) == 1 else shape_b[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: cannot multiply shapes {tuple(shape_a)} and {tuple(shape_b)}: "
                         f"inner dimensions {inner_a} and {inner_b} differ")
    batch_a, batch_b = tuple(shape_a[:-2]), tuple(shape_b[:-2])
    if batch_a == batch_b or not batch_a or not batch_b:
        return   # plain 2-D (or equal batches) always broadcast; skips np.broadcast_shapes (microseconds per op)
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise ValueError(f"matmul: cannot multiply shapes {tuple(shape_a)} and {tuple(shape_b)}: "
                         f"batch dimensions {batch_a} and {batch_b} do not broadcast") from None


# %% [markdown]
# ## The Tensor class
#
# The class below is complete except for the regions marked as solutions. Read it top to bottom:
#
# - **Construction** converts anything array-like to a `float32` NumPy array (no copy when it already is
#   one). Text or other non-numeric data is rejected with a clear `TypeError`.
# - **Arithmetic** follows NumPy broadcasting: a `(3, 1)` tensor plus a `(4,)` tensor gives `(3, 4)`. The
#   operators share one helper, `_elementwise`, which converts the other operand, checks the shapes and
#   computes the result array.
#   Reflected forms (`2 - t`) turn the scalar into a Tensor and call the primitive, so autograd only has to
#   know `__sub__`. `**` works both ways: `x ** 2`, `2 ** x` and `x ** y`.
# - **Element-wise functions** (`exp`, `log`, `sqrt`, `abs`, `clip`/`clamp`, `minimum`, `maximum`) have the
#   names and signatures of PyTorch's. They follow NumPy at the edges: `log(0)` is `-inf`, `sqrt(-1)` is
#   `nan`.
# - **Comparisons** (`<`, `<=`, `>`, `>=`, `==`, `!=`) give `bool` tensors, element by element, as in NumPy
#   and PyTorch; a tensor stays hashable by identity. `if a == b:` on tensors of several elements is
#   ambiguous, so it raises.
# - **`matmul`** behaves like `np.matmul`: 2-D matrices, batched N-D stacks (batch dimensions broadcast),
#   and 1-D vectors (a dot product, or a matrix-vector product).
# - **Reductions** (`sum`, `mean`, `max`, `min`) take `axis=None, keepdims=False` like NumPy; `argmax` gives
#   the index of the maximum.
# - **Shape operations** (`reshape`, `permute`, indexing) move numbers around without changing them;
#   `transpose` and `.T` are permutations, and `flatten`, `squeeze`, `unsqueeze` are reshapes. `clone()`
#   copies, `tolist()` gives Python numbers.
# - `backward()` and `zero_grad()` exist but explain that autograd arrives in module 06.

# %% nbgrader={"grade": false, "grade_id": "tensor-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Tensor:
    """An n-dimensional array (float32 unless told otherwise) that autograd (module 06) differentiates through."""

    default_dtype = np.float32   # module 06's gradcheck switches this to float64 temporarily
    __array_ufunc__ = None       # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's ufunc

    def __init__(self, data, requires_grad=False, dtype=None):
        """Wrap `data` (scalar, nested list, np.ndarray or Tensor) as an array of `dtype`.

        `dtype` defaults to `Tensor.default_dtype` (float32); comparisons make `bool` tensors and `argmax`
        an `int64` one.

        TODO: store the data as a NumPy array of that dtype and set up the autograd slots.

        APPROACH:
        1. If `data` is a Tensor, take its `.data`.
        2. Convert with `np.asarray(data, dtype=...)`; turn a TypeError/ValueError into a TypeError that says
           which type could not be converted.
        3. Set `requires_grad`, `grad = None`, `_grad_fn = None`.

        HINTS: `np.asarray` does not copy an array that already has the right dtype.
        """
        ### BEGIN SOLUTION
        if isinstance(data, Tensor):
            data = data.data
        dtype = Tensor.default_dtype if dtype is None else dtype
        try:
            if data is None:                       # NumPy would silently make it nan
                raise TypeError("None is no number")
            self.data = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"Tensor: cannot convert data of type {type(data).__name__} to "
                            f"{np.dtype(dtype).name}: {error}") from None
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._grad_fn = None
        ### END SOLUTION

    # ---- properties and conversions ------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return self.data.size

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def numpy(self):
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        # lets np.asarray(tensor) see the numbers instead of wrapping the object
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        """The single number in a one-element tensor, as a Python number (a float for a float tensor)."""
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with exactly one element can be converted to a "
                             f"Python number, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        """The numbers as (nested) Python lists; a 0-d tensor gives a single number."""
        return self.data.tolist()

    def __bool__(self):
        # `if a == b:` on tensors of several elements is ambiguous: refuse it, as NumPy and PyTorch do
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous: reduce it "
                             "first, e.g. bool((a == b).numpy().all())")
        return bool(self.data.reshape(()))

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it has no first dimension")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        grad_note = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}{grad_note})"

    # ---- element-wise arithmetic (PRIMITIVES) ---------------------------------------------------
    @staticmethod
    def _as_array(other, op="operand"):
        """The array behind a Tensor, scalar, list or array operand; a TypeError names `op` and the type."""
        if isinstance(other, Tensor):
            return other.data
        try:
            return Tensor(other).data
        except TypeError:
            raise TypeError(f"{op}: unsupported operand types Tensor and {type(other).__name__}") from None

    def _elementwise(self, name, function, other):
        """`function(self.data, other)`, broadcasting, as a NumPy array; errors name the operation `name`.

        TODO: convert `other` with `Tensor._as_array(other, name)`, check the shapes with
        `_check_broadcast(name, ...)`, then return `function(self.data, other)`.
        """
        ### BEGIN SOLUTION
        other = Tensor._as_array(other, name)
        _check_broadcast(name, self.data.shape, other.shape)
        return function(self.data, other)
        ### END SOLUTION

    def __add__(self, other):
        """Element-wise `self + other` with broadcasting."""
        return Tensor(self._elementwise("add", np.add, other))

    def __sub__(self, other):
        return Tensor(self._elementwise("sub", np.subtract, other))

    def __mul__(self, other):
        return Tensor(self._elementwise("mul", np.multiply, other))

    def __truediv__(self, other):
        return Tensor(self._elementwise("div", np.divide, other))

    def __pow__(self, exponent):
        """Element-wise `self ** exponent`; the exponent may be a number or a Tensor (broadcasting)."""
        return Tensor(self._elementwise("pow", np.power, exponent))

    def minimum(self, other):
        """Element-wise minimum of `self` and `other` (broadcasting)."""
        return Tensor(self._elementwise("minimum", np.minimum, other))

    def maximum(self, other):
        """Element-wise maximum of `self` and `other` (broadcasting)."""
        return Tensor(self._elementwise("maximum", np.maximum, other))

    def __neg__(self):
        return Tensor(-self.data)

    # Reflected forms call a primitive at call time, so autograd's patched primitives cover them too.
    def __radd__(self, other):
        return self.__add__(other)

    def __rmul__(self, other):
        return self.__mul__(other)

    def __rsub__(self, other):
        return Tensor(Tensor._as_array(other, "sub")).__sub__(self)

    def __rtruediv__(self, other):
        return Tensor(Tensor._as_array(other, "div")).__truediv__(self)

    def __rpow__(self, base):
        return Tensor(Tensor._as_array(base, "pow")).__pow__(self)

    # ---- element-wise functions (PRIMITIVES) -----------------------------------------------------
    def exp(self):
        """Element-wise e ** x."""
        return Tensor(np.exp(self.data))

    def log(self):
        """Element-wise natural logarithm (-inf at 0, nan for a negative number, as NumPy)."""
        return Tensor(np.log(self.data))

    def sqrt(self):
        """Element-wise square root (nan for a negative number, as NumPy)."""
        return Tensor(np.sqrt(self.data))

    def abs(self):
        """Element-wise absolute value."""
        return Tensor(np.abs(self.data))

    def clip(self, min=None, max=None):
        """Every element limited to [min, max] (either bound may be None, not both). Alias: `clamp`."""
        if min is None and max is None:
            raise ValueError("clip: give min, max or both")
        return Tensor(np.clip(self.data, min, max))

    def clamp(self, min=None, max=None):
        """Same as `clip`."""
        return self.clip(min, max)

    def clone(self):
        """A copy with its own memory."""
        return Tensor(self.data.copy(), dtype=self.dtype)

    # ---- comparisons: boolean tensors, no gradient -----------------------------------------------
    # Defining == makes Python drop the inherited hash; Tensors stay hashable by identity, as in PyTorch.
    __hash__ = object.__hash__

    def _compare(self, name, function, other):
        try:
            return Tensor(self._elementwise(name, function, other), dtype=bool)
        except TypeError:
            return NotImplemented      # Python then says which types cannot be compared (== falls back to `is`)

    def __lt__(self, other):
        return self._compare("lt", np.less, other)

    def __le__(self, other):
        return self._compare("le", np.less_equal, other)

    def __gt__(self, other):
        return self._compare("gt", np.greater, other)

    def __ge__(self, other):
        return self._compare("ge", np.greater_equal, other)

    def __eq__(self, other):
        return self._compare("eq", np.equal, other)

    def __ne__(self, other):
        return self._compare("ne", np.not_equal, other)

    # ---- matrix multiplication (PRIMITIVE) ------------------------------------------------------
    def matmul(self, other):
        """Matrix product `self @ other`, following `np.matmul` (2-D, batched N-D, 1-D operands).

        TODO: check the shapes, then multiply.

        APPROACH:
        1. Convert `other` with `Tensor._as_array(other, "matmul")`.
        2. Call `_check_matmul(self.shape, other.shape)` so a mismatch names both shapes.
        3. Return `Tensor(np.matmul(self.data, other))`.
        """
        ### BEGIN SOLUTION
        other = Tensor._as_array(other, "matmul")
        _check_matmul(self.shape, other.shape)
        return Tensor(np.matmul(self.data, other))
        ### END SOLUTION

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return Tensor(Tensor._as_array(other, "matmul")).matmul(self)

    # ---- reductions (PRIMITIVES) ----------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        """Sum over `axis` (all axes when None)."""
        ### BEGIN SOLUTION
        return Tensor(np.sum(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def mean(self, axis=None, keepdims=False):
        """Mean over `axis` (all axes when None)."""
        ### BEGIN SOLUTION
        return Tensor(np.mean(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def max(self, axis=None, keepdims=False):
        """Maximum over `axis` (all axes when None)."""
        ### BEGIN SOLUTION
        return Tensor(np.max(self.data, axis=axis, keepdims=keepdims))
        ### END SOLUTION

    def min(self, axis=None, keepdims=False):
        """Minimum over `axis` (all axes when None)."""
        return Tensor(np.min(self.data, axis=axis, keepdims=keepdims))

    def argmax(self, axis=None, keepdims=False):
        """Index of the maximum over `axis` (of the flattened tensor when None), as an int64 tensor."""
        return Tensor(np.argmax(self.data, axis=axis, keepdims=keepdims), dtype=np.int64)

    # ---- shape operations (PRIMITIVES) ----------------------------------------------------------
    def reshape(self, *shape):
        """Same numbers, new shape. Accepts `t.reshape(2, 3)` or `t.reshape((2, 3))`; one entry may be -1.

        TODO: normalise `shape` to a tuple and reshape, with a clear error for an impossible shape.

        APPROACH:
        1. If a single tuple/list was passed, unpack it.
        2. Reject more than one -1.
        3. Call `self.data.reshape(shape)`; on ValueError say which shape (and size) cannot become which.
        """
        ### BEGIN SOLUTION
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if list(shape).count(-1) > 1:
            raise ValueError(f"reshape: only one dimension can be -1, got shape {shape}")
        try:
            return Tensor(self.data.reshape(shape), dtype=self.dtype)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape tensor of shape {self.shape} (size {self.size}) "
                             f"into shape {shape}") from None
        ### END SOLUTION

    def transpose(self, dim0=None, dim1=None):
        """Swap two axes; by default the last two (a matrix transpose). Tensors with < 2 axes are returned as is.

        A transpose is a permutation of the axes, so it calls `permute` (which autograd differentiates).
        """
        if (dim0 is None) != (dim1 is None):
            raise ValueError(f"transpose: give both dimensions or neither, got dim0={dim0}, dim1={dim1}")
        if dim0 is None:
            dim0, dim1 = (-2, -1) if self.ndim >= 2 else (0, 0)
        axes = list(range(self.ndim))
        if self.ndim:
            for dim in (dim0, dim1):
                if not -self.ndim <= dim < self.ndim:
                    raise ValueError(f"transpose: dimension {dim} is out of range for a tensor of shape "
                                     f"{self.shape}")
            axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self.permute(axes)

    @property
    def T(self):
        """All axes reversed (the matrix transpose of a 2-D tensor), as `permute`."""
        return self.permute(tuple(reversed(range(self.ndim))))

    def flatten(self, start_dim=0, end_dim=-1):
        """The axes from `start_dim` to `end_dim` (all, by default) merged into one, as `reshape`."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (self._axis("flatten", d) for d in (start_dim, end_dim))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def squeeze(self, axis=None):
        """Without the axes of size 1 (only `axis`, an int or tuple, when given: others stay), as `reshape`."""
        axes = range(self.ndim) if axis is None else (axis,) if isinstance(axis, (int, np.integer)) else axis
        drop = {self._axis("squeeze", a) for a in axes}
        return self.reshape(tuple(n for a, n in enumerate(self.shape) if a not in drop or n != 1))

    def unsqueeze(self, axis):
        """With a new axis of size 1 at position `axis` (-1: last), as `reshape`."""
        if not -self.ndim - 1 <= axis <= self.ndim:      # one more position than there are axes
            raise ValueError(f"unsqueeze: axis {axis} is out of range for a tensor of shape {self.shape}")
        axis %= self.ndim + 1
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def _axis(self, op, axis):
        """`axis` as a non-negative index into self.shape; a ValueError names `op` when it is out of range."""
        if not -self.ndim <= axis < self.ndim:
            raise ValueError(f"{op}: axis {axis} is out of range for a tensor of shape {self.shape}")
        return axis % self.ndim

    def permute(self, *axes):
        """Reorder all axes, e.g. `(N, H, W, C).permute(0, 3, 1, 2)` gives `(N, C, H, W)`."""
        return Tensor(np.transpose(self.data, self._permutation(*axes)), dtype=self.dtype)

    def _permutation(self, *axes):
        """`permute`'s arguments as a tuple of non-negative axes, checked (autograd reuses it).

        TODO: check that `axes` is a permutation of `range(self.ndim)` and return it normalised.

        APPROACH: accept varargs or one tuple; normalise negative axes; compare `sorted(...)` with
        `list(range(self.ndim))`; raise a ValueError naming the axes and the shape.
        """
        ### BEGIN SOLUTION
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        valid = all(isinstance(a, (int, np.integer)) and -self.ndim <= a < self.ndim for a in axes)
        normalised = tuple(int(a) % self.ndim for a in axes) if valid and self.ndim else tuple(axes)
        if not valid or sorted(normalised) != list(range(self.ndim)):
            raise ValueError(f"permute: axes {tuple(axes)} are not a permutation of the {self.ndim} "
                             f"dimensions of a tensor of shape {self.shape}")
        return normalised
        ### END SOLUTION

    def __getitem__(self, key):
        """Indexing with ints, slices, integer index arrays or boolean masks (as NumPy)."""
        return Tensor(self.data[self._index_key(key)], dtype=self.dtype)

    def _index_key(self, key):
        """`key` as NumPy takes it: a Tensor key becomes an int64 index array (or a bool mask)."""
        if isinstance(key, Tensor):
            return key.data if key.data.dtype == bool else key.data.astype(np.int64)
        return key

    # ---- autograd placeholders ------------------------------------------------------------------
    def backward(self, gradient=None):
        raise RuntimeError(_AUTOGRAD_MISSING.format(method="backward"))

    def zero_grad(self):
        raise RuntimeError(_AUTOGRAD_MISSING.format(method="zero_grad"))


# %% [markdown]
# The message `backward()` raises until module 06 switches autograd on:

# %%
#| export
_AUTOGRAD_MISSING = (
    "Tensor.{method}(): autograd is introduced in module 06 and is off. Enable it with "
    "`from tinytorch.core.autograd import enable_autograd; enable_autograd()`, "
    "or import Tensor with `from tinytorch import Tensor`."
)


def as_tensor(x):
    """`x` itself if it is a Tensor, else a new Tensor of it. The later modules accept arrays, lists and
    numbers wherever they take a Tensor, and convert them with this one function."""
    return x if isinstance(x, Tensor) else Tensor(x)

# %% [markdown]
# ## Test: creating tensors
#
# Every input becomes a `float32` array; bad input gets an error that says what went wrong.

# %% nbgrader={"grade": true, "grade_id": "test-tensor-creation", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def test_unit_creation():
    t = Tensor([[1, 2, 3], [4, 5, 6]])
    assert t.shape == (2, 3), f"shape should be (2, 3), got {t.shape}"
    assert t.dtype == np.float32, f"data should be float32, got {t.dtype}"
    assert t.size == 6 and t.ndim == 2, f"size/ndim should be 6/2, got {t.size}/{t.ndim}"
    assert t.requires_grad is False and t.grad is None and t._grad_fn is None, "autograd slots must start empty"
    assert Tensor(3.5).shape == (), "a scalar becomes a 0-d tensor"
    assert Tensor(t).data is t.data, "Tensor(tensor) should share the float32 array, not copy it"
    assert len(t) == 2, f"len should be 2, got {len(t)}"
    assert Tensor([[7.0]]).item() == 7.0, "item() should return the single number"
    assert "Tensor(" in repr(t), f"repr should start with Tensor(, got {t!r}"
    try:
        Tensor(["a", "b"])
        raise AssertionError("Tensor(['a', 'b']) should raise TypeError")
    except TypeError as error:
        assert "str" in str(error), f"the error should name the bad type, got: {error}"
    try:
        Tensor([1.0]).backward()
        raise AssertionError("backward() should raise RuntimeError before module 06")
    except RuntimeError as error:
        assert "module 06" in str(error), f"the error should point to module 06, got: {error}"
    ### BEGIN HIDDEN TESTS
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor([1.0], requires_grad=True).requires_grad is True
    array = np.ones((2, 2), dtype=np.float32)
    assert Tensor(array).data is array
    try:
        len(Tensor(1.0))
        raise AssertionError("len of a 0-d tensor should raise TypeError")
    except TypeError:
        pass
    ### END HIDDEN TESTS
    print("✅ test_unit_creation passed")


if __name__ == "__main__":
    test_unit_creation()

# %% [markdown]
# ## Test: arithmetic and broadcasting
#
# Broadcasting stretches dimensions of size 1 (and missing leading dimensions) to match, so a bias of
# shape `(out,)` adds to every row of a `(batch, out)` activation.

# %% nbgrader={"grade": true, "grade_id": "test-tensor-arithmetic", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_arithmetic():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([10.0, 20.0])
    assert np.allclose((a + b).data, [[11, 22], [13, 24]]), f"a + b broadcast wrong: {(a + b).data}"
    assert np.allclose((a - 1).data, [[0, 1], [2, 3]]), f"a - 1 wrong: {(a - 1).data}"
    assert np.allclose((1 - a).data, [[0, -1], [-2, -3]]), f"1 - a wrong: {(1 - a).data}"
    assert np.allclose((2 * a).data, [[2, 4], [6, 8]]), f"2 * a wrong: {(2 * a).data}"
    assert np.allclose((a / 2).data, [[0.5, 1], [1.5, 2]]), f"a / 2 wrong: {(a / 2).data}"
    assert np.allclose((2 / a).data, [[2, 1], [2 / 3, 0.5]]), f"2 / a wrong: {(2 / a).data}"
    assert np.allclose((-a).data, -a.data), "unary minus wrong"
    assert (a + b).dtype == np.float32, "results must stay float32"
    assert isinstance(a + 1, Tensor) and isinstance(1 + a, Tensor), "results must be Tensors"
    try:
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
        raise AssertionError("adding shapes (2, 3) and (4,) should raise ValueError")
    except ValueError as error:
        assert "add" in str(error) and "(2, 3)" in str(error), f"unclear error: {error}"
    ### BEGIN HIDDEN TESTS
    col = Tensor(np.arange(3).reshape(3, 1))
    row = Tensor(np.arange(4))
    assert (col * row).shape == (3, 4)
    assert np.allclose((col - row).data, np.arange(3).reshape(3, 1) - np.arange(4))
    assert np.allclose((np.ones(2) + b).data, [11, 21])
    ### END HIDDEN TESTS
    print("✅ test_unit_arithmetic passed")


if __name__ == "__main__":
    test_unit_arithmetic()

# %% [markdown]
# ## Test: matrix multiplication
#
# `(batch, in) @ (in, out)` is the heart of a linear layer. The inner dimensions must agree; batch
# dimensions broadcast; a 1-D operand is treated as a vector.

# %% nbgrader={"grade": true, "grade_id": "test-tensor-matmul", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_matmul():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([[5.0, 6.0], [7.0, 8.0]])
    assert np.allclose((a @ b).data, [[19, 22], [43, 50]]), f"a @ b wrong: {(a @ b).data}"
    assert np.allclose(a.matmul(b).data, (a @ b).data), "matmul and @ must agree"
    v = Tensor([1.0, 1.0])
    assert (a @ v).shape == (2,), f"matrix @ vector should have shape (2,), got {(a @ v).shape}"
    assert (v @ v).shape == (), f"vector @ vector should be a scalar, got shape {(v @ v).shape}"
    batched = Tensor(np.ones((4, 2, 3))) @ Tensor(np.ones((3, 5)))
    assert batched.shape == (4, 2, 5), f"batched matmul shape should be (4, 2, 5), got {batched.shape}"
    try:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
        raise AssertionError("(2, 3) @ (4, 5) should raise ValueError")
    except ValueError as error:
        message = str(error)
        assert "matmul" in message and "(2, 3)" in message and "(4, 5)" in message, f"unclear error: {message}"
    ### BEGIN HIDDEN TESTS
    assert np.allclose((np.eye(2) @ a).data, a.data)
    assert (Tensor(np.ones((2, 1, 2, 3))) @ Tensor(np.ones((5, 3, 4)))).shape == (2, 5, 2, 4)
    ### END HIDDEN TESTS
    print("✅ test_unit_matmul passed")


if __name__ == "__main__":
    test_unit_matmul()

# %% [markdown]
# ## Test: reductions and shape operations
#
# Losses reduce a batch to one number (`mean`); softmax needs `max(axis=-1, keepdims=True)`; attention and
# image code move axes with `transpose`/`permute`.

# %% nbgrader={"grade": true, "grade_id": "test-tensor-shapes", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def test_unit_reductions_and_shapes():
    x = Tensor(np.arange(6).reshape(2, 3))
    assert x.sum().item() == 15.0, f"sum should be 15, got {x.sum()}"
    assert np.allclose(x.sum(axis=0).data, [3, 5, 7]), f"sum(axis=0) wrong: {x.sum(axis=0).data}"
    assert x.mean(axis=1, keepdims=True).shape == (2, 1), "mean(axis=1, keepdims=True) should be (2, 1)"
    assert np.allclose(x.max(axis=1).data, [2, 5]), f"max(axis=1) wrong: {x.max(axis=1).data}"
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((-1,)).shape == (6,), "reshape wrong"
    assert x.transpose().shape == (3, 2), f"transpose should give (3, 2), got {x.transpose().shape}"
    assert Tensor(np.ones((2, 3, 4))).permute(2, 0, 1).shape == (4, 2, 3), "permute(2, 0, 1) wrong"
    assert np.allclose(x[1].data, [3, 4, 5]) and np.allclose(x[:, 0].data, [0, 3]), "indexing wrong"
    assert np.allclose(x[x.data > 2].data, [3, 4, 5]), "boolean mask indexing wrong"
    for bad_call, name in ((lambda: x.reshape(4, 2), "reshape"), (lambda: x.permute(0, 0), "permute")):
        try:
            bad_call()
            raise AssertionError(f"an impossible {name} should raise ValueError")
        except ValueError as error:
            assert name in str(error) and "(2, 3)" in str(error), f"unclear error: {error}"
    ### BEGIN HIDDEN TESTS
    y = Tensor(np.arange(24).reshape(2, 3, 4))
    assert np.allclose(y.transpose(0, 2).data, np.swapaxes(y.data, 0, 2))
    assert np.allclose(y[np.array([1, 0])].data, y.data[[1, 0]])
    assert y.max().item() == 23.0
    ### END HIDDEN TESTS
    print("✅ test_unit_reductions_and_shapes passed")


if __name__ == "__main__":
    test_unit_reductions_and_shapes()

# %% [markdown]
# ## Test: powers, element-wise functions, comparisons and shape helpers
#
# Enough to write a loss by hand: `((pred - y) ** 2).mean()`, or binary cross-entropy with `log`.

# %% nbgrader={"grade": true, "grade_id": "test-tensor-math", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def test_unit_math_and_helpers():
    x = Tensor([[1.0, -2.0, 3.0]])
    assert np.allclose((x ** 2).data, [[1, 4, 9]]) and np.allclose((2 ** x).data, [[2, 0.25, 8]]), "powers wrong"
    assert np.allclose(x.abs().sqrt().data, np.sqrt([[1, 2, 3]])) and np.allclose(x.exp().log().data, x.data)
    assert np.allclose(x.clip(-1, 2).data, [[1, -1, 2]]) and np.allclose(x.clamp(min=0).data, [[1, 0, 3]])
    assert np.allclose(x.minimum(0).data, [[0, -2, 0]]) and np.allclose(x.maximum(Tensor([0.0])).data, [[1, 0, 3]])
    assert x.min().item() == -2.0 and x.argmax().item() == 2 and x.argmax(axis=1).dtype == np.int64
    assert (x > 0).dtype == bool and (x > 0).tolist() == [[True, False, True]], "comparisons give bool tensors"
    assert (x == x).tolist() == [[True, True, True]] and len({x, Tensor([1.0])}) == 2, "hashable by identity"
    assert x.T.shape == (3, 1) and x.flatten().shape == (3,) and x.squeeze().shape == (3,)
    assert x.unsqueeze(0).shape == (1, 1, 3) and x.clone().data is not x.data and x.tolist() == [[1, -2, 3]]
    try:
        x + "text"
        raise AssertionError("x + 'text' should raise TypeError")
    except TypeError as error:
        assert "add" in str(error) and "str" in str(error), f"the error should name the operation and type: {error}"
    ### BEGIN HIDDEN TESTS
    assert np.allclose((x ** Tensor([[2.0], [1.0]])).data, [[1, 4, 9], [1, -2, 3]])
    assert (x != 1).tolist() == [[False, True, True]] and (x <= -2).tolist() == [[False, True, False]]
    ### END HIDDEN TESTS
    print("✅ test_unit_math_and_helpers passed")


if __name__ == "__main__":
    test_unit_math_and_helpers()

# %% [markdown]
# ## Summary
#
# You built a float32 `Tensor` with broadcasting arithmetic, powers, element-wise functions, comparisons,
# `matmul`, reductions and shape operations, each reporting bad input clearly. Every operation returns a new
# Tensor, and the non-primitive ones call a primitive, which is exactly the hook module 06 uses to record a
# computation graph and run it backwards.
