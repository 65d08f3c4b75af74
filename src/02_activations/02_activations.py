# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 02: Activations
#
# A stack of linear layers is still one linear function: `(x @ W1) @ W2 == x @ (W1 @ W2)`. An **activation
# function** applied element-wise between layers breaks that, so a network can bend its decision boundary.
#
# This module builds the five activations used throughout the course:
#
# | activation | formula | used for |
# |---|---|---|
# | ReLU | `max(0, x)` | hidden layers (cheap, does not saturate for x > 0) |
# | Sigmoid | `1 / (1 + e^-x)` | a probability for binary classification |
# | Tanh | `tanh(x)` | hidden layers, output in (-1, 1) |
# | GELU | `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` | transformers |
# | Softmax | `e^x_i / sum_j e^x_j` | a probability distribution over classes |
#
# Each is a class with `forward(x)`; calling the object calls `forward`. In module 06 autograd replaces each
# `forward` with a version that also records how to compute the gradient, so `forward` must return a new
# `Tensor` built from a NumPy result, and numbers must stay finite even for inputs like ±1000: one `inf` or
# `nan` in the forward pass poisons every gradient behind it.

# %%
#| default_exp core.activations

# %%
#| export
import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor

# %% [markdown]
# ## The shared base class
#
# `__call__` looks `forward` up *at call time*, so when autograd patches `ReLU.forward`, `relu(x)` uses the
# patched version. Activations have no trainable parameters.

# %%
#| export
class Activation:
    """Base class: `activation(x)` calls `activation.forward(x)`."""

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def __call__(self, x):
        return self.forward(x)

    def parameters(self):
        return []

    def __repr__(self):
        return f"{type(self).__name__}()"



# %% [markdown]
# ## ReLU
#
# `ReLU(x) = max(0, x)`: negative inputs become 0, positive ones pass through unchanged.

# %% nbgrader={"grade": false, "grade_id": "relu", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class ReLU(Activation):
    def forward(self, x):
        """Element-wise max(0, x).

        TODO: return a new Tensor with every negative entry replaced by 0.

        APPROACH: `np.maximum(x.data, 0)` wrapped in `Tensor(...)`.
        """
        x = as_tensor(x)
        ### BEGIN SOLUTION
        return Tensor(np.maximum(x.data, 0))
        ### END SOLUTION


# %% [markdown]
# ## Sigmoid, computed stably
#
# The textbook formula `1 / (1 + np.exp(-x))` overflows for `x = -1000` (`e^1000` is far beyond float32's
# 3.4e38) and NumPy warns. The fix: only ever exponentiate a **non-positive** number. With `e = exp(-|x|)`,
# which lies in (0, 1]:
#
# - for `x >= 0`: `sigmoid(x) = 1 / (1 + e)`
# - for `x < 0`:  `sigmoid(x) = e / (1 + e)` (multiply the top and bottom of `1 / (1 + e^-x)` by `e^x`).

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Sigmoid(Activation):
    def forward(self, x):
        """Element-wise 1 / (1 + exp(-x)), without overflow for large |x|.

        TODO: implement the stable two-branch formula above.

        APPROACH:
        1. `e = np.exp(-np.abs(x.data))` never overflows.
        2. `np.where(x.data >= 0, 1 / (1 + e), e / (1 + e))`.

        HINTS: both branches of `np.where` are computed for every element, so both must be safe everywhere.
        """
        x = as_tensor(x)
        ### BEGIN SOLUTION
        e = np.exp(-np.abs(x.data))
        return Tensor(np.where(x.data >= 0, 1 / (1 + e), e / (1 + e)))
        ### END SOLUTION


# %% [markdown]
# ## Tanh
#
# `tanh(x) = (e^x - e^-x) / (e^x + e^-x)` squashes to (-1, 1). `np.tanh` is already stable for large |x|.

# %% nbgrader={"grade": false, "grade_id": "tanh", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Tanh(Activation):
    def forward(self, x):
        """Element-wise hyperbolic tangent. TODO: wrap `np.tanh(x.data)` in a Tensor."""
        x = as_tensor(x)
        ### BEGIN SOLUTION
        return Tensor(np.tanh(x.data))
        ### END SOLUTION


# %% [markdown]
# ## GELU (tanh approximation)
#
# GELU weights each input by how likely a standard normal variable is to be below it, `x * Phi(x)`. We use
# the tanh approximation, the same as PyTorch's `GELU(approximate="tanh")`:
#
# `GELU(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`
#
# Beyond |x| = 20 the tanh term is exactly ±1 in float32, so we clip `x` inside the tanh there: the result
# is unchanged and `x^3` can never overflow.

# %% nbgrader={"grade": false, "grade_id": "gelu", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class GELU(Activation):
    def forward(self, x):
        """Element-wise GELU, tanh approximation.

        TODO: implement the formula above.

        APPROACH: `inner = np.clip(x.data, -20, 20)`; `t = np.tanh(np.sqrt(2 / np.pi) * (inner + 0.044715 *
        inner ** 3))`; return `Tensor(0.5 * x.data * (1 + t))`.
        """
        x = as_tensor(x)
        ### BEGIN SOLUTION
        inner = np.clip(x.data, -20, 20)
        t = np.tanh(np.sqrt(2 / np.pi) * (inner + 0.044715 * inner ** 3))
        return Tensor(0.5 * x.data * (1 + t))
        ### END SOLUTION


