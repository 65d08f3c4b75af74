"""Helpers for the book's code cells: tables, pictures and timings computed from the package itself.

Everything here runs when a page executes, so the book cannot drift from `tito/registry.py`, from the code
in `tinytorch/` or from the student notebooks: API text is read from the docstrings, graph pictures are drawn
from `show_graph`, code and figures come from the notebook's own cells (`from_notebook`), and a timing is a
median of repeats, checked by `sane` so that an absurd one fails the build.
"""
import ast
import html
import importlib
import inspect
import re
import statistics
import sys
import time
from collections import namedtuple

import nbformat
from IPython.display import HTML, Markdown

# Start-up speed: myst_nb imports nbformat, which imports jsonschema, which optionally imports `rfc3987_syntax`;
# that compiles ~40 lark grammars (about 5 s) for "iri" format checks that nothing here uses. Marked
# unavailable, jsonschema simply skips those checks. (book/conf.py does the same for the Sphinx process.)
sys.modules.setdefault("rfc3987_syntax", None)

from myst_nb import glue  # noqa: E402  (re-exported: the pages' `glue` is myst_nb's)

from .registry import MODULES, ROOT, find


# ------------------------------------------------------------------------------------------------ tables

def inline(text):
    """Docstring text as HTML: escaped, with `backtick` spans as <code>. No Markdown, so `__add__` stays."""
    parts = str(text).split("`")
    return "".join(f"<code>{html.escape(part)}</code>" if i % 2 else html.escape(part)
                    for i, part in enumerate(parts))


def html_table(header, rows, css_class="tt-table"):
    """An HTML table whose cells are already HTML. Each cell carries its column name (`data-label`), so
    that on a phone the stylesheet can stack a row into a card; the table scrolls sideways on its own."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td data-label="{html.escape(h)}">{cell}</td>'
                                    for h, cell in zip(header, row)) + "</tr>" for row in rows)
    return HTML(f'<div class="tt-scroll"><table class="table {css_class}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")


def modules_table():
    """Markdown table: every registry module, its package module, prerequisites and whether it is graded."""
    rows = ["| Module | Page | Package | Builds on | Graded |", "|---|---|---|---|---|"]
    for m in MODULES:
        prereq = ", ".join(m.prerequisites) or "—"
        rows.append(f"| {m.number} | [{m.title}](modules/{m.slug}.md) | `tinytorch.{m.export}` | {prereq} | "
                    f"{'yes' if m.graded else 'no'} |")
    return Markdown("\n".join(rows))


def module_info(number):
    """Markdown paragraph: the module's number, title, prerequisites and where a student finds it."""
    m = find(number)
    prereq = ", ".join(f"{p} {find(p).title}" for p in m.prerequisites) or "none"
    return Markdown(
        f"**Module {m.number}: {m.title}** · package `tinytorch.{m.export}` · prerequisites: {prereq} · "
        f"notebook `modules/{m.slug}/{m.notebook.name}`{' · graded' if m.graded else ''}")


# ---------------------------------------------------------------------------------------------- API text

def own_doc(obj):
    """The object's own docstring, never a base class's. A class without one is described by its own
    `forward` (the method that does its work), if that has a docstring."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        forward = obj.__dict__.get("forward")
        if not doc and forward is not None:
            doc = forward.__doc__
    else:
        doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc else ""


def summary(obj):
    """The first paragraph of the object's own docstring, on one line: whole sentences, however wrapped."""
    first = own_doc(obj).split("\n\n")[0]
    return " ".join(first.split())


def signature(obj):
    """The call signature, e.g. '(x, *shape)'. Exceptions without their own __init__ take BaseException's."""
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            return "(*args)"
        raise


def public_api(number_or_module):
    """(name, kind, signature, summary) for every name in the package module's __all__, in __all__ order."""
    if isinstance(number_or_module, str) and not number_or_module.startswith("tinytorch"):
        number_or_module = "tinytorch." + find(number_or_module).export
    module = importlib.import_module(number_or_module)
    rows = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or callable(obj):
            rows.append((name, "class" if inspect.isclass(obj) else "function", signature(obj), summary(obj)))
        else:
            size = f"{len(obj)} entries" if hasattr(obj, "__len__") else ""
            rows.append((name, type(obj).__name__, size, ""))
    return rows


def api_table(number_or_module, names=None, exclude=()):
    """Table of `public_api(...)`: every public name (or only `names`), minus `exclude`, in __all__ order."""
    rows = [(f"<code>{html.escape(name)}</code>", kind, f"<code>{html.escape(sig)}</code>", inline(text))
            for name, kind, sig, text in public_api(number_or_module)
            if (names is None or name in names) and name not in exclude]
    return html_table(("Name", "Kind", "Signature", "Summary"), rows, "tt-table tt-api")


