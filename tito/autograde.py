"""Executing one submission: nbgrader's Execute preprocessor with its kernel in a sandbox, hardened.

`execute(job)` is what a grading worker runs (in tito's own process, or on a Dask worker): it receives a
notebook the grader has prepared (locked cells restored, hidden tests inserted), runs it in a fresh kernel in a
fresh bubblewrap sandbox (tito/sandbox.py), and returns the executed notebook. It writes nothing else: the
grader alone scores the notebook and writes the gradebook, grades.csv and the records.

`GuardedExecute` is nbgrader's Execute plus:

* the kernel in a sandbox, started by `SandboxedKernelManager`, talking ZeroMQ over Unix sockets;
* a time limit for the whole notebook besides nbgrader's per-cell timeout, and a cap on the output kept;
* crash handling: when the kernel dies (os._exit, a segfault) or stops answering after a timeout, the rest of
  the notebook is marked "not executed" (no later test cell is scored as passing) instead of failing the row;
* the tamper guard (tito/guard.py), sent to the kernel before the first cell. Before each graded cell, through
  a side channel that bypasses the notebook's own code (a `user_expressions` request), it restores what the
  tests rely on and redefines the instructor's helper functions; after it, it checks that nothing protected
  changed while the tests ran; if something did, or if the guard did not answer with its secret token, the
  cell gets an error (0 points).

course/nbgrader_config.py names SandboxedExecute (GuardedExecute with tito's sandbox) as nbgrader's own executor,
so `nbgrader autograde` and the formgrader run kernels in the same sandbox.
"""
import ast
import asyncio
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from time import monotonic

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Any, Dict, Integer

from . import sandbox as sandboxing
from .course import default

GUARD_NOTE = "[tito guard] restored before this test:"
GUARD_SOURCE = (Path(__file__).parent / "guard.py").read_text(encoding="utf-8")
PROTECTED = ("builtins", "math", "operator", "functools", "itertools", "numpy", "numpy.testing")
# characters of output kept per cell and per notebook; the rest is dropped (a flood cannot fill the memory)
OUTPUT_LIMIT, NOTEBOOK_OUTPUT_LIMIT = 2_000_000, 10_000_000


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel inside `self.sandbox` (a tito.sandbox.Sandbox), its sockets in a private folder."""

    def __init__(self, sandbox, **kwargs):
        self.sandbox = sandbox
        self.sockets = Path(tempfile.mkdtemp(prefix="tito-kernel-"))
        super().__init__(transport="ipc", ip=str(self.sockets / "kernel"),
                         connection_file=str(self.sockets / "kernel.json"), **kwargs)

    def format_kernel_cmd(self, extra_arguments=None):
        if self.sandbox.uid is not None:   # the kernel creates its sockets here and reads the connection file
            for path in (self.sockets, Path(self.connection_file)):
                os.chown(path, self.sandbox.uid, self.sandbox.uid)
        kernel = [self.sandbox.python, "-m", "ipykernel_launcher", "-f", self.connection_file,
                  *(extra_arguments or [])]
        return self.sandbox.command(kernel, self.sockets)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kw.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(self.sockets), env={"PATH": os.environ.get("PATH", "")})
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def seal(self):
        """Once the kernel has made its sockets, give their folder back to the grader: the kernel can then
        neither fill the host's disk there nor swap a socket. (A grader that is not root shares its uid with
        the sandbox: nothing to give back.)"""
        if self.sandbox.uid is not None:
            for path in (self.sockets, Path(self.connection_file)):
                os.chown(path, os.getuid(), os.getgid())
            os.chmod(self.sockets, 0o755)

    async def _async_interrupt_kernel(self):
        """Interrupt by message: a signal to bwrap would not reach the kernel inside its PID namespace."""
        self._connect_control_socket()
        self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart)
        shutil.rmtree(self.sockets, ignore_errors=True)

    interrupt_kernel = _async_interrupt_kernel
    cleanup_resources = _async_cleanup_resources


class LimitedKernelManager(AsyncKernelManager):
    """--no-sandbox: the kernel runs as the grader, with only a memory limit (RLIMIT_AS)."""

    memory = default("memory")

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        wrapper = ("import os, resource, sys; n = int(sys.argv[1]); "
                   "resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execv(sys.argv[2], sys.argv[2:])")
        return [sys.executable, "-c", wrapper, str(self.memory * 2**20), *cmd]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kw.setdefault("stderr", subprocess.DEVNULL)  # startup chatter; the kernel's own output goes to IOPub
        kw["env"] = {**(kw.get("env") or os.environ), "NBGRADER_EXECUTION": "autograde"}   # as the sandbox says
        return await super()._async_launch_kernel(kernel_cmd, **kw)


def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def instructor_definitions(source_nb):
    """{grade_id: code}: the imports and functions of the instructor cells above each graded cell.

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


