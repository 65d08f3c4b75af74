"""Replays what Binder does with binder/: a fresh virtual environment, `pip install -r
binder/requirements.txt`, `postBuild`; then runs the module-06 student notebook's setup cells (everything
before the first exercise) in a real kernel of that environment."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"

RUN_SETUP_CELLS = r'''
import sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
first_exercise = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("solution"))
notebook.cells = notebook.cells[:first_exercise]
NotebookClient(notebook, timeout=300, resources={"metadata": {"path": sys.argv[2]}}).execute()
ran = [c for c in notebook.cells if c.cell_type == "code"]
print(f"ran {len(ran)} setup cells in", sys.executable)
'''


def test_binder_files_are_pinned_like_pyproject():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    pyproject = (ROOT / "pyproject.toml").read_text()
    pins = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', pyproject))
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            assert pins.get(name) == version, f"binder pins {line}, pyproject pins {pins.get(name)}"
    post_build = (BINDER / "postBuild").read_text()
    assert post_build.startswith("#!/bin/bash") and "\nset -e\n" in post_build
    assert os.access(BINDER / "postBuild", os.X_OK)


@pytest.mark.skipif(shutil.which("bash") is None, reason="postBuild is a bash script")
def test_binder_build_and_setup_cells(tmp_path):
    repo = tmp_path / "repo"   # Binder clones the repository: copy what it would see
    repo.mkdir()
    for rel in ("pyproject.toml", "README.md", "tinytorch", "tito", "modules", "binder"):
        copy = shutil.copytree if (ROOT / rel).is_dir() else shutil.copy2
        copy(ROOT / rel, repo / rel, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                        if (ROOT / rel).is_dir() else {}))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(venv))
    install = subprocess.run([str(bin_dir / "pip"), "install", "-q", "-r", "binder/requirements.txt"],
                             cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    build = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    notebook = repo / "modules" / "06_autograd" / "autograd.ipynb"
    run = subprocess.run([str(bin_dir / "python"), "-c", RUN_SETUP_CELLS, str(notebook), str(notebook.parent)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert str(bin_dir / "python") in run.stdout or str(venv) in run.stdout
