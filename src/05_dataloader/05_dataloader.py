# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 05: DataLoader
#
# Training does not feed the whole data set through the model at once. It takes **mini-batches**: a few
# dozen samples, one gradient step, the next few dozen. One pass over all samples is an **epoch**.
#
# Two small classes organise this:
#
# - a **`Dataset`** knows how many samples there are (`__len__`) and how to fetch sample `i` (`__getitem__`);
#   `TensorDataset(X, y)` is the common case of tensors that share their first dimension;
# - a **`DataLoader`** cuts a dataset into batches and, with `shuffle=True`, visits the samples in a new
#   random order every epoch, so the model never learns the order. A `seed` makes the sequence of orders
#   reproducible, which makes training runs (and the autograd tests of module 06) repeatable.

# %%
#| default_exp core.dataloader

# %%
#| export
from abc import ABC, abstractmethod

import numpy as np

from tinytorch.core.tensor import Tensor

# %% [markdown]
# ## Dataset and TensorDataset
#
# `Dataset` is abstract: subclasses must say how long they are and how to fetch a sample. `TensorDataset`
# checks up front that every tensor has the same number of samples, because a mismatch (1000 images, 999
# labels) would otherwise pair the wrong label with each image without any error.

# %%
#| export
class Dataset(ABC):
    """A sized, indexable collection of samples."""

    @abstractmethod
    def __len__(self):
        """The number of samples."""

    @abstractmethod
    def __getitem__(self, index):
        """Sample number `index` (a Tensor or a tuple of Tensors)."""


# %% nbgrader={"grade": false, "grade_id": "tensor-dataset", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class TensorDataset(Dataset):
    """Samples are rows: dataset[i] == (tensors[0][i], tensors[1][i], ...)."""

    def __init__(self, *tensors):
        """Samples are rows of `tensors`, which must all have the same first dimension.

        TODO: store the tensors (converted with `Tensor(...)`) and check their first dimensions match.

        APPROACH: reject zero tensors and 0-d tensors; collect `len(t)` of each; if they differ, raise a
        ValueError listing the lengths.
        """
        ### BEGIN SOLUTION
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
        ### END SOLUTION

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        # `index` may also be an integer array: then each returned Tensor holds a whole batch
        return tuple(Tensor(t.data[index]) for t in self.tensors)


# %% [markdown]
# ## DataLoader
#
# - `len(loader)` is the number of batches, `ceil(len(dataset) / batch_size)`: the last batch may be smaller.
# - `iter(loader)` yields each batch as a tuple of Tensors whose first dimension is the batch.
# - Shuffling uses one random generator created from `seed` in the constructor, and draws a fresh
#   permutation at the start of every epoch: epochs differ from each other, yet two loaders with the same
#   seed produce the same sequence of epochs.
#
# A `TensorDataset` is batched by indexing all its rows at once; any other dataset is fetched sample by
# sample and stacked (*collated*).

# %%
#| export
def _collate(samples):
    """Stack a list of samples (each a Tensor or tuple of Tensors/arrays/numbers) into a tuple of Tensors."""
    samples = [sample if isinstance(sample, tuple) else (sample,) for sample in samples]
    return tuple(Tensor(np.stack([np.asarray(_as_array(field)) for field in fields]))
                 for fields in zip(*samples))


def _as_array(value):
    return value.data if isinstance(value, Tensor) else Tensor(value).data


