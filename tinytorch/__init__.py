"""tinytorch: a small deep-learning framework built one module at a time.

`from tinytorch import Tensor` (or any name in `__all__`) gives the classes with autograd switched on:
the first such access imports `tinytorch.core.autograd` and calls `enable_autograd(quiet=True)` once.
Importing `tinytorch.core.tensor` (or any of modules 01-05) directly does not enable autograd.
"""
import importlib

_SOURCES = {
    "tinytorch.core.tensor": ("Tensor",),
    "tinytorch.core.activations": ("ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"),
    "tinytorch.core.layers": ("Linear", "Dropout", "Sequential"),
    "tinytorch.core.losses": ("MSELoss", "BinaryCrossEntropyLoss", "CrossEntropyLoss"),
    "tinytorch.core.dataloader": ("Dataset", "TensorDataset", "DataLoader"),
    "tinytorch.core.autograd": ("enable_autograd", "no_grad", "gradcheck", "show_graph", "graph_memory"),
}
_WHERE = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = sorted(_WHERE)

_autograd_enabled = False


def _enable_autograd_once():
    global _autograd_enabled
    if not _autograd_enabled:
        importlib.import_module("tinytorch.core.autograd").enable_autograd(quiet=True)
        _autograd_enabled = True


def __getattr__(name):  # PEP 562: runs only for names not already in this module
    if name not in _WHERE:
        raise AttributeError(f"module 'tinytorch' has no attribute {name!r}")
    _enable_autograd_once()
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value    # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
