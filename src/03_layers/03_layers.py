# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 03: Layers
#
# A **layer** is a function with state: `Linear` holds a weight matrix and a bias vector that training will
# adjust; `Dropout` holds a switch that says whether we are training. `Sequential` chains layers (and
# activations) into a network.
#
# Layers here are built **only from Tensor operations** (`matmul`, `+`, `*`). That is deliberate: once
# module 06 teaches those operations their gradients, every layer gets its backward pass for free. The
# parameters are created with `requires_grad=True`, the flag autograd uses to know which tensors to compute
# gradients for, and `parameters()` hands them to the optimiser.

# %%
#| default_exp core.layers

# %%
#| export
import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor

# %% [markdown]
# ## The Layer base class
#
# Every layer has `forward`, is callable, lists its `parameters()`, and has a `training` flag that
# `train()` and `eval()` switch. Only some layers (Dropout, later BatchNorm) behave differently in the two
# modes, but every layer carries the flag so a container can switch a whole network at once.

# %%
#| export
class Layer:
    """Base class for layers: callable, with parameters and a train/eval mode."""

    training = True   # class default, so subclasses need not call super().__init__()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def parameters(self):
        return []

    def train(self, mode=True):
        """Switch to training mode (or evaluation mode with `mode=False`); returns self."""
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def __repr__(self):
        return f"{type(self).__name__}()"



# %% [markdown]
# ## Linear
#
# `Linear(in_features, out_features)` computes `y = x @ W + b` with `W` of shape `(in, out)` and `b` of
# shape `(out,)`; broadcasting adds `b` to every row of the batch.
#
# **Initialisation matters.** If each weight has variance `v`, each output sums `in_features` products and
# has variance about `in_features * v`. Drawing weights uniformly from `[-k, k]` with `k = sqrt(1 /
# in_features)` keeps outputs on the same scale as inputs, layer after layer (the same rule as PyTorch's
# default). A `seed` makes the initial weights reproducible.

# %% nbgrader={"grade": false, "grade_id": "linear", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Linear(Layer):
    """y = x @ weight + bias, with weight (in_features, out_features) and bias (out_features,)."""

    def __init__(self, in_features, out_features, bias=True, seed=None):
        """Create the parameters.

        TODO: initialise `weight` (and `bias` when `bias=True`, else `None`) uniformly in [-k, k] with
        k = sqrt(1 / in_features), as Tensors with `requires_grad=True`.

        APPROACH:
        1. `rng = np.random.default_rng(seed)`.
        2. `rng.uniform(-k, k, size=(in_features, out_features))` for the weight, size `(out_features,)`
           for the bias.
        """
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        ### BEGIN SOLUTION
        rng = np.random.default_rng(seed)
        k = np.sqrt(1.0 / in_features)
        self.weight = Tensor(rng.uniform(-k, k, size=(in_features, out_features)), requires_grad=True)
        self.bias = Tensor(rng.uniform(-k, k, size=(out_features,)), requires_grad=True) if bias else None
        ### END SOLUTION

    def forward(self, x):
        """`x @ weight + bias` for a batch `x` whose last dimension is `in_features`.

        TODO: return `x @ self.weight`, plus `self.bias` when there is one (Tensor operations only).
        """
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input whose last dimension is in_features="
                             f"{self.in_features}, got shape {x.shape}")
        ### BEGIN SOLUTION
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out
        ### END SOLUTION

    def parameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def __repr__(self):
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


# %% [markdown]
# ## Dropout
#
# During training, Dropout zeroes each element with probability `p`, so the network cannot rely on any single
# unit. **Inverted scaling** multiplies the survivors by `1 / (1 - p)`, which keeps the expected value of
# every element unchanged; at evaluation time Dropout is then simply the identity.
#
# `forward(x, training=None)` uses the layer's own `training` flag unless told otherwise. The mask is applied
# with Tensor multiplication, so gradients flow only through the kept elements.

# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Dropout(Layer):
    """Zero each element with probability p while training; scale the rest by 1 / (1 - p)."""

    def __init__(self, p=0.5, seed=None):
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)

    def forward(self, x, training=None):
        """`x` with each element zeroed with probability p and the rest scaled by 1 / (1 - p), when training.

        TODO: when training and p > 0, multiply `x` by a random keep-mask scaled by 1 / (1 - p).

        APPROACH:
        1. `training = self.training if training is None else training`.
        2. Not training, or p == 0: return `x` unchanged.
        3. `keep = self.rng.random(x.shape) >= self.p`; scale `keep / (1 - p)` (all zeros when p == 1).
        4. Return `x * Tensor(mask)`.
        """
        x = as_tensor(x)
        training = self.training if training is None else training
        ### BEGIN SOLUTION
        if not training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        return x * Tensor(keep * scale)
        ### END SOLUTION

    def __repr__(self):
        return f"Dropout(p={self.p})"


# %% [markdown]
# ## Sequential
#
# `Sequential(Linear(4, 8), ReLU(), Linear(8, 1))` feeds the output of each layer into the next.
# `train()`/`eval()` are passed on to every layer that has them. `parameters()` lists each parameter
# **once**, even when the same layer appears twice (weight sharing): an optimiser that saw a tensor twice
# would update it twice per step. Tensors have no `__eq__`, so we compare them by identity (`id`).

