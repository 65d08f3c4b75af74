"""Module 05: Dataset, TensorDataset, DataLoader; plus the 01-05 package staying autograd-free."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinytorch.core.dataloader import DataLoader, Dataset, TensorDataset
from tinytorch.core.tensor import Tensor

FAST = settings(max_examples=40, deadline=None)


def labels(batches):
    return [int(v) for batch in batches for v in batch[-1].data]


@FAST
@given(st.integers(0, 40), st.integers(1, 12), st.booleans(), st.integers(0, 2 ** 32 - 1))
def test_every_sample_once_per_epoch(n, batch_size, shuffle, seed):
    data = TensorDataset(Tensor(np.arange(2 * n).reshape(n, 2)), Tensor(np.arange(n)))
    loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, seed=seed)
    assert len(loader) == -(-n // batch_size)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        assert all(isinstance(b, tuple) and all(isinstance(t, Tensor) for t in b) for b in batches)
        assert all(b[0].shape[0] == batch_size for b in batches[:-1])
        order = labels(batches)
        assert sorted(order) == list(range(n))
        if not shuffle:
            assert order == list(range(n))
        for x, y in batches:     # rows stay paired with their labels
            np.testing.assert_array_equal(x.data[:, 0], 2 * y.data)


def test_shuffle_new_order_each_epoch_same_sequence_for_same_seed():
    data = TensorDataset(Tensor(np.arange(50)))
    first = DataLoader(data, batch_size=8, shuffle=True, seed=123)
    second = DataLoader(data, batch_size=8, shuffle=True, seed=123)
    epochs_a = [labels(first) for _ in range(3)]
    epochs_b = [labels(second) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    assert labels(DataLoader(data, batch_size=8, shuffle=True, seed=124)) != epochs_a[0]


def test_generic_dataset_is_collated():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return Tensor([i, i]), i * i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert [b[0].shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    assert labels(batches) == [0, 1, 4, 9, 16]
    assert batches[0][1].dtype == np.float32


def test_single_tensor_samples_become_one_element_tuples():
    class Plain(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return Tensor([float(i)])

    (batch,) = next(iter(DataLoader(Plain(), batch_size=3)))
    assert batch.shape == (3, 1)


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_tensor_dataset_indexing():
    data = TensorDataset(np.arange(6).reshape(3, 2), [0, 1, 2])
    x, y = data[1]
    assert isinstance(x, Tensor) and x.shape == (2,) and y.item() == 1.0
    assert len(data) == 3


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "4"])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=rf"DataLoader: batch_size must be a positive integer, got"):
        DataLoader(TensorDataset(Tensor(np.arange(4))), batch_size=batch_size)


def test_mismatched_dataset_lengths():
    with pytest.raises(ValueError, match=r"TensorDataset: all tensors must have the same first dimension, "
                                         r"got lengths \[10, 9\]"):
        TensorDataset(Tensor(np.zeros((10, 2))), Tensor(np.zeros(9)))


def test_tensor_dataset_rejects_scalars_and_empty():
    with pytest.raises(ValueError, match="TensorDataset: needs at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"TensorDataset: every tensor needs a first \(sample\) dimension"):
        TensorDataset(Tensor(1.0))


def test_non_numeric_data():
    with pytest.raises(TypeError, match="Tensor: cannot convert data of type list"):
        TensorDataset([["a", "b"], ["c", "d"]])


def test_modules_01_to_05_leave_autograd_off():
    code = ("import sys; import tinytorch.core.tensor, tinytorch.core.activations, tinytorch.core.layers, "
            "tinytorch.core.losses, tinytorch.core.dataloader as d; "
            "assert 'tinytorch.core.autograd' not in sys.modules, 'autograd was imported'; "
            "from tinytorch.core.tensor import Tensor\n"
            "try:\n    Tensor([1.0]).backward()\nexcept RuntimeError: pass\n"
            "else:\n    raise SystemExit('backward() worked: autograd is on')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout
