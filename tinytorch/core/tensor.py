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
    """An n-dimensional float32 array that autograd (module 06) can differentiate through."""

    default_dtype = np.float32   # module 06's gradcheck switches this to float64 temporarily
    __array_ufunc__ = None       # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's ufunc

    def __init__(self, data, requires_grad=False):
        """Wrap `data` (scalar, nested list, np.ndarray or Tensor) as a float array."""
        if isinstance(data, Tensor):
            data = data.data
        try:
            self.data = np.asarray(data, dtype=Tensor.default_dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"Tensor: cannot convert data of type {type(data).__name__} to "
                            f"{np.dtype(Tensor.default_dtype).name}: {error}") from None
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
        """The single number in a one-element tensor, as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with exactly one element can be converted to a "
                             f"Python number, got shape {self.shape}")
        return float(self.data.reshape(()))

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
    def _as_array(other):
        """The float array behind a Tensor, scalar, list or array operand."""
        return other.data if isinstance(other, Tensor) else Tensor(other).data

    def _elementwise(self, name, function, other):
        """`function(self, other)` on the arrays, broadcasting, as a new Tensor; errors name the operation."""
        other = Tensor._as_array(other)
        _check_broadcast(name, self.shape, other.shape)
        return Tensor(function(self.data, other))

    def __add__(self, other):
        """Element-wise `self + other` with broadcasting."""
        return self._elementwise("add", np.add, other)

    def __sub__(self, other):
        return self._elementwise("sub", np.subtract, other)

    def __mul__(self, other):
        return self._elementwise("mul", np.multiply, other)

    def __truediv__(self, other):
        return self._elementwise("div", np.divide, other)

    def __neg__(self):
        return Tensor(-self.data)

    # Reflected forms call a primitive at call time, so autograd's patched primitives cover them too.
    def __radd__(self, other):
        return self.__add__(other)

    def __rmul__(self, other):
        return self.__mul__(other)

    def __rsub__(self, other):
        return Tensor(other).__sub__(self)

    def __rtruediv__(self, other):
        return Tensor(other).__truediv__(self)

    # ---- matrix multiplication (PRIMITIVE) ------------------------------------------------------
    def matmul(self, other):
        """Matrix product `self @ other`, following `np.matmul` (2-D, batched N-D, 1-D operands)."""
        other = Tensor._as_array(other)
        _check_matmul(self.shape, other.shape)
        return Tensor(np.matmul(self.data, other))

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return Tensor(other).matmul(self)

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

    # ---- shape operations (PRIMITIVES) ----------------------------------------------------------
    def reshape(self, *shape):
        """Same numbers, new shape. Accepts `t.reshape(2, 3)` or `t.reshape((2, 3))`; one entry may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if list(shape).count(-1) > 1:
            raise ValueError(f"reshape: only one dimension can be -1, got shape {shape}")
        try:
            return Tensor(self.data.reshape(shape))
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

    def permute(self, *axes):
        """Reorder all axes, e.g. `(N, H, W, C).permute(0, 3, 1, 2)` gives `(N, C, H, W)`."""
        return Tensor(np.transpose(self.data, self._permutation(*axes)))

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
        return Tensor(self.data[self._index_key(key)])

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
