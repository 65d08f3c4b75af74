"""The source pipeline, on a small fixture module in a scratch copy of the project."""
import ast
import io
import json
import re
import shutil
import tokenize
from pathlib import Path

import nbformat
import pytest

from tito import check, complete, export, registry, release, source, student
from tito.registry import MODULES, ROOT, Module

FIXTURE = Path(__file__).parent / "fixtures" / "99_demo.py"
DEMO = Module("99", "demo", "Demo", "core.demo")
DEMO_TEST = """
from tinytorch.core.demo import double

def test_double():
    assert double(3) == 6
"""


def make_project(tmp_path, fixture_text=None) -> Path:
    """A scratch project: the tooling, the fixture module as src/99_demo, an empty package."""
    root = tmp_path / "project"
    for item in ("pyproject.toml", "tito", "course/nbgrader_config.py"):
        target = root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy2
        copy(ROOT / item, target)
    (root / "src" / DEMO.slug).mkdir(parents=True)
    (root / "src" / DEMO.slug / f"{DEMO.slug}.py").write_text(fixture_text or FIXTURE.read_text())
    (root / "tinytorch" / "core").mkdir(parents=True)
    (root / "tinytorch" / "__init__.py").write_text("")
    (root / "tinytorch" / "core" / "__init__.py").write_text("")
    (root / "tests" / "modules").mkdir(parents=True)
    (root / "tests" / "modules" / f"test_{DEMO.slug}.py").write_text(DEMO_TEST)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The fixture module exported and released once (release runs nbgrader: slow)."""
    root = make_project(tmp_path_factory.mktemp("built"))
    package_file = export.export_module(DEMO, root)
    [notebook] = release.release([DEMO], root)
    return root, package_file, notebook


def test_export_has_banner_all_and_no_markers(built):
    root, package_file, _ = built
    text = package_file.read_text()
    assert export.banner("src/99_demo/99_demo.py") in text
    assert "__all__ = ['double']" in text, "private names stay out of __all__, public ones are in"
    assert "twice_secret = np.multiply(x, 2)" in text, "the package holds the reference solution"
    for marker in source.MARKERS:
        assert marker not in text
    assert "hidden_check_negative" not in text, "test cells are not exported"
    assert '"""Twice x."""' in text and "TODO" not in text and "HINTS" not in text, "exercise text is stripped"


def test_export_strips_exercise_paragraphs_from_docstrings():
    code = (
        'def f(x):\n'
        '    """Twice x.\n\n    TODO: return it.\n\n    APPROACH:\n    1. multiply.\n\n'
        '    Returns a float.\n    """\n'
        '    return 2 * x\n\n\n'
        'def g():\n    """TODO: everything."""\n    return 1\n\n\n'
        'def h():\n    """A sum. TODO: add them. HINTS: use +."""\n    return 3\n\n\n'
        'class Stub:\n    """TODO: only a docstring."""\n')
    assert export.strip_exercise_text(code) == (
        'def f(x):\n    """Twice x.\n\n    Returns a float.\n    """\n    return 2 * x\n\n\n'
        'def g():\n    return 1\n\n\n'
        'def h():\n    """A sum."""\n    return 3\n\n\n'
        'class Stub:\n    """TODO: only a docstring."""\n')
    unfinished = 'def broken(:\n    """TODO: x"""\n'
    assert export.strip_exercise_text(unfinished) == unfinished


