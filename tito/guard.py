"""The tamper guard, as it runs inside a grading kernel.

This file is not imported by tito: tito/autograde.py sends its source to each grading kernel, which runs it
silently before the first cell of the notebook. `make_guard` snapshots what the tests rely on (builtins, numpy
and its submodules, math, ... and IPython's execution hooks) and returns two functions that the grader calls
through a side channel the notebook's own code never sees (a `user_expressions` request):

* `restore(grade_id)`, before each graded cell: puts every snapshot back, removes notebook globals that
  shadow a builtin, re-runs the instructor's definitions above that cell (imports and helper functions), and
  answers the secret token (followed by what it had to restore, for the feedback);
* `check()`, after each graded cell: answers the token if nothing protected changed while the tests ran,
  else "TAMPERED: <what>", and the grader voids the cell.

Only standard-library code: the kernel runs in the sandbox's student environment.
"""
import importlib
import sys
import types


def make_guard(token, protected, builtin_keep, definitions):
    """Snapshot the protected state of this kernel; return (restore, check).

    definitions: {grade_id: the instructor's code above that graded cell (imports and functions)}."""
    for name in protected:
        importlib.import_module(name)
    shell = get_ipython()  # noqa: F821 (the kernel's IPython shell)
    namespace = shell.user_ns
    modules = {name: module for name, module in sys.modules.items() if isinstance(module, types.ModuleType)
               and (name in protected or name.startswith("numpy."))}
    saved = {name: {k: v for k, v in vars(module).items() if not k.startswith("__")}
             for name, module in modules.items()}
    for kernel_set in ("input", "raw_input", "get_ipython", "display", "getpass", "_"):
        saved["builtins"].pop(kernel_set, None)
    classes = {c: dict(vars(c)) for c in (*type(shell).__mro__, *type(shell.kernel).__mro__) if c is not object}
    hooks = {"input_transformers_post": list(shell.input_transformers_post),
             "input_transformers_cleanup": list(shell.input_transformers_cleanup),
             "ast_transformers": list(shell.ast_transformers)}
    events = {event: list(callbacks) for event, callbacks in shell.events.callbacks.items()}
    shell_attributes = set(vars(shell))
    builtin_names = {k for k in saved["builtins"] if not k.startswith("_")} - set(builtin_keep)
    compiled = {gid: compile(code, "<tito: instructor definitions>", "exec") for gid, code in definitions.items()}

    def shadows_method(name):
        """An instance attribute of the shell that hides one of its methods."""
        return isinstance(getattr(type(shell), name, None), types.FunctionType)

    def changes():
        found = [f"{name}.{k}" for name, module in modules.items() for k, v in saved[name].items()
                 if sys.modules.get(name) is not module or vars(module).get(k, changes) is not v]
        found += [f"global {k} shadows a builtin" for k in builtin_names if k in namespace]
        found += [f"IPython {hook}" for hook, value in hooks.items() if getattr(shell, hook) != value]
        found += [f"IPython event {event}" for event, value in events.items()
                  if shell.events.callbacks.get(event) != value]
        found += [f"{c.__name__}.{k}" for c, members in classes.items() for k, v in members.items()
                  if vars(c).get(k, changes) is not v]
        found += [f"shell.{k}" for k in set(vars(shell)) - shell_attributes if shadows_method(k)]
        if sys.gettrace() or sys.getprofile():
            found.append("sys.settrace/setprofile")
        return found

    def restore(grade_id):
        # globals and event callbacks are put back without voiding anything: a student may do that honestly
        found = [f for f in changes() if not f.startswith(("global ", "IPython event"))]
        for name, module in modules.items():
            sys.modules[name] = module
            members = vars(module)
            for k, v in saved[name].items():
                if members.get(k, restore) is not v:
                    members[k] = v
        for k in builtin_names & set(namespace):
            del namespace[k]
        for hook, value in hooks.items():
            getattr(shell, hook)[:] = value
        for event, value in events.items():
            shell.events.callbacks[event] = list(value)
        for c, members in classes.items():
            for k, v in members.items():
                if vars(c).get(k, restore) is not v:
                    type.__setattr__(c, k, v)
        for k in set(vars(shell)) - shell_attributes:
            if shadows_method(k):
                delattr(shell, k)
        sys.settrace(None)
        sys.setprofile(None)
        exec(compiled.get(grade_id, compiled[None]), namespace)
        return token + "".join("|" + f for f in found[:5])

    def check():
        found = [f for f in changes() if not f.startswith("IPython event")]  # e.g. matplotlib's own hooks
        return token if not found else "TAMPERED: " + ", ".join(found[:5])

    return restore, check

