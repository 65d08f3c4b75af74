"""A generated class of module-06 submissions, one per case `tito grade` must get right.

Built from the real module-06 release (what students get) and source notebook (the reference solution),
generated from src/ into a scratch nbgrader course by `make_course`. Used by tests/test_grading.py and
benchmarks/grading.py.
"""
import copy
from pathlib import Path

import nbformat

from tito.source import grade_id

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
    from tito.course import Course

    module = registry.find(ASSIGNMENT)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_bytes((ROOT / "course" / "nbgrader_config.py").read_bytes())
    source.write(source.load(ROOT / module.source), course / "source" / ASSIGNMENT / NOTEBOOK)
    result = Course(course).nbgrader().generate_assignment(ASSIGNMENT, force=True)
    assert result["success"], result["log"]
    return course


def release_notebook(course):
    """What students get: nbgrader's release (modules/06_autograd/autograd.ipynb is the same, without outputs)."""
    return nbformat.read(Path(course) / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def source_notebook(course):
    return nbformat.read(Path(course) / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)


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


def pick(submissions: Path, students, out: Path) -> Path:
    """A class of some of the students of `submissions`, copied into `out`."""
    for student in students:
        target = out / student / ASSIGNMENT / NOTEBOOK
        target.parent.mkdir(parents=True)
        target.write_bytes((submissions / student / ASSIGNMENT / NOTEBOOK).read_bytes())
    return out


def copies_of_reference(out: Path, count: int, course: Path):
    """`count` submissions: the reference with a different harmless comment each (different hashes)."""
    ref = solved(course)
    for i in range(count):
        nb = copy.deepcopy(ref)
        nb.cells.insert(0, nbformat.v4.new_code_cell(f"# student {i:03d}"))
        path = out / f"student{i:03d}" / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)


# ------------------------------------------------------------------------------------ the hostile class
# Each attack targets the places an unsandboxed grader would expose: the repository, its venv, the course
# (source notebooks, gradebook, records) and the grades file. `where` gives their real paths on this machine.
DAEMON_MARKER = "tito-hostile-daemon"


def _steal_cell(where):
    """A first cell that defines steal(grade_id): the reference solution of that cell, by any means."""
    return f'''import json, os, sqlite3, sys
COURSE, REPO, SITE = {str(where["course"])!r}, {str(where["repo"])!r}, {str(where["site"])!r}
for folder in (REPO, SITE):   # the grader's checkout and venv hold the reference package
    sys.path.insert(0, folder)
for name in [n for n in sys.modules if n.startswith("tinytorch")]:
    del sys.modules[name]

def steal(grade_id):
    """Run the reference solution of `grade_id`: from the course's source notebook, else the package."""
    for path in (COURSE + "/source/06_autograd/autograd.ipynb", "../../../source/06_autograd/autograd.ipynb"):
        try:
            cells = json.load(open(path))["cells"]
        except OSError:
            continue
        for cell in cells:
            if cell["metadata"].get("nbgrader", {{}}).get("grade_id") == grade_id:
                exec("".join(cell["source"]), globals())
                return
    import tinytorch.core.autograd as reference
    globals().update({{k: v for k, v in vars(reference).items() if not k.startswith("__")}})

try:   # give every test full marks in the gradebook, and read the hidden tests
    db = sqlite3.connect(COURSE + "/gradebook.db")
    db.execute("UPDATE grade SET manual_score = "
               "(SELECT max_score FROM grade_cells WHERE grade_cells.id = grade.cell_id)")
    db.commit()
    hidden = [row[0] for row in db.execute("SELECT source FROM source_cell") if "HIDDEN" in row[0]]
    print("read", len(hidden), "hidden tests")
except Exception as error:
    print("gradebook out of reach:", error)
'''


def _attack_cells(where):
    """Attacks on classmates and on the run itself, one code cell each."""
    course, repo, site, output = (str(where[k]) for k in ("course", "repo", "site", "output"))
    planted = "raise ImportError('planted by a classmate')"
    return {
        "pth": f'''for folder in [*__import__("site").getsitepackages(), {site!r}]:
    try:
        open(folder + "/zzz_hostile.pth", "w").write(
            "import numpy; numpy.allclose = lambda *a, **k: False\\n")
    except OSError as error:
        print(error)''',
        "plant": f'''import os
for folder in ({course + "/source/06_autograd"!r}, "."):
    try:
        os.makedirs(folder + "/tinytorch/core", exist_ok=True)
        open(folder + "/tinytorch/__init__.py", "w").write({planted!r})
    except OSError as error:
        print(error)''',
        "append": f'''import tinytorch.core.losses
for path in (tinytorch.core.losses.__file__, {repo + "/tinytorch/core/losses.py"!r}):
    try:
        open(path, "a").write("\\nCrossEntropyLoss = None\\n")
    except OSError as error:
        print(error)''',
        "forge": f'''import json, os
records = {course + "/autograded/.tito/06_autograd"!r}
try:
    for name in os.listdir(records):
        row = json.load(open(f"{{records}}/{{name}}"))
        row["row"]["score"] = 0
        json.dump(row, open(f"{{records}}/{{name}}", "w"))
except OSError as error:
    print(error)''',
        "daemon": f'''import subprocess
subprocess.Popen(["sh", "-c", "sleep 3600 # {DAEMON_MARKER}\\necho forged > {output}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)''',
        "kill-parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
        # the host folder that holds this kernel's sockets: fill the host's disk, or swap a socket for another
        "sockets": '''import os, sys
folder = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
for name in ("filler.bin", "kernel.json"):
    try:
        with open(os.path.join(folder, name), "ab") as f:
            f.write(b"x" * 2**20)
        print("wrote into the socket folder:", name)
    except OSError as error:
        print("socket folder sealed:", type(error).__name__)''',
        "flood": "print('x' * 1_900_000)   # just under a cell's limit; the notebook holds this cell 6 times",
        "disk-bomb": '''import os
chunk = b"x" * 2**20
for path in ("filler.bin", "/tmp/filler.bin"):
    try:
        with open(path, "wb") as f:
            for _ in range(1024):   # 1 GiB
                f.write(chunk)
    except OSError as error:
        print("stopped:", error)''',
    }


