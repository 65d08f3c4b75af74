"""Module 03: Linear, Dropout, Sequential."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Dropout, Layer, Linear, Sequential
from tinytorch.core.tensor import Tensor

FAST = settings(max_examples=30, deadline=None)


@FAST
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.booleans(), st.integers(0, 2 ** 32 - 1))
def test_linear_matches_formula(n_in, n_out, batch, bias, seed):
    layer = Linear(n_in, n_out, bias=bias, seed=seed)
    x = np.random.default_rng(seed).standard_normal((batch, n_in)).astype(np.float32)
    expected = x @ layer.weight.data + (layer.bias.data if bias else 0)
    out = layer(Tensor(x))
    assert out.shape == (batch, n_out) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer(x[0]).data, expected[0], rtol=1e-5, atol=1e-5)   # 1-D input


def test_linear_parameters():
    layer = Linear(4, 3, seed=1)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert layer.weight.dtype == np.float32
    assert layer.parameters() == [layer.weight, layer.bias] or \
        [id(p) for p in layer.parameters()] == [id(layer.weight), id(layer.bias)]
    no_bias = Linear(4, 3, bias=False)
    assert no_bias.bias is None and len(no_bias.parameters()) == 1
    assert repr(layer) == "Linear(in_features=4, out_features=3, bias=True)"


def test_linear_init_scaled_and_seeded():
    layer = Linear(400, 50, seed=0)
    bound = np.sqrt(1 / 400)
    assert np.all(np.abs(layer.weight.data) <= bound) and np.all(np.abs(layer.bias.data) <= bound)
    assert abs(layer.weight.data.std() - bound / np.sqrt(3)) < 0.1 * bound   # uniform(-k, k) std
    np.testing.assert_array_equal(Linear(400, 50, seed=0).weight.data, layer.weight.data)
    assert not np.array_equal(Linear(400, 50, seed=1).weight.data, layer.weight.data)


def test_linear_errors():
    with pytest.raises(ValueError, match=r"Linear: expected input whose last dimension is in_features=3, "
                                         r"got shape \(2, 4\)"):
        Linear(3, 2)(Tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="Linear: in_features must be a positive integer, got 0"):
        Linear(0, 2)


def test_dropout_inverted_scaling_and_modes():
    x = Tensor(np.ones((200, 200)))
    drop = Dropout(0.25, seed=0)
    out = drop(x).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02 and abs(out.mean() - 1) < 0.03      # expectation preserved
    assert drop(x, training=False) is x
    drop.eval()
    assert drop.training is False and drop(x) is x
    assert not np.all(drop(x, training=True).data == 1)
    drop.train()
    assert drop.training is True
    np.testing.assert_array_equal(Dropout(1.0)(x).data, 0)
    assert Dropout(0.0)(x) is x


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=rf"Dropout: p must be a probability in \[0, 1\], got {p}"):
        Dropout(p)


def test_layer_base():
    layer = Layer()
    assert layer.training is True and layer.parameters() == []
    assert layer.eval() is layer and layer.training is False
    with pytest.raises(NotImplementedError, match="Layer.forward"):
        layer(Tensor([1.0]))


def test_sequential_forward_modes_and_unique_parameters():
    first, second = Linear(3, 4, seed=0), Linear(4, 3, seed=1)
    drop = Dropout(0.5, seed=0)
    net = Sequential(first, ReLU(), drop, second, first)
    x = Tensor(np.ones((2, 3)))
    net.eval()
    assert all(getattr(layer, "training", False) is False for layer in (first, second, drop, net))
    expected = first(second(ReLU()(first(x))))
    np.testing.assert_allclose(net(x).data, expected.data, rtol=1e-6)
    params = net.parameters()
    assert [id(p) for p in params] == [id(first.weight), id(first.bias), id(second.weight), id(second.bias)]
    net.train()
    assert drop.training and first.training and net.training
    assert len(net) == 5 and net[0] is first and "Linear(in_features=3" in repr(net)
    assert len(Sequential([first, second]).parameters()) == 4


def test_nested_sequential_passes_mode_on():
    inner = Sequential(Dropout(0.5))
    outer = Sequential(inner, Linear(2, 2))
    outer.eval()
    assert inner.layers[0].training is False
