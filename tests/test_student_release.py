"""`tito release --student OUT`: a self-contained student repository with no solution in it, in which a
student who fills the notebook with working code passes `tito module complete 06`."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tito import registry, source, student

ROOT = Path(__file__).resolve().parent.parent
MODULE = registry.find("06")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "repo"
    done = subprocess.run([sys.executable, "-m", "tito", "release", "--student", str(out)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_layout(out):
    for rel in ("README.md", "pyproject.toml", "binder/requirements.txt", "binder/postBuild", "binder/runtime.txt",
                "tito/cli.py", "tinytorch/core/tensor.py", "tinytorch/core/autograd.py",
                "tests/modules/test_06_autograd.py"):
        assert (out / rel).is_file(), rel
    for module in registry.MODULES:
        assert (out / module.notebook).read_bytes() == (ROOT / module.notebook).read_bytes()
    assert not (out / "src").exists() and not (out / "course").exists()
    assert not (out / "tito" / "grade.py").exists() and not (out / "tito" / "autograde.py").exists()
    readme = (out / "README.md").read_text()
    assert "tito module complete 06" in readme and 'pip install -e ".[student]"' in readme
    assert "mybinder.org/v2/gh/" in readme and "Python 3.11" in readme


def test_the_student_tito_offers_only_the_students_commands(out):
    done = subprocess.run([sys.executable, "-m", "tito", "--help"], cwd=out, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(out)})
    assert done.returncode == 0, done.stderr
    assert "{module,test,lab}" in done.stdout, done.stdout
    for command in ("grade", "release", "export", "check", "feedback"):
        assert f"\n    {command} " not in done.stdout, command
    refused = subprocess.run([sys.executable, "-m", "tito", "grade", "06"], cwd=out, capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(out)})
    assert refused.returncode == 2 and "invalid choice: 'grade'" in refused.stderr


def test_graded_module_is_exported_from_the_stubs(out):
    package = (out / MODULE.package_file).read_text()
    assert source.STUB[1] in package
    assert package != (ROOT / MODULE.package_file).read_text()
    reference = registry.find("01").package_file
    assert (out / reference).read_text() == (ROOT / reference).read_text()


def test_no_secret_line_anywhere(out):
    secrets = student._secrets([MODULE])
    assert secrets, "module 06 has solution and hidden-test lines"
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".txt", ".toml", ""):
            text = path.read_text(encoding="utf-8", errors="replace")
            for line in text.splitlines():
                assert line.strip() not in secrets, f"{path.relative_to(out)} reveals {line.strip()!r}"
                assert line.strip() not in source.MARKERS, f"{path.relative_to(out)} holds a marker"


def test_complete_passes_with_working_code(out):
    reference = source.load(ROOT / MODULE.source)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in reference.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    path = out / MODULE.notebook
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in answers:
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    nbformat.write(notebook, path)
    env = {**os.environ, "PYTHONPATH": str(out)}
    done = subprocess.run([sys.executable, "-m", "tito", "module", "complete", "06"], cwd=out, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "passes its tests" in done.stdout
    assert source.STUB[1] not in (out / MODULE.package_file).read_text()


def test_stub_notebook_does_not_pass(tmp_path, out):
    """The same command on the untouched release fails: the tests run the student's code."""
    fresh = tmp_path / "repo"
    subprocess.run([sys.executable, "-m", "tito", "release", "--student", str(fresh)], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "tito", "module", "complete", "06"], cwd=fresh,
                          env={**os.environ, "PYTHONPATH": str(fresh)}, capture_output=True, text=True, timeout=900)
    assert done.returncode != 0
