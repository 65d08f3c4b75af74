"""A generated class of module-06 submissions, one per case `tito grade` must get right.

Built from the real module-06 release (what students get) and source notebook (the reference solution),
generated from src/ into a scratch nbgrader course by `make_course`. Used by tests/test_grading.py and
benchmarks/grading.py.
"""
import copy
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT, NOTEBOOK = "06_autograd", "autograd.ipynb"

# The wrong MatmulBackward rule: forgets to transpose B (wrong values for every non-square case).
WRONG_MATMUL = ("grad_a = g @ T(B) if _needs(a) else None", "grad_a = g @ B if _needs(a) else None")
# The wrong SubBackward rule: b's gradient loses its minus sign.
WRONG_SUB = ("-grad_output if _needs(b) else None)", "grad_output if _needs(b) else None)")

TAMPER = {
    # rebinding numpy's comparison functions
    "numpy": "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
             "np.testing.assert_array_equal = lambda *a, **k: None\nnp.shape = lambda x: (2, 3)",
    # redefining the notebook's assert helpers
    "helpers": "def _rule_check(*args, **kwargs):\n    return (None, None)\n"
               "def numerical_grads(f, *arrays, **kwargs):\n    return [None for _ in arrays]",
    # patching builtins (and shadowing one with a global)
    "builtins": "import builtins\nbuiltins.all = builtins.any = lambda *a: True\nbuiltins.AssertionError = Warning\n"
                "isinstance = lambda *a: True",
    # blanking every test cell before it runs
    "ipython": "get_ipython().input_transformers_post.append(\n"
               "    lambda lines: [] if any('def test_' in line for line in lines) else lines)",
}


def make_course(course: Path) -> Path:
    """A fresh nbgrader course in `course` with module 06 generated from src/ (as `tito release` does)."""
    from tito import registry, source
    from tito.release import nbgrader_api

    module = registry.find(ASSIGNMENT)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_bytes((ROOT / "course" / "nbgrader_config.py").read_bytes())
    source.write(source.load(module.source), course / "source" / ASSIGNMENT / NOTEBOOK)
    result = nbgrader_api(course).generate_assignment(ASSIGNMENT, force=True)
    assert result["success"], result["log"]
    return course


def release_notebook(course):
    """What students get: nbgrader's release (modules/06_autograd/autograd.ipynb is the same, without outputs)."""
    return nbformat.read(Path(course) / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def source_notebook(course):
    return nbformat.read(Path(course) / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def index_of(nb, gid):
    return next(i for i, cell in enumerate(nb.cells) if grade_id(cell) == gid)


def solved(course):
    """The student notebook with every solution cell filled in from the reference."""
    source, nb = source_notebook(course), release_notebook(course)
    answers = {grade_id(c): c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return nb


def edit(nb, gid, old, new):
    cell = nb.cells[index_of(nb, gid)]
    assert old in cell.source, f"{old!r} not in cell {gid}: update tests/grading_class.py"
    cell.source = cell.source.replace(old, new)
    return nb


def delete(nb, gid):
    del nb.cells[index_of(nb, gid)]
    return nb


def insert_before(nb, gid, code):
    nb.cells.insert(index_of(nb, gid), nbformat.v4.new_code_cell(code))
    return nb


def append_to(nb, gid, code):
    nb.cells[index_of(nb, gid)].source += "\n" + code
    return nb


def build_class(out: Path, course: Path):
    """Write one submission per case to out/<student>/06_autograd/; return the student ids."""
    ref = solved(course)

    def variant(*changes):
        nb = copy.deepcopy(ref)
        for change in changes:
            nb = change(nb)
        return nb

    wrong_sub = lambda nb: edit(nb, "arithmetic-backward", *WRONG_SUB)
    wrong_matmul = lambda nb: edit(nb, "matmul-backward", *WRONG_MATMUL)
    calltime = ("        np.allclose = lambda *a, **k: True\n"
                "        T = lambda x: np.swapaxes(x, -1, -2)")
    bomb = ("import numpy as np\nchunks = []\ntry:\n    while len(chunks) < 100:   # up to 8 GB\n"
            "        chunks.append(np.ones(10**7))\nfinally:\n    chunks.clear()")
    cases = {
        "reference": ref,
        "release": release_notebook(course),
        "wrong-sub": variant(wrong_sub),
        "wrong-matmul": variant(wrong_matmul),
        "infinite-loop": variant(lambda nb: insert_before(nb, "test-shape-backward", "while True:\n    pass")),
        "memory-bomb": variant(lambda nb: insert_before(nb, "test-shape-backward", bomb)),
        "os-exit": variant(lambda nb: insert_before(nb, "test-backward", "import os\nos._exit(3)")),
        "segfault": variant(lambda nb: insert_before(nb, "test-backward", "import ctypes\nctypes.string_at(0)")),
        "big-output": variant(lambda nb: insert_before(
            nb, "test-backward", "for i in range(60_000):\n    print(i, 'spam ' * 16)")),
        "deleted-test": variant(wrong_sub, lambda nb: delete(nb, "test-arithmetic-backward")),
        "edited-test": variant(wrong_matmul, lambda nb: edit(
            nb, "test-matmul-backward", "def test_unit_matmul_backward():", "def test_unit_matmul_backward():\n"
            "    return\ndef _unused():")),
        "tamper-calltime": variant(lambda nb: edit(nb, "matmul-backward", "        T = lambda x: np.swapaxes(x, -1, -2)",
                                                   calltime)),
    }
    for name, code in TAMPER.items():
        cases[f"tamper-{name}"] = variant(wrong_matmul, lambda nb, code=code: append_to(nb, "matmul-backward", code))
    for student, nb in cases.items():
        path = out / student / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    renamed = out / "renamed" / ASSIGNMENT / "my_autograd.ipynb"
    renamed.parent.mkdir(parents=True)
    nbformat.write(ref, renamed)
    (out / "missing" / ASSIGNMENT).mkdir(parents=True)
    invalid = out / "invalid-json" / ASSIGNMENT / NOTEBOOK
    invalid.parent.mkdir(parents=True)
    invalid.write_text(nbformat.writes(ref)[:5000], encoding="utf-8")
    return sorted([*cases, "renamed", "missing", "invalid-json"])


def copies_of_reference(out: Path, count: int, course: Path):
    """`count` submissions: the reference with a different harmless comment each (different hashes)."""
    ref = solved(course)
    for i in range(count):
        nb = copy.deepcopy(ref)
        nb.cells.insert(0, nbformat.v4.new_code_cell(f"# student {i:03d}"))
        path = out / f"student{i:03d}" / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