def bound_names(source_nb):
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


class GuardedExecute(Execute):
    """nbgrader's Execute in a sandbox, with a notebook time limit, crash handling and the tamper guard."""

    sandbox = Any(None, help="a tito.sandbox.Sandbox; None runs the kernel unsandboxed (--no-sandbox)")
    notebook_timeout = Integer(default("notebook_timeout"), help="seconds the whole notebook may run").tag(config=True)
    memory = Integer(default("memory"), help="MiB of address space of an unsandboxed kernel").tag(config=True)
    definitions = Dict(None, allow_none=True, help="instructor_definitions() of the source notebook; "
                                                   "None: read the course's source notebook")
    keep = Any(None, help="bound_names() of the source notebook")

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        self._guard = None
        self._token = secrets.token_hex(16)
        self._deadline = monotonic() + self.notebook_timeout
        self._cell_timeout = self.timeout
        self._output_cell, self._output_used, self._output_total = None, 0, 0
        self.shutdown_kernel = "immediate"   # nothing in the kernel is worth a graceful shutdown
        if self.definitions is None:
            self._load_definitions(resources or {})
        return super().preprocess(nb, resources, km)

    def create_kernel_manager(self):
        name = self.nb.metadata.get("kernelspec", {}).get("name") or "python3"
        if self.sandbox is not None:
            self.km = SandboxedKernelManager(self.sandbox, kernel_name=name, config=self.config)
        else:
            self.km = LimitedKernelManager(kernel_name=name, config=self.config)
            self.km.memory = self.memory
        return self.km

    def _load_definitions(self, resources):
        """When nbgrader itself runs this preprocessor: the definitions come from the course's source notebook."""
        info = resources.get("nbgrader", {})
        root = Path(self.config.CourseDirectory.get("root", "."))
        path = root / "source" / str(info.get("assignment")) / f"{info.get('notebook')}.ipynb"
        source_nb = nbformat.read(path, as_version=4) if path.exists() else nbformat.v4.new_notebook()
        self.definitions, self.keep = instructor_definitions(source_nb), bound_names(source_nb)

    def output(self, outs, msg, display_id, cell_index):
        if cell_index != self._output_cell:
            self._output_cell, self._output_used = cell_index, 0
        size = len(str(msg.get("content", "")))
        if self._output_used + size > OUTPUT_LIMIT or self._output_total + size > NOTEBOOK_OUTPUT_LIMIT:
            if self._output_used <= OUTPUT_LIMIT:   # say so once per cell
                outs.append(nbformat.v4.new_output("stream", name="stdout", text="\n[tito] output beyond "
                                                   f"{OUTPUT_LIMIT:,} characters (in a notebook: "
                                                   f"{NOTEBOOK_OUTPUT_LIMIT:,}) was dropped\n"))
                self._output_used = OUTPUT_LIMIT + 1
            return None
        self._output_used += size
        self._output_total += size
        return super().output(outs, msg, display_id, cell_index)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._dead_at is not None:
            cell.outputs = [self._dead_at]
            return cell, resources
        remaining = self._deadline - monotonic()
        if remaining <= 0:
            self._stop(_error("CellTimeoutError", f"not executed: the notebook ran past its time limit "
                                                  f"({self.notebook_timeout} s)"))
            cell.outputs = [self._dead_at]
            return cell, resources
        self.timeout = max(1, int(min(self._cell_timeout, remaining)))
        try:
            if self._guard is None:
                self._start_guard()
            graded = utils.is_grade(cell)
            if graded:
                restored = self._call(f"{self._guard}[0]({cell.metadata.nbgrader.get('grade_id')!r})")
                restored, _, notes = str(restored).partition("|")
            cell, resources = super().preprocess_cell(cell, resources, index)
            if any(o.output_type == "error" and o.ename == "CellTimeoutError" for o in cell.outputs) \
                    and self._call("1", timeout=5) != 1:   # the interrupt did not stop it: the kernel is wedged
                self._stop(_error("KernelDied", f"not executed: the kernel stopped responding in cell {index}"))
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
            self._dead_at = _error("KernelDied", f"not executed: the kernel died in cell {index}")
            cell.outputs.append(_error("KernelDied", "the kernel died while running this cell "
                                                     "(os._exit, a segfault, a kill, or memory)"))
        except CellTimeoutError as error:  # no reply or no output in time, and the kernel may be wedged
            cell.outputs.append(_error("CellTimeoutError", str(error).splitlines()[0]))
            if self._call("1", timeout=5) != 1:
                self._stop(_error("KernelDied", f"not executed: the kernel stopped responding in cell {index}"))
        return cell, resources

    def _stop(self, reason):
        """Mark every later cell with `reason`, and end the kernel (and its sandbox) now."""
        self._dead_at = reason
        run_sync(self.km.shutdown_kernel)(now=True)

    def _start_guard(self):
        if isinstance(self.km, SandboxedKernelManager):   # before the notebook's first cell runs
            self.km.seal()
        self._guard = f"__tito_guard_{self._token[:8]}"
        keep = tuple(sorted({"exit", "quit", "get_ipython", "display", *(self.keep or ())}))
        code = (f"exec({GUARD_SOURCE!r}, __tito_namespace := {{'__name__': 'tito_guard'}})\n"
                f"{self._guard} = __tito_namespace['make_guard']({self._token!r}, {PROTECTED!r}, {keep!r}, "
                f"{self.definitions!r})\n"
                "del __tito_namespace")
        self._call("", code=code)

    def _call(self, expression, code="", timeout=None):
        """Run `code` and evaluate `expression` in the kernel, silently; return the expression's value."""
        return run_sync(self._async_call)(expression, code, timeout or self._cell_timeout or 60)

    async def _async_call(self, expression, code, timeout):
        if self._dead_at is not None or not await self.km.is_alive():
            raise DeadKernelError("Kernel died")
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
            except (queue.Empty, asyncio.TimeoutError):
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if not expression:
                return content.get("status")
            value = content.get("user_expressions", {}).get("r", {})
            if value.get("status") != "ok":
                return f"guard failed: {value.get('ename')}: {value.get('evalue')}"
            return ast.literal_eval(value["data"]["text/plain"])