LIBRARY_TEXT = re.compile(r"\b(?:TODO|APPROACH|HINTS?):|\babove\b|\bbelow\b|\bsection \d|\bnotebook\b", re.I)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.slug)
def test_package_reads_as_a_library(module):
    """No exercise text, and no reference to text the package does not hold, in a docstring or comment."""
    text = (ROOT / module.package_file).read_text(encoding="utf-8")
    docstrings = [ast.get_docstring(node, clean=False) or "" for node in ast.walk(ast.parse(text))
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    comments = [token.string for token in tokenize.generate_tokens(io.StringIO(text).readline)
                if token.type == tokenize.COMMENT and not token.string.startswith("# %%")]
    found = [f"{match.group(0)!r} in: {piece[:120]}" for piece in docstrings + comments
             for match in LIBRARY_TEXT.finditer(piece)]
    assert not found, f"{module.package_file.name} shows notebook-only text:\n" + "\n".join(found)


def test_export_and_release_are_byte_stable(built, tmp_path):
    root, package_file, notebook = built
    first = (package_file.read_bytes(), notebook.read_bytes())
    export.export_module(DEMO, root)
    release.release([DEMO], root)
    assert (package_file.read_bytes(), notebook.read_bytes()) == first


def test_student_notebook_has_stubs_and_no_secret_line(built):
    root, _, notebook_path = built
    notebook = nbformat.read(notebook_path, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    src = source.load(root / "src" / DEMO.slug / f"{DEMO.slug}.py")
    region_lines = [line.strip() for cell in src.cells for _, body in source.regions(cell.source)
                    for line in body if line.strip()]
    assert region_lines, "the fixture has solution and hidden-test lines to look for"
    for line in region_lines:
        assert line not in text, f"{line!r} leaked into the student notebook"
    assert source.STUB[0] in text and source.STUB[1] in text
    assert all(not cell.get("outputs") for cell in notebook.cells)
    ids = [cell.id for cell in notebook.cells]
    assert ids == [cell.id for cell in src.cells], "cell ids are the source's stable ids"


def test_release_refuses_a_leaking_notebook_and_names_the_cell(built):
    root, _, notebook_path = built
    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells[3].source += "\n    twice_secret = np.multiply(x, 2)"
    secrets = source.secret_lines([source.load(root / "src" / DEMO.slug / f"{DEMO.slug}.py")])
    with pytest.raises(release.LeakError, match=r"cell 3 \(id double\).*twice_secret"):
        release.check_student_notebook(notebook, "demo.ipynb", secrets)
    notebook.cells[3].source = "### BEGIN SOLUTION"
    with pytest.raises(release.LeakError, match="BEGIN SOLUTION"):
        release.check_student_notebook(notebook, "demo.ipynb", secrets)


def _fill(notebook_path, body):
    """Play the student: replace the stub of the solution cell with `body`."""
    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        cell.source = cell.source.replace("    " + "\n    ".join(source.STUB), body)
    nbformat.write(notebook, notebook_path)


@pytest.mark.parametrize("body, passes", [
    (None, False),                          # the untouched stub
    ("    return x * 3", False),            # a wrong answer
    ("    return x + x", True),             # a right answer, not the reference's text
])
def test_module_complete_tests_the_students_own_code(built, tmp_path, capsys, body, passes):
    root, _, released = built
    work = tmp_path / "student"
    shutil.copytree(root, work)
    notebook = work / "modules" / DEMO.slug / "demo.ipynb"
    if body:
        _fill(notebook, body)
    assert (complete.complete(DEMO, work) == 0) is passes
    if passes:
        exported = (work / "tinytorch" / "core" / "demo.py").read_text()
        assert "twice_secret" not in exported, "the student's package is built from the student's notebook"
    else:   # the notebook's own test stops it first, and says which
        assert "Your notebook stops at cell 4 (test-double)" in capsys.readouterr().out


def test_check_finds_stale_and_hand_edited_files(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".venv", ".git", "build", "__pycache__",
                                                              "_build", ".hypothesis", "course"))
    (root / "course").mkdir()
    shutil.copy2(ROOT / "course" / "nbgrader_config.py", root / "course" / "nbgrader_config.py")
    assert check.stale_files(root) == []
    tensor = root / "tinytorch" / "core" / "tensor.py"
    tensor.write_text(tensor.read_text() + "\n# a hand edit\n")
    notebook = root / MODULES[0].notebook
    notebook.write_text(notebook.read_text().replace("Tensor", "Tensr", 1))
    (root / "tinytorch" / "core" / "leftover.py").write_text("x = 1\n")
    problems = dict(check.stale_files(root))
    assert set(problems) == {Path("tinytorch/core/tensor.py"), MODULES[0].notebook,
                             Path("tinytorch/core/leftover.py")}


BROKEN = {
    "duplicate grade_id": (
        '"grade_id": "test-double"', '"grade_id": "double"', r"cell 4 .*duplicate grade_id 'double' \(first used in cell 3\)"),
    "missing schema_version": (
        '"schema_version": 3, "solution": true', '"solution": true', r"cell 3 .*schema_version"),
    "unbalanced markers": (
        "    ### END SOLUTION\n", "", r"cell 3 .*BEGIN SOLUTION' is never closed"),
    "solution marker in a test cell": (
        '    ### BEGIN HIDDEN TESTS', '    ### BEGIN SOLUTION\n    ### END SOLUTION\n    ### BEGIN HIDDEN TESTS',
        r"cell 4 .*test cells may not hold solutions"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_source_names_file_and_cell(tmp_path, case):
    old, new, message = BROKEN[case]
    text = FIXTURE.read_text()
    assert old in text
    path = tmp_path / "99_demo.py"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(source.SourceError, match=f"{path.name}: {message}"):
        source.load(path)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.slug)
def test_committed_student_notebooks_hold_no_secret(module):
    sources = [source.load(ROOT / m.source) for m in MODULES]
    secrets = source.secret_lines(sources)
    notebook = nbformat.read(ROOT / module.notebook, as_version=4)
    release.check_student_notebook(notebook, module.notebook.name, secrets)
    assert json.loads((ROOT / module.notebook).read_text())["nbformat"] == 4


def test_package_lines_are_traced_to_their_notebook_cell_lines():
    """`tito module complete` names the cell line a failing package line came from, although export dropped the
    exercise paragraphs of docstrings above it (so counting lines from the cell's start would be wrong)."""
    module = registry.find("06")
    notebook = source.load(ROOT / module.source)
    module_file = ROOT / "tinytorch" / "core" / "autograd.py"
    lines = module_file.read_text(encoding="utf-8").splitlines()
    checked = 0
    for number, text in enumerate(lines, 1):
        if not text.strip().startswith(("raise ", "return ")):
            continue
        (where,) = complete.notebook_locations(f"{module_file.name}:{number}", module_file, notebook)
        line, index = re.search(r"is line (\d+) of cell (\d+)", where).groups()
        code = notebook.cells[int(index)].source.splitlines()
        assert code[int(line) - 1] == text, f"{where}: the cell's line is {code[int(line) - 1]!r}, not {text!r}"
        checked += 1
    assert checked > 50
    assert complete.notebook_locations("tests/modules/test_06_autograd.py:485", module_file, notebook) == [], \
        "a line of the test file is not a line of the module"
