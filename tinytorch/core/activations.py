# Generated from src/02_activations/02_activations.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['Activation', 'ReLU', 'Sigmoid', 'Tanh', 'GELU', 'Softmax']

# %% ../../src/02_activations/02_activations.py #02_activations-002
import numpy as np

from .tensor import Tensor, as_tensor

# %% ../../src/02_activations/02_activations.py #02_activations-004
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



# %% ../../src/02_activations/02_activations.py #relu
class ReLU(Activation):
    def forward(self, x):
        """Element-wise max(0, x)."""
        x = as_tensor(x)
        return Tensor(np.maximum(x.data, 0))

# %% ../../src/02_activations/02_activations.py #sigmoid
class Sigmoid(Activation):
    def forward(self, x):
        """Element-wise 1 / (1 + exp(-x)), without overflow for large |x|."""
        x = as_tensor(x)
        e = np.exp(-np.abs(x.data))
        return Tensor(np.where(x.data >= 0, 1 / (1 + e), e / (1 + e)))

# %% ../../src/02_activations/02_activations.py #tanh
class Tanh(Activation):
    def forward(self, x):
        """Element-wise hyperbolic tangent."""
        x = as_tensor(x)
        return Tensor(np.tanh(x.data))

# %% ../../src/02_activations/02_activations.py #gelu
class GELU(Activation):
    def forward(self, x):
        """Element-wise GELU, tanh approximation."""
        x = as_tensor(x)
        inner = np.clip(x.data, -20, 20)
        t = np.tanh(np.sqrt(2 / np.pi) * (inner + 0.044715 * inner ** 3))
        return Tensor(0.5 * x.data * (1 + t))

# %% ../../src/02_activations/02_activations.py #softmax
class Softmax(Activation):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        """Softmax along `self.dim`."""
        x = as_tensor(x)
        shifted = x.data - np.max(x.data, axis=self.dim, keepdims=True)
        exps = np.exp(shifted)
        return Tensor(exps / np.sum(exps, axis=self.dim, keepdims=True))

    def __repr__(self):
        return f"Softmax(dim={self.dim})"
