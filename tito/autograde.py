"""The grading kernel: nbgrader's Execute preprocessor, hardened for a whole class of submissions.

nbgrader runs each submitted notebook top to bottom in a fresh kernel and scores every graded test cell
(0 points if it shows an error). `GuardedExecute` adds, without touching any module's notebook:

* a memory limit per kernel (RLIMIT_AS, `TITO_MEMORY_LIMIT` MiB): a memory bomb gets a MemoryError;
* crash handling: when the kernel dies (os._exit, a segfault), the rest of the notebook is marked
  "not executed" (so no later test cell is scored as passing) instead of failing the whole student;
* a tamper guard. Before the first cell it snapshots the modules tests rely on (builtins, numpy and its
  submodules, math, ...) and IPython's execution hooks. Before each graded cell, through a side channel
  that bypasses the notebook's own code (a `user_expressions` request), it restores them, removes
  notebook globals that shadow builtins, and redefines the instructor's helper functions and imports
  (from the course's source notebook). After each graded cell it checks that nothing protected changed
  while the tests ran; if something did, or if the guard did not answer with its secret token, the cell
  gets an error (0 points).

See "Threat model" in the README's Instructors section for what this does not stop.
"""
import ast
import os
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader import utils
from nbgrader.preprocessors import Execute

GUARD_NOTE = "[tito guard] restored before this test:"
PROTECTED = ("builtins", "math", "operator", "functools", "itertools", "numpy", "numpy.testing")

# Runs (silently) in the kernel before any cell of the notebook.
GUARD = r'''
def __tito_make_guard(token, protected, builtin_keep):
    import builtins, importlib, sys, types
    for name in protected:
        importlib.import_module(name)
    shell = get_ipython()
    ns = shell.user_ns
    mods = {n: m for n, m in sys.modules.items() if isinstance(m, types.ModuleType)
            and (n in protected or n.startswith("numpy."))}
    saved = {n: {k: v for k, v in vars(m).items() if not k.startswith("__")} for n, m in mods.items()}
    for k in ("input", "raw_input", "get_ipython", "display", "getpass", "_"):  # the kernel sets these
        saved["builtins"].pop(k, None)
    classes = {c: dict(vars(c)) for c in (*type(shell).__mro__, *type(shell.kernel).__mro__) if c is not object}
    hooks = {"input_transformers_post": list(shell.input_transformers_post),
             "input_transformers_cleanup": list(shell.input_transformers_cleanup),
             "ast_transformers": list(shell.ast_transformers)}
    events = {e: list(cbs) for e, cbs in shell.events.callbacks.items()}
    shell_keys = set(vars(shell))
    builtin_names = {k for k in saved["builtins"] if not k.startswith("_")} - set(builtin_keep)

    def method(name):  # an instance attribute that shadows a method of the shell
        return isinstance(getattr(type(shell), name, None), types.FunctionType)

    def changes():
        found = [f"{n}.{k}" for n, m in mods.items() for k, v in saved[n].items()
                 if sys.modules.get(n) is not m or vars(m).get(k, changes) is not v]
        found += [f"global {k} shadows a builtin" for k in builtin_names if k in ns]
        found += [f"IPython {h}" for h, v in hooks.items() if getattr(shell, h) != v]
        found += [f"IPython event {e}" for e, v in events.items() if shell.events.callbacks.get(e) != v]
        found += [f"{c.__name__}.{k}" for c, d in classes.items() for k, v in d.items()
                  if vars(c).get(k, changes) is not v]
        found += [f"shell.{k}" for k in set(vars(shell)) - shell_keys if method(k)]
        if sys.gettrace() or sys.getprofile():
            found.append("sys.settrace/setprofile")
        return found

    def restore(pristine_code):
        found = [f for f in changes() if not f.startswith(("global ", "IPython event"))]  # reported, not voided
        for n, m in mods.items():
            sys.modules[n] = m
            d = vars(m)
            for k, v in saved[n].items():
                if d.get(k, restore) is not v:
                    d[k] = v
        for k in builtin_names & set(ns):
            del ns[k]
        for h, v in hooks.items():
            getattr(shell, h)[:] = v
        for e, v in events.items():
            shell.events.callbacks[e] = list(v)
        for c, d in classes.items():
            for k, v in d.items():
                if vars(c).get(k, restore) is not v:
                    type.__setattr__(c, k, v)
        for k in set(vars(shell)) - shell_keys:
            if method(k):
                delattr(shell, k)
        sys.settrace(None)
        sys.setprofile(None)
        exec(compile(pristine_code, "<tito: instructor definitions>", "exec"), ns)
        return token + "".join("|" + f for f in found[:5])

    def check():
        found = [f for f in changes() if not f.startswith("IPython event")]  # e.g. matplotlib's hooks
        return token if not found else "TAMPERED: " + ", ".join(found[:5])

    return restore, check
'''


