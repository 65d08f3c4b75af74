"""Module 01: Tensor, checked against NumPy (property tests) and for its clear errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.tensor import Tensor

FAST = settings(max_examples=40, deadline=None)
VALUES = st.floats(-10, 10, width=32)


def float_arrays(shape):
    return hnp.arrays(np.float32, shape, elements=VALUES)


@st.composite
def broadcast_pair(draw):
    (shape_a, shape_b), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
    return draw(float_arrays(shape_a)), draw(float_arrays(shape_b))


def close(tensor, expected):
    assert isinstance(tensor, Tensor)
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor.data, expected, rtol=1e-5, atol=1e-5)


# ---- construction -------------------------------------------------------------------------------
@pytest.mark.parametrize("data, shape", [(3, ()), (2.5, ()), ([1, 2, 3], (3,)), ([[1, 2], [3, 4]], (2, 2)),
                                         (np.arange(6).reshape(2, 3), (2, 3)), (np.float64(1.5), ())])
def test_construction_is_float32(data, shape):
    t = Tensor(data)
    assert t.shape == shape and t.dtype == np.float32 and isinstance(t.data, np.ndarray)
    assert t.size == int(np.prod(shape)) and t.ndim == len(shape)
    assert t.requires_grad is False and t.grad is None and t._grad_fn is None


def test_construction_from_tensor_and_no_copy():
    array = np.ones((2, 2), dtype=np.float32)
    t = Tensor(array, requires_grad=True)
    assert t.data is array and t.requires_grad is True
    assert Tensor(t).data is array and Tensor(t).requires_grad is False


def test_default_dtype_can_be_switched(monkeypatch):
    monkeypatch.setattr(Tensor, "default_dtype", np.float64)
    assert Tensor([1.0]).dtype == np.float64


@pytest.mark.parametrize("bad", [["a", "b"], "text", {"a": 1}, object()])
def test_non_numeric_data_is_rejected(bad):
    with pytest.raises(TypeError, match=f"Tensor: cannot convert data of type {type(bad).__name__}"):
        Tensor(bad)


def test_comparisons_give_bool_tensors_and_hashing_stays_by_identity():
    t = Tensor([1.0, 2.0, 3.0])
    for result, expected in ((t < 2, [1, 0, 0]), (t <= 2, [1, 1, 0]), (t > 2, [0, 0, 1]), (t >= 2, [0, 1, 1]),
                             (t == 2, [0, 1, 0]), (t != 2, [1, 0, 1]), (2 > t, [1, 0, 0]),
                             (np.full(3, 2.0) == t, [0, 1, 0])):
        assert isinstance(result, Tensor) and result.dtype == bool and result.tolist() == [bool(e) for e in expected]
    assert len({t, Tensor([1.0, 2.0, 3.0])}) == 2 and {t: 1}[t] == 1 and not hasattr(Tensor, "__slots__")
    assert (t == None) is False and (t != "text") is True                     # noqa: E711
    assert bool(Tensor([2.0]) == 2) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match=r"truth value of a tensor of shape \(3,\) is ambiguous"):
        bool(t == t)


def test_none_is_no_number():
    with pytest.raises(TypeError, match="NoneType"):
        Tensor(None)


def test_dtype_can_be_chosen():
    assert Tensor([1, 0], dtype=bool).dtype == bool and Tensor([1.5], dtype=np.int64).tolist() == [1]


def test_shape_operations_keep_the_dtype():
    """A mask stays a mask through reshape, permute, indexing and clone (a float mask would index by position)."""
    x = Tensor([[5.0, -1.0, 7.0]])
    mask = x > 0
    for same in (mask.reshape(-1), mask.permute(1, 0).reshape(-1), mask[0], mask.clone().reshape(3), mask.flatten()):
        assert same.dtype == bool, f"{same!r} lost the bool dtype"
        assert x.reshape(-1)[same].tolist() == [5.0, 7.0]
    assert x.argmax(axis=1).reshape(1, 1).dtype == np.int64


# ---- element-wise arithmetic -------------------------------------------------------------------
BINARY = [(lambda a, b: a + b), (lambda a, b: a - b), (lambda a, b: a * b)]


@FAST
@given(broadcast_pair(), st.sampled_from(BINARY))
def test_binary_ops_match_numpy(pair, op):
    a, b = pair
    close(op(Tensor(a), Tensor(b)), op(a, b))
    close(op(Tensor(a), b), op(a, b))            # array on the right
    close(op(a, Tensor(b)), op(a, b))            # array on the left: reflected form


@FAST
@given(broadcast_pair())
def test_division_matches_numpy(pair):
    a, b = pair
    b = np.abs(b) + np.float32(0.5)              # keep away from zero
    close(Tensor(a) / Tensor(b), a / b)
    close(a / Tensor(b), a / b)


@FAST
@given(float_arrays(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)), st.floats(-5, 5, width=32))
def test_python_scalars_on_either_side(a, s):
    s = float(s)
    t = Tensor(a)
    close(t + s, a + np.float32(s)); close(s + t, np.float32(s) + a)
    close(t - s, a - np.float32(s)); close(s - t, np.float32(s) - a)
    close(t * s, a * np.float32(s)); close(s * t, np.float32(s) * a)
    close(-t, -a)
    close(t / 2.0, a / np.float32(2))
    close(2.0 / Tensor(np.abs(a) + 1), np.float32(2) / (np.abs(a) + 1))


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div")])
def test_unbroadcastable_shapes_error(op, name):
    with pytest.raises(ValueError, match=rf"{name}: cannot broadcast shapes \(2, 3\) and \(4,\)"):
        op(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))


def test_reflected_forms_delegate_to_primitives(monkeypatch):
    """Autograd patches only the primitives; the reflected forms must call them at call time."""
    calls = []
    for name in ("__add__", "__sub__", "__mul__", "__truediv__", "matmul", "__pow__", "permute", "reshape"):
        original = getattr(Tensor, name)

        def spy(self, other, _original=original, _name=name):
            calls.append(_name)
            return _original(self, other)
        monkeypatch.setattr(Tensor, name, spy)
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    1 + t; 1 - t; 2 * t; 1 / t; t @ t; np.eye(2) @ t; 2 ** t
    t.transpose(); t.T; t.flatten(); t.squeeze(); t.unsqueeze(0); t.clamp(0, 1)
    assert calls == ["__add__", "__sub__", "__mul__", "__truediv__", "matmul", "matmul", "__pow__",
                     "permute", "permute", "reshape", "reshape", "reshape"]


# ---- matmul -------------------------------------------------------------------------------------
@st.composite
def matmul_pair(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["2d", "batched", "vec-mat", "mat-vec", "vec-vec", "batched-vec"]))
    if kind == "2d":
        shapes = (n, k), (k, m)
    elif kind == "batched":
        (batch_a, batch_b), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2,
                                                                       max_side=3))
        shapes = batch_a + (n, k), batch_b + (k, m)
    elif kind == "vec-mat":
        shapes = (k,), (k, m)
    elif kind == "mat-vec":
        shapes = (n, k), (k,)
    elif kind == "vec-vec":
        shapes = (k,), (k,)
    else:
        shapes = (2, n, k), (k,)
    return draw(float_arrays(shapes[0])), draw(float_arrays(shapes[1]))


@FAST
@given(matmul_pair())
def test_matmul_matches_numpy(pair):
    a, b = pair
    expected = np.matmul(a, b)
    close(Tensor(a).matmul(Tensor(b)), expected)
    close(Tensor(a) @ Tensor(b), expected)
    close(Tensor(a) @ b, expected)
    close(a @ Tensor(b), expected)


@pytest.mark.parametrize("shape_a, shape_b, message", [
    ((2, 3), (4, 5), r"matmul: cannot multiply shapes \(2, 3\) and \(4, 5\): inner dimensions 3 and 4 differ"),
    ((3,), (4,), r"matmul: cannot multiply shapes \(3,\) and \(4,\): inner dimensions 3 and 4 differ"),
    ((2, 3), (2,), r"matmul: cannot multiply shapes \(2, 3\) and \(2,\): inner dimensions 3 and 2 differ"),
    ((2, 2, 3), (3, 3, 4), r"matmul: cannot multiply shapes \(2, 2, 3\) and \(3, 3, 4\): batch dimensions"),
    ((), (3,), r"matmul: operands must have at least 1 dimension"),
])
def test_matmul_errors(shape_a, shape_b, message):
    with pytest.raises(ValueError, match=message):
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))


# ---- reductions ---------------------------------------------------------------------------------
@st.composite
def array_and_axis(draw):
    a = draw(float_arrays(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4)))
    axis = draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1),
                          st.lists(st.integers(0, a.ndim - 1), min_size=1, unique=True).map(tuple)))
    return a, axis


@FAST
@given(array_and_axis(), st.booleans(), st.sampled_from(["sum", "mean", "max"]))
def test_reductions_match_numpy(case, keepdims, name):
    a, axis = case
    result = getattr(Tensor(a), name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
    assert result.shape == np.shape(expected)
    close(result, expected)


def test_reductions_default_to_scalar():
    t = Tensor([[1.0, 5.0], [3.0, 2.0]])
    assert t.sum().shape == () and t.sum().item() == 11.0
    assert t.mean().item() == 2.75 and t.max().item() == 5.0


# ---- shape operations ---------------------------------------------------------------------------
@FAST
@given(float_arrays(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4)), st.randoms(use_true_random=False))
def test_reshape_matches_numpy(a, rnd):
    target = [a.size]
    # split the size into a random factorisation
    for factor in (2, 3, 2):
        if target[-1] % factor == 0 and rnd.random() < 0.5:
            target[-1] //= factor
            target.append(factor)
    rnd.shuffle(target)
    close(Tensor(a).reshape(*target), a.reshape(target))
    close(Tensor(a).reshape(tuple(target)), a.reshape(target))
    minus_one = list(target)
    minus_one[rnd.randrange(len(minus_one))] = -1
    close(Tensor(a).reshape(minus_one), a.reshape(minus_one))


def test_reshape_errors():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape tensor of shape \(2, 3\) \(size 6\) "
                                         r"into shape \(4, 2\)"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match=r"reshape: only one dimension can be -1, got shape \(-1, -1\)"):
        t.reshape(-1, -1)


@FAST
@given(float_arrays(hnp.array_shapes(min_dims=2, max_dims=4, max_side=4)), st.data())
def test_transpose_and_permute_match_numpy(a, data):
    close(Tensor(a).transpose(), np.swapaxes(a, -2, -1))
    dim0 = data.draw(st.integers(-a.ndim, a.ndim - 1))
    dim1 = data.draw(st.integers(-a.ndim, a.ndim - 1))
    close(Tensor(a).transpose(dim0, dim1), np.swapaxes(a, dim0, dim1))
    axes = data.draw(st.permutations(range(a.ndim)))
    close(Tensor(a).permute(*axes), np.transpose(a, axes))
    close(Tensor(a).permute(tuple(axes)), np.transpose(a, axes))


def test_transpose_of_vector_is_unchanged():
    close(Tensor([1.0, 2.0]).transpose(), [1.0, 2.0])


@pytest.mark.parametrize("axes", [(0, 0), (0,), (0, 1, 2), (0, 5)])
def test_permute_errors(axes):
    with pytest.raises(ValueError, match=r"permute: axes .* are not a permutation of the 2 dimensions "
                                         r"of a tensor of shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).permute(*axes)


def test_transpose_errors():
    with pytest.raises(ValueError, match=r"transpose: dimension 5 is out of range .* \(2, 3\)"):
        Tensor(np.ones((2, 3))).transpose(0, 5)


@FAST
@given(float_arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)), st.data())
def test_getitem_matches_numpy(a, data):
    t = Tensor(a)
    i = data.draw(st.integers(-a.shape[0], a.shape[0] - 1))
    close(t[i], a[i])
    close(t[1:], a[1:]); close(t[::-1], a[::-1]); close(t[..., :1], a[..., :1])
    index = data.draw(hnp.arrays(np.int64, st.integers(0, 6), elements=st.integers(0, a.shape[0] - 1)))
    close(t[index], a[index])
    close(t[Tensor(index)], a[index])
    mask = a > 0
    close(t[mask], a[mask])


# ---- conversions ------------------------------------------------------------------------------
def test_numpy_item_len_repr():
    t = Tensor([[1.0, 2.0]], requires_grad=True)
    assert t.numpy() is t.data and len(t) == 1
    assert Tensor([[4.0]]).item() == 4.0 and isinstance(Tensor(4).item(), float)
    assert repr(t).startswith("Tensor([[1., 2.]]") and "requires_grad=True" in repr(t)
    with pytest.raises(ValueError, match=r"item: .* got shape \(1, 2\)"):
        t.item()
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


@pytest.mark.parametrize("method", ["backward", "zero_grad"])
def test_autograd_placeholders_explain_module_06(method):
    with pytest.raises(RuntimeError, match="module 06") as info:
        getattr(Tensor([1.0]), method)()
    assert "enable_autograd()" in str(info.value) and "from tinytorch import Tensor" in str(info.value)


# ---- powers, element-wise functions, shape helpers ---------------------------------------------
@FAST
@given(broadcast_pair())
def test_power_minimum_maximum_match_numpy(pair):
    a, b = pair
    base = np.abs(a) + np.float32(0.5)
    with np.errstate(over="ignore"):
        close(Tensor(base) ** Tensor(b), base ** b)
        close(Tensor(base) ** 2, base ** 2)
        close(2 ** Tensor(b), np.float32(2) ** b)
    close(Tensor(a).minimum(Tensor(b)), np.minimum(a, b))
    close(Tensor(a).maximum(b), np.maximum(a, b))


@FAST
@given(float_arrays(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
def test_elementwise_functions_match_numpy(a):
    t = Tensor(a)
    close(t.exp(), np.exp(a)); close(t.abs(), np.abs(a))
    close(t.abs().sqrt(), np.sqrt(np.abs(a))); close((t.abs() + 1).log(), np.log(np.abs(a) + 1))
    close(t.clip(-1, 2), np.clip(a, -1, 2)); close(t.clamp(min=0.5), np.maximum(a, 0.5))
    close(t.clamp(max=0.5), np.minimum(a, 0.5))
    assert t.tolist() == a.tolist()


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip: give min, max or both"):
        Tensor([1.0]).clip()


@FAST
@given(array_and_axis(), st.booleans())
def test_min_and_argmax_match_numpy(case, keepdims):
    a, axis = case
    close(Tensor(a).min(axis=axis, keepdims=keepdims), np.min(a, axis=axis, keepdims=keepdims))
    if not isinstance(axis, tuple):
        index = Tensor(a).argmax(axis=axis, keepdims=keepdims)
        assert index.dtype == np.int64 and np.array_equal(index.data, np.argmax(a, axis=axis, keepdims=keepdims))


@FAST
@given(float_arrays(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3)), st.data())
def test_shape_helpers_match_numpy(a, data):
    t = Tensor(a)
    close(t.T, a.T); close(t.flatten(), a.reshape(-1)); close(t.squeeze(), np.squeeze(a))
    axis = data.draw(st.integers(-a.ndim - 1, a.ndim))
    close(t.unsqueeze(axis), np.expand_dims(a, axis))
    copy = t.clone()
    close(copy, a)
    assert copy.data is not t.data and not np.shares_memory(copy.data, t.data)
    if a.ndim:
        start = data.draw(st.integers(0, a.ndim - 1))
        close(t.flatten(start), a.reshape(a.shape[:start] + (-1,)))
        axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
        close(t.squeeze(axis), np.squeeze(a, axis) if a.shape[axis] == 1 else a)


@pytest.mark.parametrize("call, message", [
    (lambda t: t.squeeze(2), r"squeeze: axis 2 is out of range .* \(2, 1\)"),
    (lambda t: t.unsqueeze(-4), r"unsqueeze: axis -4 is out of range .* \(2, 1\)"),
    (lambda t: t.flatten(1, 0), r"flatten: start_dim 1 comes after end_dim 0"),
    (lambda t: t + "a", r"add: unsupported operand types Tensor and str"),
    (lambda t: "a" ** t, r"pow: unsupported operand types Tensor and str"),
    (lambda t: t.minimum([[1, 2], [3]]), r"minimum: unsupported operand types Tensor and list"),
])
def test_shape_helper_and_operand_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(Tensor(np.ones((2, 1))))
