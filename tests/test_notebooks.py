"""Every module runs top to bottom as a notebook in a real Jupyter kernel (the reference solutions)."""
import os

import pytest
from nbclient import NotebookClient

from tito import source
from tito.registry import MODULES, ROOT


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.slug)
def test_module_runs_as_a_notebook(module, tmp_path, monkeypatch):
    notebook = source.load(ROOT / module.source)
    # The kernel inherits the environment: make it import this tree's tinytorch.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first failure
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors
    assert any(o.output_type == "stream" for o in outputs), "the test cells print their results"
    if module.number == "06":   # its figures (ladder, memory, training curves, misread digits) show in Jupyter
        pictures = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(pictures) == 4 and all(o.metadata["image/png"]["width"] >= 500 for o in pictures), pictures
