"""`tito module complete NN`: check YOUR notebook the way the grader will, and say where to fix what fails.

Three steps, stopping at the first that fails:

1. run your notebook top to bottom in a fresh kernel, and stop at the first cell that raises: the exercise it
   belongs to and the test's own message are printed (the notebook's tests are the same the grader runs);
2. export your notebook into the package (`tinytorch/core/...`), and name any function the exported code uses
   that lives in a cell without `#| export` (it would be missing from the package);
3. run the module's package tests, which check more cases (random shapes, edge values); a failure inside the
   package is traced back to the cell of your notebook that holds that code.
"""
import ast
import builtins
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from . import export
from .source import grade_id as _grade_id
from .registry import ROOT

CELL_TIMEOUT = 300   # seconds: far above any correct cell; a cell past it is stuck (e.g. an exponential walk)
MARKER = re.compile(r"^# %% \S+ #(\S+)$")


def section_of(notebook, index: int) -> str:
    """The heading of the section a cell sits in (the nearest markdown heading above it)."""
    for cell in reversed(notebook.cells[:index]):
        if cell.cell_type == "markdown":
            headings = [line.lstrip("#").strip().replace("`", "") for line in cell.source.splitlines()
                        if line.startswith("#")]
            if headings:
                return headings[-1]
    return "the top of the notebook"


def describe(notebook, index: int) -> str:
    """'cell 18 (test-matmul-backward), in section "4.2 Matrix multiplication"'."""
    cell = notebook.cells[index]
    name = _grade_id(cell) or (cell.source.strip().splitlines() or [""])[0][:50]
    return f'cell {index} ({name}), in section "{section_of(notebook, index)}"'


# ------------------------------------------------------------------------------------ 1. the notebook
def first_failure(path: Path):
    """Run the notebook; None when every cell runs, else (cell index, error text)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    # the notebook's demos and timings are not tests: skip them here (its DEMOS switch reads TITO_DEMOS)
    with client.setup_kernel(env={**os.environ, "TITO_DEMOS": "0"}, stderr=subprocess.DEVNULL):   # its chatter
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                return index, f"{error.ename}: {error.evalue}"
            except CellTimeoutError:
                return index, f"the cell was still running after {CELL_TIMEOUT} s (an endless or exponential loop?)"
            except DeadKernelError:
                return index, "the kernel died while running this cell"
    return None


# ------------------------------------------------------------------------------------ 2. the export
def _bound_anywhere(tree) -> set:
    """Every name the module binds anywhere: definitions, assignments, arguments, imports, loop variables."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _users(tree, name) -> list:
    """The top-level functions and classes of the module that use `name`."""
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))]


def unexported_helpers(notebook, module_file: Path) -> list:
    """Sentences naming each function the exported module uses but only a cell without `#| export` defines."""
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    missing = used - _bound_anywhere(tree) - set(dir(builtins))
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "#| export" in cell.source:
            continue
        try:
            defined = {n.name for n in ast.parse(cell.source).body
                       if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        except SyntaxError:
            continue
        for name in sorted(defined & missing):
            users = ", ".join(_users(tree, name)) or "the exported code"
            problems.append(f"`{name}` is used by {users} but its cell ({describe(notebook, index)}) has no "
                            "`#| export` line, so it is not in the package: add `#| export` as that cell's "
                            "first line")
    return problems


# ------------------------------------------------------------------------------ 3. the package tests
def notebook_locations(output: str, module_file: Path, notebook) -> list:
    """For each `<module_file>:<line>` in a pytest report, the notebook cell that line was exported from."""
    lines = module_file.read_text(encoding="utf-8").splitlines()
    cells = {cell.get("id"): index for index, cell in enumerate(notebook.cells)}
    found = []
    pattern = rf"(?<![\w.]){re.escape(module_file.name)}:(\d+)"   # autograd.py:12, not test_06_autograd.py:12
    for number in dict.fromkeys(int(n) for n in re.findall(pattern, output)):
        for back in range(number - 1, -1, -1):
            match = MARKER.match(lines[back]) if back < len(lines) else None
            if match and match.group(1) in cells:
                index = cells[match.group(1)]
                line = _cell_line(notebook.cells[index].source, lines[number - 1], number - back)
                found.append(f"{module_file.name} line {number} is line {line} of "
                             f"{describe(notebook, index)} (counting its `#| export` line as line 1)")
                break
    return found


def _cell_line(cell_source: str, exported: str, offset: int) -> int:
    """The line of the cell that the exported line `exported` came from, `offset` lines below the cell's marker.

    Export drops whole lines only (the exercise paragraphs of docstrings, grading markers), so it is the
    first equal line at or after the same offset."""
    code = cell_source.splitlines()
    for number in range(offset, len(code) + 1):
        if code[number - 1].rstrip() == exported.rstrip():
            return number
    return offset


def complete(module, root=ROOT) -> int:
    """Check the student's notebook, export it into the package, then run the module's package tests."""
    path = root / module.notebook
    if not path.exists():
        print(f"tito module complete: {path} not found", file=sys.stderr)
        return 2
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds; all mean "not a notebook"
        print(f"tito module complete: {path} is not a valid notebook: {error}", file=sys.stderr)
        return 2

    print(f"1/3 running your notebook {path.relative_to(root)} (its demos skipped) ...", flush=True)
    failure = first_failure(path)
    if failure:
        index, error = failure
        print(f"\nYour notebook stops at {describe(notebook, index)}:\n\n    {error}\n\n"
              "Fix that exercise in the notebook (the text above it says what it must do), then run this again.")
        return 1

    origin = path.relative_to(root).as_posix()
    target = export.export_notebook(path, origin, root)
    print(f"2/3 exported your notebook -> {target.relative_to(root)}")
    if (root / "src").exists():
        print(f"    (author tree: `tito export {module.number}` restores the reference package file)")
    problems = unexported_helpers(notebook, target)
    if problems:
        print("\n" + "\n".join(problems))
        return 1

    tests = sorted((root / "tests" / "modules").glob(f"test_{module.slug}*.py"))
    if not tests:
        print(f"no tests found for {module.slug}", file=sys.stderr)
        return 2
    print("3/3 running the package tests (more shapes and edge cases than the notebook) ...", flush=True)
    env = {**os.environ, "PYTHONPATH": str(root)}  # import *this* tree's tinytorch, the student's
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "--tb=short", "-p", "no:cacheprovider",
                           *map(str, tests)], cwd=root, env=env, capture_output=True, text=True)
    print(done.stdout[-6000:] + done.stderr[-2000:])
    if done.returncode == 0:
        print(f"Module {module.number} ({module.title}) passes its tests.")
        return 0
    for where in notebook_locations(done.stdout, target, notebook):
        print(f"Where to fix it: {where}.")
    print(f"\nModule {module.number} ({module.title}) does not pass its tests yet: read the first failure above.")
    return done.returncode