# %% [markdown]
# ## Softmax, computed stably
#
# Softmax turns a row of scores into probabilities. Softmax does not change when the same constant is
# subtracted from every score, so we subtract the row's maximum first: the largest exponent is then `e^0 = 1`
# and nothing overflows, even for scores of 1000.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Softmax(Activation):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        """Softmax along `self.dim`.

        TODO: subtract the max along `self.dim` (keepdims=True), exponentiate, divide by the sum along
        `self.dim` (keepdims=True).
        """
        x = as_tensor(x)
        ### BEGIN SOLUTION
        shifted = x.data - np.max(x.data, axis=self.dim, keepdims=True)
        exps = np.exp(shifted)
        return Tensor(exps / np.sum(exps, axis=self.dim, keepdims=True))
        ### END SOLUTION

    def __repr__(self):
        return f"Softmax(dim={self.dim})"


# %% [markdown]
# ## Tests
#
# The tests compare with the direct formulas on ordinary inputs and check that ±1000 produce finite numbers
# without NumPy warnings (turned into errors here).

# %%
import warnings

# %% nbgrader={"grade": true, "grade_id": "test-elementwise-activations", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_elementwise_activations():
    x = Tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert np.allclose(ReLU()(x).data, [0, 0, 0, 0.5, 2]), f"ReLU wrong: {ReLU()(x).data}"
    expected = 1 / (1 + np.exp(-x.data))
    assert np.allclose(Sigmoid()(x).data, expected, atol=1e-6), f"Sigmoid wrong: {Sigmoid()(x).data}"
    assert np.allclose(Tanh()(x).data, np.tanh(x.data), atol=1e-6), f"Tanh wrong: {Tanh()(x).data}"
    gelu = 0.5 * x.data * (1 + np.tanh(np.sqrt(2 / np.pi) * (x.data + 0.044715 * x.data ** 3)))
    assert np.allclose(GELU()(x).data, gelu, atol=1e-6), f"GELU wrong: {GELU()(x).data}"
    extreme = Tensor([-1000.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # an overflow warning fails the test
        for activation in (ReLU(), Sigmoid(), Tanh(), GELU()):
            out = activation(extreme)
            assert np.all(np.isfinite(out.data)), f"{activation} gave {out.data} for ±1000"
    assert np.allclose(Sigmoid()(extreme).data, [0, 1]), "Sigmoid(±1000) should be [0, 1]"
    assert np.allclose(GELU()(extreme).data, [0, 1000]), "GELU(±1000) should be [0, 1000]"
    assert ReLU()(x).dtype == np.float32, "outputs must stay float32"
    assert ReLU().parameters() == [], "activations have no parameters"
    ### BEGIN HIDDEN TESTS
    assert isinstance(Sigmoid()([0.0]), Tensor)
    assert np.allclose(Sigmoid()([0.0]).data, [0.5])
    m = Tensor(np.linspace(-30, 30, 60).reshape(3, 20))
    assert np.allclose(Sigmoid()(m).data, 1 / (1 + np.exp(-m.data.astype(np.float64))), atol=1e-6)
    ### END HIDDEN TESTS
    print("✅ test_unit_elementwise_activations passed")


if __name__ == "__main__":
    test_unit_elementwise_activations()

# %% nbgrader={"grade": true, "grade_id": "test-softmax", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def test_unit_softmax():
    scores = Tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    probs = Softmax()(scores).data
    expected = np.exp(scores.data) / np.exp(scores.data).sum(axis=-1, keepdims=True)
    assert np.allclose(probs, expected, atol=1e-6), f"Softmax wrong: {probs}"
    assert np.allclose(probs.sum(axis=-1), 1), f"each row should sum to 1, got {probs.sum(axis=-1)}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = Softmax()(Tensor([[1000.0, 0.0, -1000.0]])).data
    assert np.allclose(big, [[1, 0, 0]]), f"Softmax of [1000, 0, -1000] should be [1, 0, 0], got {big}"
    columns = Softmax(dim=0)(scores).data
    assert np.allclose(columns.sum(axis=0), 1), f"Softmax(dim=0) columns should sum to 1: {columns}"
    ### BEGIN HIDDEN TESTS
    assert Softmax()(Tensor(np.zeros((2, 3, 4)))).shape == (2, 3, 4)
    assert np.allclose(Softmax()(Tensor([5.0, 5.0])).data, [0.5, 0.5])
    ### END HIDDEN TESTS
    print("✅ test_unit_softmax passed")


if __name__ == "__main__":
    test_unit_softmax()

# %% [markdown]
# ## Summary
#
# Five activations, each a `forward` over NumPy that stays finite for extreme inputs: Sigmoid only
# exponentiates non-positive numbers, Softmax subtracts the maximum, GELU clips inside its tanh. Module 03
# places them between linear layers; module 06 teaches each `forward` its derivative.
