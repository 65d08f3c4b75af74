"""Module 06's figures: the notebook's own figure functions, read from the student notebook as the book reads
them (tito.booktools.from_notebook), called on data from the package and checked as matplotlib Figure objects
(labelled axes, the data they were given), never as pixels."""
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from tinytorch.core import autograd as ag
from tinytorch.core.layers import Linear
from tinytorch.core.tensor import Tensor
from tito.booktools import from_notebook

FUNCTIONS = ("picture", "show", "ladder_figure", "saved_by_tensor", "memory_figure", "train_digits",
             "training_figure", "mistakes_figure")


@pytest.fixture(scope="module")
def nb():
    ag.enable_autograd(quiet=True)
    yield from_notebook("06", *FUNCTIONS)
    ag.disable_autograd()    # the suites of modules 01-05 see the plain Tensor


@pytest.fixture(scope="module")
def digits(nb):
    return nb["train_digits"](epochs=3)


def labelled(ax):
    return bool(ax.get_xlabel().strip()) and bool(ax.get_ylabel().strip())


def test_the_notebook_cells_that_draw_only_define():
    with pytest.raises(ValueError, match="does more than define"):
        from_notebook("06", "recursive_ladder_experiment")     # its cell runs the demo too
    with pytest.raises(LookupError, match="no_such_figure"):
        from_notebook("06", "no_such_figure")


def test_ladder_figure(nb):
    walks = {"recursive": {8: 1e-3, 10: 4e-3, 12: 1.6e-2}, "topological": {8: 2e-5, 10: 2.5e-5, 12: 3e-5, 30: 9e-5}}
    figure = nb["ladder_figure"](walks)
    [ax] = figure.axes
    assert isinstance(figure, Figure) and labelled(ax) and ax.get_yscale() == "log"
    assert [text.get_text() for text in figure.legends[0].get_texts()] == list(walks)
    for line, times in zip(ax.get_lines(), walks.values()):
        assert list(line.get_xdata()) == list(times)
        assert np.allclose(line.get_ydata(), [1e3 * t for t in times.values()]), "milliseconds, as the label says"


def test_memory_figure_reads_the_graphs(nb):
    layer = Linear(16, 8, seed=0)
    x = Tensor(np.ones((4, 16)))
    product = x @ layer.weight
    two_nodes, fused = product + layer.bias, layer(x)
    names = {"x": x, "W": layer.weight, "b": layer.bias, "x @ W": product}
    saved = {"two nodes": nb["saved_by_tensor"](two_nodes, names), "fused": nb["saved_by_tensor"](fused, names)}
    assert saved["two nodes"] == {name: t.data.nbytes for name, t in names.items()}
    assert saved["fused"] == {name: t.data.nbytes for name, t in names.items() if name != "x @ W"}
    assert sum(saved["two nodes"].values()) == ag.graph_memory(two_nodes)
    assert sum(saved["fused"].values()) == ag.graph_memory(fused)
    with pytest.raises(ValueError, match="does not name"):
        nb["saved_by_tensor"](two_nodes, {"x": x, "W": layer.weight, "b": layer.bias})   # the product uncounted
    with pytest.raises(ValueError, match="no graph"):
        nb["saved_by_tensor"](Tensor([1.0]), names)

    figure = nb["memory_figure"](saved)
    [ax] = figure.axes
    assert labelled(ax)
    assert [label.get_text() for label in ax.get_yticklabels()] == list(names)
    widths = [bar.get_width() for bar in ax.patches]
    expected = [saved[graph].get(name, 0) / 1024 for graph in saved for name in names]
    assert np.allclose(widths, expected), "one bar per tensor and graph, in KiB"
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == [f"{graph}: {sum(kept.values()) / 1024:,.0f} KiB" for graph, kept in saved.items()]
    assert "not kept" in [text.get_text() for text in ax.texts], "the fused graph keeps no product: said in words"


def test_train_digits_records_each_epoch(digits):
    assert len(digits["losses"]) == len(digits["accuracies"]) == 3 and digits["steps"] == 3 * 23
    assert digits["losses"][-1] < digits["losses"][0] and digits["accuracy"] == digits["accuracies"][-1]
    assert digits["images"].shape == (360, 64) and digits["labels"].shape == digits["predictions"].shape == (360,)
    assert digits["accuracy"] == np.mean(digits["labels"] == digits["predictions"])


def test_training_figure(nb, digits):
    figure = nb["training_figure"](digits["losses"], digits["accuracies"])
    loss_ax, accuracy_ax = figure.axes
    assert labelled(loss_ax) and labelled(accuracy_ax) and "%" in accuracy_ax.get_ylabel()
    [loss_line], [accuracy_line] = loss_ax.get_lines(), accuracy_ax.get_lines()
    assert list(loss_line.get_xdata()) == list(accuracy_line.get_xdata()) == [1, 2, 3]
    assert np.allclose(loss_line.get_ydata(), digits["losses"])
    assert np.allclose(accuracy_line.get_ydata(), [100 * a for a in digits["accuracies"]])


def test_mistakes_figure(nb, digits):
    images, labels, predictions = digits["images"], digits["labels"], digits["predictions"]
    wrong = np.flatnonzero(labels != predictions)
    assert len(wrong) > 8, "three epochs leave enough mistakes to fill the grid"
    figure = nb["mistakes_figure"](images, labels, predictions)
    shown = [ax for ax in figure.axes if ax.images]
    assert len(shown) == 8 and figure.get_suptitle().startswith(f"{len(wrong)} of the 360 test digits")
    for ax, i in zip(shown, wrong):
        assert ax.get_title() == f"true {labels[i]}\npredicted {predictions[i]}"
        assert np.array_equal(ax.images[0].get_array(), images[i].reshape(8, 8))

    perfect = nb["mistakes_figure"](images, labels, labels)
    assert not [ax for ax in perfect.axes if ax.images] and perfect.get_suptitle().startswith("0 of the 360")


def test_picture_draws_each_theme_without_pyplot(nb):
    pyplot_before = "matplotlib.pyplot" in sys.modules
    walks = {"recursive": {8: 1e-3, 10: 4e-3}, "topological": {8: 2e-5, 10: 2.5e-5}}
    light, dark = (nb["picture"](nb["ladder_figure"], walks, theme=theme) for theme in ("light", "dark"))
    figure = nb["ladder_figure"](walks)
    for image in (light, dark):
        assert image.data[:8] == b"\x89PNG\r\n\x1a\n" and len(image.data) > 10_000
        pixels_wide = int.from_bytes(image.data[16:20], "big")
        assert pixels_wide == round(2 * figure.get_figwidth() * figure.dpi), "drawn at twice the figure's dpi"
        assert image.width == pixels_wide // 2, "and shown at its own size: sharp on a high-density screen"
    assert light.data != dark.data
    assert ("matplotlib.pyplot" in sys.modules) == pyplot_before, "the figures use matplotlib's object API only"


def test_show_says_what_it_cannot_draw(nb, capsys, monkeypatch):
    walks = {"topological": {8: 2e-5, 10: 2.5e-5}}
    nb["show"](nb["ladder_figure"], walks)                 # a script: no Jupyter to display it in
    assert "ladder_figure: drawn; open the notebook in Jupyter" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # matplotlib not installed
    nb["show"](nb["ladder_figure"], walks)
    assert "pip install matplotlib" in capsys.readouterr().out