class SandboxedExecute(GuardedExecute):
    """GuardedExecute as nbgrader's own `autograde` runs it (course/nbgrader_config.py): the sandbox, its
    student package and the limits come from tito's course, as with `tito grade`."""

    def preprocess(self, nb, resources=None, km=None):
        from .course import Course
        from .student import release_package

        limits = Course(self.config.CourseDirectory.root).limits
        self.timeout, self.notebook_timeout = limits["cell_timeout"], limits["notebook_timeout"]
        sandboxing.check_available()
        with sandboxing.uid_slot() as uid:
            self.sandbox = sandboxing.Sandbox(sandboxing.materialize(release_package()), limits, uid)
            return super().preprocess(nb, resources, km)


def execute(job: dict) -> dict:
    """Run one prepared notebook in a fresh sandbox (a grading worker's whole job).

    job: notebook (JSON text, hidden tests inserted), definitions and keep (from the source notebook), limits
    (tito.course.LIMITS), package (the student tinytorch: {"key", "files"}), or None for --no-sandbox.
    Returns {"notebook": the executed notebook as JSON text} or {"error": what went wrong in the grader}.
    """
    notebook = nbformat.from_dict(json.loads(job["notebook"]))   # plain JSON both ways: no schema validation
    limits = job["limits"]
    try:
        with sandboxing.uid_slot() as uid:
            box = None if job["package"] is None else \
                sandboxing.Sandbox(sandboxing.materialize(job["package"]), limits, uid)
            executor = GuardedExecute(timeout=limits["cell_timeout"], notebook_timeout=limits["notebook_timeout"],
                                      memory=limits["memory"], sandbox=box, definitions=job["definitions"],
                                      keep=set(job["keep"]))
            executor.preprocess(notebook, {"metadata": {"path": tempfile.gettempdir()}})
    except Exception:  # the grader failed, not the student: the row says "error" and is retried next run
        return {"error": traceback.format_exc()[-3000:]}
    return {"notebook": json.dumps(notebook)}