# -------------------------------------------------------------------------------------------- pictures

def mermaid(source, caption=None):
    """A mermaid diagram on the page (drawn in the browser by the vendored mermaid), from its source text,
    e.g. `show_graph(y).mermaid()`. Rendered from a code cell, it is whatever the package draws today."""
    source = source.mermaid() if hasattr(source, "mermaid") else str(source)
    options = f":caption: {caption}\n" if caption else ""
    return Markdown(f"```{{mermaid}}\n:align: center\n{options}\n{source}\n```")


# ------------------------------------------------------------------------------------ the notebook's code

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def _code_cells(number):
    """(source, top-level statements) of each code cell of the module's student notebook."""
    notebook = nbformat.read(ROOT / find(number).notebook, as_version=4)
    return [(cell.source, ast.parse(cell.source).body) for cell in notebook.cells if cell.cell_type == "code"]


def _defined(statement):
    """The names a top-level statement defines (a def, a class, an assignment's plain names)."""
    if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        return {statement.name}
    targets = statement.targets if isinstance(statement, ast.Assign) else \
        [statement.target] if isinstance(statement, ast.AnnAssign) else []
    return {node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)}


def notebook_cells(number, *names):
    """The source of the student notebook's code cells that define `names` (at top level), in notebook order:
    a page shows or runs the notebook's own code, never a copy of it."""
    cells, found = [], set()
    for source, statements in _code_cells(number):
        defined = {name for s in statements for name in _defined(s)} & set(names)
        if defined:
            cells.append(source)
            found |= defined
    if set(names) - found:
        raise LookupError(f"the module {number} notebook defines no {sorted(set(names) - found)}")
    return cells


def from_notebook(number, *names):
    """Run the student notebook's cells that define `names` in a namespace like the notebook's own (the package
    module the notebook exports, and every module it imports at top level); return that namespace.

    Only cells made of definitions (imports, defs, classes, assignments) are run: a demo cell would run its
    demo here, so asking for a name it defines is an error."""
    namespace = dict(vars(importlib.import_module(f"tinytorch.{find(number).export}")))
    imports = [s for _, statements in _code_cells(number) for s in statements
               if isinstance(s, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(imports, type_ignores=[]), f"<module {number} notebook: imports>", "exec"), namespace)
    for source in notebook_cells(number, *names):
        doing = [s for s in ast.parse(source).body if not isinstance(s, _DEFINITIONS)]
        if doing:
            raise ValueError(f"the module {number} notebook cell defining {sorted(names)} does more than define "
                             f"(line {doing[0].lineno}: {ast.unparse(doing[0]).splitlines()[0]})")
        exec(source, namespace)
    return namespace


def glue_figure(name, picture, make_figure, *args):
    """Glue make_figure(*args), drawn by the notebook's `picture`, once per colour mode: `{name}_light` and
    `{name}_dark`. A page shows each with `{glue:figure}` and `:figclass: only-light tt-figure` (or
    `only-dark`), so the reader sees the drawing made for the page's colours."""
    for theme in ("light", "dark"):
        glue(f"{name}_{theme}", picture(make_figure, *args, theme=theme), display=False)


# ---------------------------------------------------------------------------------------------- timings

Pair = namedtuple("Pair", "first second ratio")


def paired_times(first, second, rounds, warmup=1):
    """Time `first()` and `second()` back to back, `rounds` times; return their median times (seconds) and the
    median of the per-round ratios second / first.

    On a shared, busy machine a single timing can be stretched many times over by the scheduler, and two
    functions timed apart meet different loads. Timed as a pair, both calls of a round see the same machine;
    the median over rounds then drops the rounds in which the scheduler interrupted one of them."""
    for _ in range(warmup):
        first(), second()
    times, ratios = ([], []), []
    for _ in range(rounds):
        start = time.perf_counter()
        first()
        middle = time.perf_counter()
        second()
        end = time.perf_counter()
        times[0].append(middle - start)
        times[1].append(end - middle)
        ratios.append((end - middle) / (middle - start))
    return Pair(statistics.median(times[0]), statistics.median(times[1]), statistics.median(ratios))


def sane(value, low, high, what):
    """`value`, if low <= value <= high; otherwise the build stops here instead of publishing it."""
    if not low <= value <= high:
        raise AssertionError(f"{what} = {value:.4g} is outside the plausible range [{low}, {high}]: "
                             "the machine was too busy or something is broken; not publishing it")
    return value
