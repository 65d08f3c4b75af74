# Generated from src/03_layers/03_layers.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['Layer', 'Linear', 'Dropout', 'Sequential']

# %% ../../src/03_layers/03_layers.py #03_layers-002
import numpy as np

from .tensor import Tensor, as_tensor

# %% ../../src/03_layers/03_layers.py #03_layers-004
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



# %% ../../src/03_layers/03_layers.py #linear
class Linear(Layer):
    """y = x @ weight + bias, with weight (in_features, out_features) and bias (out_features,)."""

    def __init__(self, in_features, out_features, bias=True, seed=None):
        """Create the parameters."""
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = np.random.default_rng(seed)
        k = np.sqrt(1.0 / in_features)
        self.weight = Tensor(rng.uniform(-k, k, size=(in_features, out_features)), requires_grad=True)
        self.bias = Tensor(rng.uniform(-k, k, size=(out_features,)), requires_grad=True) if bias else None

    def forward(self, x):
        """`x @ weight + bias` for a batch `x` whose last dimension is `in_features`."""
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input whose last dimension is in_features="
                             f"{self.in_features}, got shape {x.shape}")
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def parameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def __repr__(self):
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")

# %% ../../src/03_layers/03_layers.py #dropout
class Dropout(Layer):
    """Zero each element with probability p while training; scale the rest by 1 / (1 - p)."""

    def __init__(self, p=0.5, seed=None):
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)

    def forward(self, x, training=None):
        """`x` with each element zeroed with probability p and the rest scaled by 1 / (1 - p), when training."""
        x = as_tensor(x)
        training = self.training if training is None else training
        if not training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        return x * Tensor(keep * scale)

    def __repr__(self):
        return f"Dropout(p={self.p})"

# %% ../../src/03_layers/03_layers.py #sequential
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
        """The parameters of every layer, each tensor once, in order."""
        seen, unique = set(), []
        for layer in self.layers:
            for param in getattr(layer, "parameters", lambda: [])():
                if id(param) not in seen:
                    seen.add(id(param))
                    unique.append(param)
        return unique

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"
