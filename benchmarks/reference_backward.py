"""The recursive backward of the original course's reference design, kept as a baseline.

It is the `Tensor.backward` of the seed text ("Backward Pass Implementation"): every node adds the incoming
gradient to its own `.grad` and then calls `backward` on each input with that input's share. One call per
*path* through the graph, not per node: a tensor used twice is walked twice, so the `h = h + h` ladder costs
2**rungs calls, and a chain of n nodes needs n nested Python frames.

The only change: the seed's rules unbroadcast inside `apply`, ours leave it to the engine, so this walker
unbroadcasts each input's share (needed for the bias of a Linear layer).
"""
import sys
import threading

import numpy as np

from tinytorch.core.autograd import unbroadcast
from tinytorch.core.tensor import Tensor


def recursive_backward(self, gradient=None):
    """The seed's backward, verbatim apart from `unbroadcast` (see the module docstring)."""
    if not self.requires_grad:
        return
    if gradient is None:
        if self.data.size == 1:
            gradient = np.ones_like(self.data)
        else:
            raise ValueError("backward() requires gradient for non-scalar tensors")
    if self.grad is None:
        self.grad = np.zeros_like(self.data)
    self.grad += gradient
    if getattr(self, "_grad_fn", None) is not None:
        grads = self._grad_fn.apply(gradient)
        for tensor, grad in zip(self._grad_fn.saved_tensors, grads):
            if isinstance(tensor, Tensor) and tensor.requires_grad and grad is not None:
                recursive_backward(tensor, unbroadcast(grad, tensor.shape))


def run_deep(fn, depth):
    """Run fn() in a thread whose stack and recursion limit allow `depth` nested backward calls."""
    result, old_limit, old_stack = {}, sys.getrecursionlimit(), threading.stack_size()

    def target():
        try:
            result["value"] = fn()
        except BaseException as error:   # RecursionError, MemoryError: reported in the row
            result["error"] = f"{type(error).__name__}: {error}"[:120]

    sys.setrecursionlimit(max(old_limit, 3 * depth + 1000))
    threading.stack_size(min(1 << 30, max(1 << 24, depth * 1024)))
    try:
        worker = threading.Thread(target=target)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result["value"]