def build_hostile_class(out: Path, course: Path, where: dict) -> dict:
    """Hostile and honest submissions; return {student: (status, max score expected or 0)}.

    where: {"course", "repo", "site" (the grader's site-packages), "output" (grades.csv)}.
    """
    ref, blank = solved(course), release_notebook(course)
    expected = {}

    def write(student, nb, status, full, raw=None):
        path = out / student / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw if raw is not None else nbformat.writes(nb).encode())
        expected[student] = (status, full)

    thief = copy.deepcopy(blank)
    thief.cells.insert(1, nbformat.v4.new_code_cell(_steal_cell(where)))
    for cell in thief.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = f"steal({grade_id(cell)!r})"
    write("thief", thief, "ok", False)
    for name, code in _attack_cells(where).items():   # each against the classmates, from a correct notebook
        nb = copy.deepcopy(ref)
        for _ in range(6 if name == "flood" else 1):      # more output than a notebook may keep
            nb.cells.insert(index_of(nb, "test-function"), nbformat.v4.new_code_cell(code))
        write(f"attack-{name}", nb, "ok", True)
    everything = copy.deepcopy(thief)   # every theft and every attack, in one blank notebook
    for code in _attack_cells(where).values():
        everything.cells.insert(2, nbformat.v4.new_code_cell(code))
    write("attack-everything", everything, "ok", False)

    for classmate in ("classmate-a", "classmate-b"):
        write(classmate, ref, "ok", True)
    noisy = copy.deepcopy(ref)   # debug output on stderr and a warning inside a graded test
    edit(noisy, "unbroadcast", "    grad = np.asarray(grad)", "    grad = np.asarray(grad)\n"
         "    import sys, warnings\n    print('debug: unbroadcast', np.shape(grad), shape, file=sys.stderr)\n"
         "    warnings.warn('a harmless warning')")
    write("honest-stderr", noisy, "ok", True)
    pasted = copy.deepcopy(ref)   # a test cell copy-pasted (same grade_id; JupyterLab gives the copy a new id)
    copied = copy.deepcopy(pasted.cells[index_of(pasted, "test-matmul-backward")])
    copied.id = "pasted-copy"
    pasted.cells.insert(index_of(pasted, "test-unbroadcast"), copied)
    write("honest-duplicate", pasted, "duplicate", True)
    write("honest-bom", None, "ok", True, raw=b"\xef\xbb\xbf" + nbformat.writes(ref).encode())
    return expected


# ------------------------------------------------------------------------------------ a synthetic class
# Failure messages as module 06's tests raise them, with the numbers that differ from student to student.
SYNTHETIC_ERRORS = (
    ("AssertionError: SubBackward: gradient for input 1 is wrong at ({i}, {j}): expected {x:.5f}, got {y:.5f} "
     "(a - b: the gradient for b is -grad_output)", "test_unit_arithmetic_backward"),
    ("ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0 (size {i} is different from {j})",
     "MatmulBackward.apply"),
    ("NotImplementedError", "Function.__init__"),
    ("AttributeError: 'NoneType' object at 0x7f{i}{j}a0 has no attribute 'shape'", "Tensor.backward"),
)


def synthetic_class(count: int, points: dict, seed=0):
    """(rows, errors) of a class of `count` as `tito grade` would leave it, made up without grading anything:
    rows as grades.csv holds them, errors {student: {grade_id: tito.report.Error}} of every failed cell.
    Mostly "ok" with some of every other status; each failed cell raises one of SYNTHETIC_ERRORS."""
    import random

    from tito.course import NOT_RUN, STATUS_NAMES
    from tito.report import Error

    rng = random.Random(seed)
    statuses = ["ok"] * (4 * len(STATUS_NAMES)) + list(STATUS_NAMES)
    rows, errors = [], {}
    for i in range(count):
        student, status = f"student{i:05d}", rng.choice(statuses)
        cells = {gid: 0.0 if status in NOT_RUN or rng.random() < 0.2 else float(p) for gid, p in points.items()}
        rows.append({"student_id": student, "assignment": ASSIGNMENT, "score": sum(cells.values()),
                     "max_score": float(sum(points.values())), "status": status, "detail": "", "sandbox": "bwrap",
                     "cells": cells})
        if status not in NOT_RUN:
            errors[student] = {}
            for gid in (g for g, got in cells.items() if got < points[g]):
                message, where = rng.choice(SYNTHETIC_ERRORS)
                numbers = dict(i=rng.randint(0, 9), j=rng.randint(0, 9), x=rng.gauss(0, 1), y=rng.gauss(0, 1))
                errors[student][gid] = Error(message.format(**numbers), where, "")
    return rows, errors