# %% nbgrader={"grade": false, "grade_id": "dataloader", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
        """The number of batches per epoch (the last one may be smaller).

        TODO: the number of batches, rounding up.
        """
        ### BEGIN SOLUTION
        return (len(self.dataset) + self.batch_size - 1) // self.batch_size
        ### END SOLUTION

    def __iter__(self):
        """Tuples of Tensors, one batch at a time (in a new random order each epoch when shuffling).

        TODO: yield tuples of Tensors, batch by batch.

        APPROACH:
        1. `order = self.rng.permutation(n)` when shuffling, else `np.arange(n)`.
        2. For each start in `range(0, n, batch_size)`, take `order[start:start + batch_size]`.
        3. A TensorDataset can be indexed with that array directly; otherwise fetch each sample and
           `_collate` them.
        """
        n = len(self.dataset)
        ### BEGIN SOLUTION
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            indices = order[start:start + self.batch_size]
            if isinstance(self.dataset, TensorDataset):
                yield self.dataset[indices]
            else:
                yield _collate([self.dataset[int(i)] for i in indices])
        ### END SOLUTION

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle})")


# %% [markdown]
# ## Tests

# %% nbgrader={"grade": true, "grade_id": "test-tensor-dataset", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def test_unit_tensor_dataset():
    X, y = Tensor(np.arange(20).reshape(10, 2)), Tensor(np.arange(10))
    data = TensorDataset(X, y)
    assert len(data) == 10, f"len should be 10, got {len(data)}"
    x3, y3 = data[3]
    assert np.allclose(x3.data, [6, 7]) and y3.item() == 3, f"data[3] wrong: {x3}, {y3}"
    try:
        TensorDataset(X, Tensor(np.arange(9)))
        raise AssertionError("10 inputs and 9 labels should raise ValueError")
    except ValueError as error:
        assert "10" in str(error) and "9" in str(error), f"the error should list the lengths: {error}"
    ### BEGIN HIDDEN TESTS
    assert isinstance(data[0], tuple) and len(data[0]) == 2
    assert TensorDataset(np.zeros((3, 2)))[1][0].shape == (2,)
    ### END HIDDEN TESTS
    print("✅ test_unit_tensor_dataset passed")


if __name__ == "__main__":
    test_unit_tensor_dataset()

# %% nbgrader={"grade": true, "grade_id": "test-dataloader", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_unit_dataloader():
    data = TensorDataset(Tensor(np.arange(20).reshape(10, 2)), Tensor(np.arange(10)))
    loader = DataLoader(data, batch_size=4)
    assert len(loader) == 3, f"10 samples in batches of 4 make 3 batches, got {len(loader)}"
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)], "batch shapes wrong"
    assert np.allclose(np.concatenate([b[1].data for b in batches]), np.arange(10)), "no shuffle: keep order"
    shuffled = DataLoader(data, batch_size=3, shuffle=True, seed=0)
    epoch1 = np.concatenate([b[1].data for b in shuffled])
    epoch2 = np.concatenate([b[1].data for b in shuffled])
    assert sorted(epoch1) == list(range(10)), f"each sample exactly once per epoch, got {epoch1}"
    assert not np.array_equal(epoch1, epoch2), "each epoch should have a new order"
    again = DataLoader(data, batch_size=3, shuffle=True, seed=0)
    assert np.array_equal(np.concatenate([b[1].data for b in again]), epoch1), "same seed, same first epoch"
    try:
        DataLoader(data, batch_size=0)
        raise AssertionError("batch_size=0 should raise ValueError")
    except ValueError as error:
        assert "batch_size" in str(error) and "0" in str(error), f"unclear error: {error}"
    ### BEGIN HIDDEN TESTS
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return Tensor([i]), Tensor(i * i)

    batches = list(DataLoader(Squares(), batch_size=2))
    assert [b[0].shape for b in batches] == [(2, 1), (2, 1), (1, 1)]
    assert np.allclose(batches[1][1].data, [4, 9])
    ### END HIDDEN TESTS
    print("✅ test_unit_dataloader passed")


if __name__ == "__main__":
    test_unit_dataloader()

# %% [markdown]
# ## Summary
#
# `TensorDataset` pairs tensors row by row and refuses mismatched lengths; `DataLoader` serves them in
# mini-batches, shuffled into a new, seed-reproducible order every epoch. With modules 01–05 in place we
# have everything a training loop needs except gradients, which module 06 adds.
