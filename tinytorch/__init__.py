"""tinytorch: a small deep-learning framework built one module at a time.

`from tinytorch import Tensor` (or any name in `__all__`) gives the classes with autograd switched on: the
first such access imports every module of `tinytorch.core`, so that every operation they register is known,
and calls `enable_autograd(quiet=True)` once. Importing `tinytorch.core.tensor` (or any of modules 01-05)
directly does not enable autograd.
"""
import importlib
import pkgutil

# The top-level API. Each name lives in the one module of tinytorch.core whose __all__ lists it; which module
# that is, is looked up there (tinytorch/core is the list of modules, as `tito export` writes it).
__all__ = sorted([
    "Tensor",
    "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax",
    "Linear", "Dropout", "Sequential",
    "MSELoss", "BinaryCrossEntropyLoss", "CrossEntropyLoss",
    "Dataset", "TensorDataset", "DataLoader",
    "Function", "enable_autograd", "no_grad", "gradcheck", "show_graph", "graph_memory",
])

_autograd_enabled = False


def _core_modules():
    """Every module of tinytorch.core, imported."""
    from . import core
    return [importlib.import_module(f"{core.__name__}.{info.name}") for info in pkgutil.iter_modules(core.__path__)]


def _enable_autograd_once():
    global _autograd_enabled
    if not _autograd_enabled:
        _core_modules()                 # every module has registered its operations
        from .core.autograd import enable_autograd
        enable_autograd(quiet=True)
        _autograd_enabled = True


def __getattr__(name):  # PEP 562: runs only for names not already in this module
    if name not in __all__:
        raise AttributeError(f"module 'tinytorch' has no attribute {name!r}")
    _enable_autograd_once()
    for module in _core_modules():
        if name in getattr(module, "__all__", ()):
            value = globals()[name] = getattr(module, name)   # later look-ups skip __getattr__
            return value
    raise AttributeError(f"tinytorch.{name} is in tinytorch.__all__ but no tinytorch.core module exports it")


def __dir__():
    return sorted(set(globals()) | set(__all__))
