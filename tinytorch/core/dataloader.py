# Generated from src/05_dataloader/05_dataloader.py by `tito export`: do not edit; edit the source and re-export.

# %% auto #0
__all__ = ['Dataset', 'TensorDataset', 'DataLoader']

# %% ../../src/05_dataloader/05_dataloader.py #05_dataloader-002
from abc import ABC, abstractmethod

import numpy as np

from .tensor import Tensor

# %% ../../src/05_dataloader/05_dataloader.py #05_dataloader-004
class Dataset(ABC):
    """A sized, indexable collection of samples."""

    @abstractmethod
    def __len__(self):
        """The number of samples."""

    @abstractmethod
    def __getitem__(self, index):
        """Sample number `index` (a Tensor or a tuple of Tensors)."""

# %% ../../src/05_dataloader/05_dataloader.py #tensor-dataset
class TensorDataset(Dataset):
    """Samples are rows: dataset[i] == (tensors[0][i], tensors[1][i], ...)."""

    def __init__(self, *tensors):
        """Samples are rows of `tensors`, which must all have the same first dimension."""
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            shapes = [t.shape for t in self.tensors]
            raise ValueError(f"TensorDataset: every tensor needs a first (sample) dimension, got shapes {shapes}")
        lengths = [len(t) for t in self.tensors]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: all tensors must have the same first dimension, got lengths "
                             f"{lengths} (shapes {[t.shape for t in self.tensors]})")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        # `index` may also be an integer array: then each returned Tensor holds a whole batch
        return tuple(Tensor(t.data[index]) for t in self.tensors)

# %% ../../src/05_dataloader/05_dataloader.py #05_dataloader-007
def _collate(samples):
    """Stack a list of samples (each a Tensor or tuple of Tensors/arrays/numbers) into a tuple of Tensors."""
    samples = [sample if isinstance(sample, tuple) else (sample,) for sample in samples]
    return tuple(Tensor(np.stack([np.asarray(_as_array(field)) for field in fields]))
                 for fields in zip(*samples))


def _as_array(value):
    return value.data if isinstance(value, Tensor) else Tensor(value).data

# %% ../../src/05_dataloader/05_dataloader.py #dataloader
class DataLoader:
    """Iterate over a dataset in mini-batches, optionally shuffled (reproducibly, with `seed`)."""

    def __init__(self, dataset, batch_size=32, shuffle=False, seed=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)   # one generator: a new permutation each epoch

    def __len__(self):
        """The number of batches per epoch (the last one may be smaller)."""
        return (len(self.dataset) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        """Tuples of Tensors, one batch at a time (in a new random order each epoch when shuffling)."""
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            indices = order[start:start + self.batch_size]
            if isinstance(self.dataset, TensorDataset):
                yield self.dataset[indices]
            else:
                yield _collate([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle})")