# %% nbgrader={"grade": false, "grade_id": "sequential", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Sequential(Layer):
    """Apply layers in order: Sequential(a, b, c)(x) == c(b(a(x)))."""

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def train(self, mode=True):
        self.training = bool(mode)
        for layer in self.layers:
            if hasattr(layer, "train"):
                layer.train(mode)
        return self

    def parameters(self):
        """The parameters of every layer, each tensor once, in order.

        TODO: collect `layer.parameters()` of every layer, each tensor once (by `id`), in order.
        """
        ### BEGIN SOLUTION
        seen, unique = set(), []
        for layer in self.layers:
            for param in getattr(layer, "parameters", lambda: [])():
                if id(param) not in seen:
                    seen.add(id(param))
                    unique.append(param)
        return unique
        ### END SOLUTION

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


# %% [markdown]
# ## Tests

# %% nbgrader={"grade": true, "grade_id": "test-linear", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_linear():
    layer = Linear(3, 2, seed=0)
    assert layer.weight.shape == (3, 2), f"weight should be (in, out) = (3, 2), got {layer.weight.shape}"
    assert layer.bias.shape == (2,), f"bias should be (2,), got {layer.bias.shape}"
    assert layer.weight.requires_grad and layer.bias.requires_grad, "parameters need requires_grad=True"
    k = np.sqrt(1 / 3)
    assert np.all(np.abs(layer.weight.data) <= k), f"weights should lie in [-{k:.3f}, {k:.3f}]"
    x = Tensor(np.arange(12).reshape(4, 3))
    y = layer(x)
    expected = x.data @ layer.weight.data + layer.bias.data
    assert y.shape == (4, 2) and np.allclose(y.data, expected, atol=1e-5), f"Linear output wrong: {y.data}"
    assert np.allclose(Linear(3, 2, seed=0).weight.data, layer.weight.data), "same seed, same weights"
    assert Linear(3, 2, bias=False).parameters()[0].shape == (3, 2), "bias=False: only the weight"
    assert len(Linear(3, 2, bias=False).parameters()) == 1, "bias=False: parameters() is [weight]"
    try:
        layer(Tensor(np.ones((4, 5))))
        raise AssertionError("an input with 5 features should be rejected by Linear(3, 2)")
    except ValueError as error:
        assert "Linear" in str(error) and "(4, 5)" in str(error), f"unclear error: {error}"
    ### BEGIN HIDDEN TESTS
    assert layer(Tensor([1.0, 2.0, 3.0])).shape == (2,)
    assert layer.weight.dtype == np.float32
    assert Linear(1000, 10, seed=1).weight.data.std() < 0.05
    ### END HIDDEN TESTS
    print("✅ test_unit_linear passed")


if __name__ == "__main__":
    test_unit_linear()

# %% nbgrader={"grade": true, "grade_id": "test-dropout-sequential", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_dropout_and_sequential():
    x = Tensor(np.ones((100, 100)))
    drop = Dropout(0.5, seed=0)
    y = drop(x).data
    assert set(np.unique(y)) <= {0.0, 2.0}, f"kept values should be scaled to 2.0, got {np.unique(y)}"
    assert 0.45 < (y == 0).mean() < 0.55, f"about half should be dropped, got {(y == 0).mean():.2f}"
    assert np.allclose(drop(x, training=False).data, 1), "training=False must be the identity"
    drop.eval()
    assert drop.training is False and np.allclose(drop(x).data, 1), "eval() must switch dropout off"
    shared = Linear(2, 2, seed=0)
    net = Sequential(shared, Dropout(0.5), shared)
    assert len(net.parameters()) == 2, f"a shared layer's parameters must be listed once, got {len(net.parameters())}"
    net.eval()
    assert all(layer.training is False for layer in net.layers), "eval() must reach every layer"
    out = net(Tensor([[1.0, 2.0]]))
    expected = shared(shared(Tensor([[1.0, 2.0]]))).data
    assert np.allclose(out.data, expected), f"Sequential output wrong: {out.data}"
    net.train()
    assert net.layers[1].training is True, "train() must reach every layer"
    ### BEGIN HIDDEN TESTS
    assert np.allclose(Dropout(0.0)(x).data, 1)
    assert np.allclose(Dropout(1.0)(x).data, 0)
    try:
        Dropout(1.5)
        raise AssertionError("p=1.5 should raise")
    except ValueError:
        pass
    a, b = Dropout(0.3, seed=7)(x).data, Dropout(0.3, seed=7)(x).data
    assert np.array_equal(a, b)
    ### END HIDDEN TESTS
    print("✅ test_unit_dropout_and_sequential passed")


if __name__ == "__main__":
    test_unit_dropout_and_sequential()

# %% [markdown]
# ## Summary
#
# `Linear` is `x @ W + b` with carefully scaled random weights, `Dropout` is a random mask with inverted
# scaling, `Sequential` chains layers and passes on `train()`/`eval()`. All of them use Tensor operations
# only, so module 06's autograd will differentiate them without any change here.