def _instructor_definitions(source_nb):
    """{grade_id: code} — the imports and functions of the instructor cells above each graded cell.

    Instructor cells are the code cells that are neither solution nor graded cells. Only imports and
    `def`s are kept: re-running them has no side effect, and restores helpers such as assert functions.
    """
    definitions, result = [], {}
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        if utils.is_grade(cell):
            result[cell.metadata.nbgrader["grade_id"]] = "\n".join(definitions)
        elif not utils.is_solution(cell):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics: not Python, skip
                continue
            lines = cell.source.splitlines()
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
                    definitions.append("\n".join(lines[first - 1:node.end_lineno]))
    result[None] = "\n".join(definitions)
    return result


def _bound_names(source_nb):
    """Every name the reference notebook binds: globals that may legitimately shadow a builtin."""
    names = set()
    for cell in source_nb.cells:
        try:
            tree = ast.parse(cell.source) if cell.cell_type == "code" else None
        except SyntaxError:
            continue
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return names


def memory_limit_bytes():
    return int(float(os.environ.get("TITO_MEMORY_LIMIT", "4096")) * 2**20)


class LimitedKernelManager(AsyncKernelManager):
    """Starts the kernel through a one-line wrapper that sets RLIMIT_AS, then execs the real kernel."""

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        wrapper = ("import os, resource, sys; n = int(sys.argv[1]); "
                   "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execv(sys.argv[2], sys.argv[2:])")
        return [sys.executable, "-c", wrapper, str(memory_limit_bytes()), *cmd]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kw.setdefault("stderr", subprocess.DEVNULL)  # startup chatter; the kernel's own output goes to IOPub
        return await super()._async_launch_kernel(kernel_cmd, **kw)


def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute with a memory limit, crash handling and the tamper guard."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = LimitedKernelManager
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        self._guard = None
        self._token = secrets.token_hex(16)
        self._keep = set()
        self._definitions = self._load_definitions(resources or {})
        return super().preprocess(nb, resources, km)

    def _load_definitions(self, resources):
        info = resources.get("nbgrader", {})
        root = Path(self.config.CourseDirectory.get("root", "."))
        path = root / "source" / str(info.get("assignment")) / f"{info.get('notebook')}.ipynb"
        if not path.exists():
            return {None: ""}
        source_nb = nbformat.read(path, as_version=4)
        self._keep = _bound_names(source_nb)
        return _instructor_definitions(source_nb)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._dead_at is not None:
            cell.outputs = [_error("KernelDied", f"not executed: the kernel died in cell {self._dead_at}")]
            return cell, resources
        try:
            if self._guard is None:
                self._start_guard()
            graded = utils.is_grade(cell)
            if graded:
                grade_id = cell.metadata.nbgrader.get("grade_id")
                code = self._definitions.get(grade_id, self._definitions[None])
                restored = self._call(f"{self._guard}[0]({code!r})")
                restored, _, notes = str(restored).partition("|")
            cell, resources = super().preprocess_cell(cell, resources, index)
            if graded:
                if notes:
                    text = f"{GUARD_NOTE} {notes.replace('|', ', ')}\n"
                    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
                checked = self._call(f"{self._guard}[1]()")
                for problem in (restored, checked):
                    if problem != self._token:
                        cell.outputs.append(_error("TamperingDetected", str(problem)[:500]))
                # an error must come first: nbgrader scores a leading numeric result as partial credit
                cell.outputs.sort(key=lambda output: output.output_type != "error")
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(_error("KernelDied", "the kernel died while running this cell "
                                                     "(os._exit, a segfault, or memory)"))
        except CellTimeoutError as error:  # no reply or no output in time: the kernel may be wedged
            cell.outputs.append(_error("CellTimeoutError", str(error).splitlines()[0]))
            if self._call("1", timeout=5) != 1:
                self._dead_at = index
                cell.outputs.append(_error("KernelDied", "the kernel stopped responding"))
        return cell, resources

    def _start_guard(self):
        self._guard = f"__tito_guard_{self._token[:8]}"
        keep = tuple(sorted({"exit", "quit", "get_ipython", "display", *self._keep}))
        code = (GUARD + f"\n{self._guard} = __tito_make_guard({self._token!r}, {PROTECTED!r}, {keep!r})"
                "\ndel __tito_make_guard")
        self._call("", code=code)

    def _call(self, expression, code="", timeout=None):
        """Run `code` and evaluate `expression` in the kernel, silently; return the expression's value."""
        return run_sync(self._async_call)(expression, code, timeout or self.timeout or 60)

    async def _async_call(self, expression, code, timeout):
        import asyncio
        from time import monotonic

        msg_id = self.kc.execute(code, silent=True, store_history=False,
                                 user_expressions={"r": expression} if expression else {})
        deadline = monotonic() + timeout
        while True:
            remaining = deadline - monotonic()
            if remaining <= 0:
                return "guard timed out"
            if not await self.km.is_alive():
                raise DeadKernelError("Kernel died")
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=min(remaining, 1))
            except (asyncio.TimeoutError, Exception) as error:  # queue.Empty on timeout
                if type(error).__name__ in ("Empty", "TimeoutError"):
                    continue
                raise
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if not expression:
                return content.get("status")
            value = content.get("user_expressions", {}).get("r", {})
            if value.get("status") != "ok":
                return f"guard failed: {value.get('ename')}: {value.get('evalue')}"
            return ast.literal_eval(value["data"]["text/plain"])
