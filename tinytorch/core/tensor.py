# Generated from src/01_tensor/01_tensor.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['Tensor', 'as_tensor']

# %% ../../src/01_tensor/01_tensor.py #01_tensor-002
import numpy as np

# %% ../../src/01_tensor/01_tensor.py #01_tensor-004
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

# %% ../../src/01_tensor/01_tensor.py #tensor-class
class Tensor:
    """An n-dimensional array (float32 unless told otherwise) that autograd (module 06) differentiates through."""

    default_dtype = np.float32   # module 06's gradcheck switches this to float64 temporarily
    __array_ufunc__ = None       # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's ufunc

    def __init__(self, data, requires_grad=False, dtype=None):
        """Wrap `data` (scalar, nested list, np.ndarray or Tensor) as an array of `dtype`.

        `dtype` defaults to `Tensor.default_dtype` (float32); comparisons make `bool` tensors and `argmax`
        an `int64` one.
        """
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
        """`function(self.data, other)`, broadcasting, as a NumPy array; errors name the operation `name`."""
        other = Tensor._as_array(other, name)
        _check_broadcast(name, self.data.shape, other.shape)
        return function(self.data, other)

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
        """Matrix product `self @ other`, following `np.matmul` (2-D, batched N-D, 1-D operands)."""
        other = Tensor._as_array(other, "matmul")
        _check_matmul(self.shape, other.shape)
        return Tensor(np.matmul(self.data, other))

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return Tensor(Tensor._as_array(other, "matmul")).matmul(self)

    # ---- reductions (PRIMITIVES) ----------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        """Sum over `axis` (all axes when None)."""
        return Tensor(np.sum(self.data, axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False):
        """Mean over `axis` (all axes when None)."""
        return Tensor(np.mean(self.data, axis=axis, keepdims=keepdims))

    def max(self, axis=None, keepdims=False):
        """Maximum over `axis` (all axes when None)."""
        return Tensor(np.max(self.data, axis=axis, keepdims=keepdims))

    def min(self, axis=None, keepdims=False):
        """Minimum over `axis` (all axes when None)."""
        return Tensor(np.min(self.data, axis=axis, keepdims=keepdims))

    def argmax(self, axis=None, keepdims=False):
        """Index of the maximum over `axis` (of the flattened tensor when None), as an int64 tensor."""
        return Tensor(np.argmax(self.data, axis=axis, keepdims=keepdims), dtype=np.int64)

    # ---- shape operations (PRIMITIVES) ----------------------------------------------------------
    def reshape(self, *shape):
        """Same numbers, new shape. Accepts `t.reshape(2, 3)` or `t.reshape((2, 3))`; one entry may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if list(shape).count(-1) > 1:
            raise ValueError(f"reshape: only one dimension can be -1, got shape {shape}")
        try:
            return Tensor(self.data.reshape(shape), dtype=self.dtype)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape tensor of shape {self.shape} (size {self.size}) "
                             f"into shape {shape}") from None

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
        """`permute`'s arguments as a tuple of non-negative axes, checked (autograd reuses it)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        valid = all(isinstance(a, (int, np.integer)) and -self.ndim <= a < self.ndim for a in axes)
        normalised = tuple(int(a) % self.ndim for a in axes) if valid and self.ndim else tuple(axes)
        if not valid or sorted(normalised) != list(range(self.ndim)):
            raise ValueError(f"permute: axes {tuple(axes)} are not a permutation of the {self.ndim} "
                             f"dimensions of a tensor of shape {self.shape}")
        return normalised

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

# %% ../../src/01_tensor/01_tensor.py #01_tensor-008
_AUTOGRAD_MISSING = (
    "Tensor.{method}(): autograd is introduced in module 06 and is off. Enable it with "
    "`from tinytorch.core.autograd import enable_autograd; enable_autograd()`, "
    "or import Tensor with `from tinytorch import Tensor`."
)


def as_tensor(x):
    """`x` itself if it is a Tensor, else a new Tensor of it. The later modules accept arrays, lists and
    numbers wherever they take a Tensor, and convert them with this one function."""
    return x if isinstance(x, Tensor) else Tensor(x)
