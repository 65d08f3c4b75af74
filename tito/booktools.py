"""Helpers for the book's code cells: tables built from the registry and from the package itself.

Every table here is computed when the page executes, so the book cannot drift from `tito/registry.py` or
from the code in `tinytorch/`.
"""
import importlib
import inspect
import sys

from IPython.display import Markdown

# Start-up speed: myst_nb imports nbformat, which imports jsonschema, which optionally imports `rfc3987_syntax`;
# that compiles ~40 lark grammars (about 5 s) for "iri" format checks that nothing here uses. Marked
# unavailable, jsonschema simply skips those checks. (book/conf.py does the same for the Sphinx process.)
sys.modules.setdefault("rfc3987_syntax", None)

from myst_nb import glue  # noqa: E402  (re-exported: the pages' `glue` is myst_nb's)

from .registry import MODULES, find


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def modules_table():
    """Markdown table: every registry module, its package module, prerequisites and whether it is graded."""
    rows = ["| Module | Page | Package | Builds on | Graded |", "|---|---|---|---|---|"]
    for m in MODULES:
        prereq = ", ".join(m.prerequisites) or "—"
        rows.append(f"| {m.number} | [{m.title}](modules/{m.slug}.md) | `tinytorch.{m.export}` | {prereq} | "
                    f"{'yes' if m.graded else 'no'} |")
    return Markdown("\n".join(rows))


def module_info(number):
    """Markdown paragraph: the module's number, title, prerequisites and the files it lives in."""
    m = find(number)
    prereq = ", ".join(f"{p} {find(p).title}" for p in m.prerequisites) or "none"
    return Markdown(
        f"**Module {m.number}: {m.title}** · package `tinytorch.{m.export}` · prerequisites: {prereq} · "
        f"source `src/{m.slug}/{m.slug}.py` · notebook `modules/{m.slug}/{m.notebook.name}`"
        f"{' · graded' if m.graded else ''}")


def _first_line(obj):
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def public_api(number_or_module):
    """(name, kind, signature, summary) for every name in the package module's __all__, in __all__ order."""
    if isinstance(number_or_module, str) and not number_or_module.startswith("tinytorch"):
        number_or_module = "tinytorch." + find(number_or_module).export
    module = importlib.import_module(number_or_module)
    rows = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            kind = "class"
            sig = _signature(obj)
        elif callable(obj):
            kind = "function"
            sig = _signature(obj)
        else:
            kind = type(obj).__name__
            sig = f" ({len(obj)} entries)" if hasattr(obj, "__len__") else ""
        rows.append((name, kind, sig, _first_line(obj) if kind in ("class", "function") else ""))
    return rows


def api_table(number_or_module, names=None):
    """Markdown table of `public_api(...)`, optionally restricted to `names` (kept in __all__ order)."""
    rows = ["| Name | Kind | Signature | Summary |", "|---|---|---|---|"]
    for name, kind, sig, summary in public_api(number_or_module):
        if names is None or name in names:
            rows.append(f"| `{name}` | {kind} | `{_cell(sig)}` | {_cell(summary)} |")
    return Markdown("\n".join(rows))
