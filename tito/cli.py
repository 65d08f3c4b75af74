"""`tito`: the course's command line.

Students:     tito module complete NN   export YOUR notebook into the package and run its tests
              tito test [NN ...]        run modules' tests
              tito lab                  JupyterLab on the notebooks
Instructors:  tito release ...          student notebooks, the nbgrader course, a student repository
              tito grade NN             autograde a class's submissions, each in a sandbox
              tito feedback NN          HTML feedback reports from the last grading
              tito report NN            the class report: scores, exercises, failure messages (one HTML page)
Authors:      tito export | check | book | bench

A student repository (`tito release --student`) has no src/ and offers only the students' commands.
"""
import argparse
import subprocess
import sys

from rich.console import Console
from rich.table import Table

from . import registry
from . import TitoError
from .course import limits_help, statuses_help
from .registry import MODULES, ROOT

console = Console(highlight=False)
AUTHOR_TREE = (ROOT / "src").is_dir()   # the student repository has no src/ (and no instructor tools)


def _modules(keys, everything=False):
    if everything or not keys:
        return list(MODULES)
    return [registry.find(key) for key in keys]


def _run(command, **kwargs):
    return subprocess.run(command, cwd=ROOT, env=_env(), **kwargs).returncode


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _verdict(code):
    return "[green]pass[/green]" if code == 0 else f"[red]FAIL (exit {code})[/red]"


# ---------------------------------------------------------------------------------------- students
def cmd_module(args):
    from . import complete

    return complete.complete(registry.find(args.module))


def cmd_test(args):
    table = Table(title="tito test")
    columns = ("module", "script (inline tests)", "pytest") if AUTHOR_TREE else ("module", "pytest")
    for column in columns:
        table.add_column(column)
    failed = False
    for module in _modules(args.modules):
        tests = sorted((ROOT / module.test_file).parent.glob(f"test_{module.slug}*.py"))
        suite = _run([sys.executable, "-m", "pytest", "-q", *map(str, tests)]) if tests else None
        verdicts = [module.slug, "no tests" if suite is None else _verdict(suite)]
        failed |= suite not in (0, None)
        if AUTHOR_TREE:
            script = _run([sys.executable, str(ROOT / module.source)])
            failed |= script != 0
            verdicts.insert(1, _verdict(script))
        table.add_row(*verdicts)
    console.print(table)
    return 1 if failed else 0


def cmd_lab(args):
    import os

    root = ["--allow-root"] if os.geteuid() == 0 else []   # containers, CI: on purpose
    return _run([sys.executable, "-m", "jupyterlab", str(ROOT / "modules"), *root])


# ------------------------------------------------------------------------------------- instructors
def cmd_release(args):
    from . import release

    if args.student:
        from . import student

        out = student.make_student_repo(args.student)
        console.print(f"student repository written to {out}")
        return 0
    from .course import Course

    for path in release.release(_modules(args.modules, args.all), course=Course()):
        console.print(f"released {path.relative_to(ROOT)}")
    return 0


def cmd_grade(args):
    from . import grade

    return grade.main(args)


def cmd_feedback(args):
    from . import feedback

    return feedback.main(args)


def cmd_report(args):
    from . import report

    return report.main(args)


# ------------------------------------------------------------------------------------------ authors
def cmd_export(args):
    from . import export

    for module in _modules(args.modules, args.all):
        target = export.export_module(module)
        console.print(f"exported {module.source} -> {target.relative_to(ROOT)}")
    export.build_index()
    return 0


def cmd_check(args):
    from . import check

    problems = check.stale_files()
    if not problems:
        console.print("[green]tito check: every generated file is up to date[/green]")
        return 0
    console.print(f"[red]tito check: {len(problems)} generated file(s) differ from what src/ gives:[/red]")
    for path, why in problems:
        console.print(f"  {path}: {why}")
    console.print("Regenerate with `tito export --all && tito release --all` (never edit generated files).")
    return 1


def cmd_book(args):
    from . import book

    book.vendor()   # mermaid and MathJax from their pinned npm packages into book/_static/vendor/
    return _run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
                 str(book.BOOK), str(book.HTML)])


def cmd_bench(args):
    options = (["--quick"] if args.quick else []) + (["--json", args.json] if args.json else []) + \
        (["--threads", str(args.threads)] if args.threads else [])
    return _run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *options])


GRADE_EPILOG = f"""statuses (the `status` column of grades.csv, in priority order):
{statuses_help()}

Only changed submissions are graded again. Limits, from the environment:
{limits_help()}
  TITO_COURSE           the nbgrader course directory (default course/)
"""


def _student_commands(sub):
    m = sub.add_parser("module", help="export your notebook into the package and test it")
    msub = m.add_subparsers(dest="action", required=True)
    mc = msub.add_parser("complete", help="export your notebook into the package and run the module's tests")
    mc.add_argument("module", help="module number or name, e.g. 06")
    mc.set_defaults(func=cmd_module)

    t = sub.add_parser("test", help="run modules' tests (default: all)")
    t.add_argument("modules", nargs="*")
    t.set_defaults(func=cmd_test)

    lab = sub.add_parser("lab", help="JupyterLab on the module notebooks")
    lab.set_defaults(func=cmd_lab)


def _instructor_commands(sub):
    r = sub.add_parser("release", help="src/ -> student notebooks and the nbgrader course; or a student repository")
    r.add_argument("modules", nargs="*")
    r.add_argument("--all", action="store_true")
    r.add_argument("--student", metavar="OUT", help="write a self-contained student repository to OUT")
    r.set_defaults(func=cmd_release)

    g = sub.add_parser("grade", help="autograde submissions, each in a sandbox", epilog=GRADE_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    g.add_argument("module")
    g.add_argument("--submissions", metavar="DIR", help="folder of <student>/<assignment>/<notebook>.ipynb "
                                                        "(default: course/submitted)")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, default=1, help="grade N at once on a local Dask cluster")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    g.add_argument("--output", metavar="CSV", help="where to write grades.csv (default: course/grades.csv)")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run kernels unsandboxed, as you (only for notebooks you trust)")
    g.set_defaults(func=cmd_grade)

    f = sub.add_parser("feedback", help="HTML feedback reports of the graded submissions")
    f.add_argument("module")
    f.add_argument("--show-tests", action="store_true", help="include the hidden tests' source in the reports")
    f.set_defaults(func=cmd_feedback)

    rp = sub.add_parser("report", help="the class report of the last grading: one HTML page and a summary")
    rp.add_argument("module")
    rp.add_argument("--grades", metavar="CSV", help="the grades.csv to report on (default: course/grades.csv)")
    rp.add_argument("--output", metavar="HTML", help="where to write the page (default: course/report/NN_name.html)")
    rp.set_defaults(func=cmd_report)


def _author_commands(sub):
    e = sub.add_parser("export", help="src/ -> tinytorch/core/*.py")
    e.add_argument("modules", nargs="*", help="module numbers or names (default: all)")
    e.add_argument("--all", action="store_true")
    e.set_defaults(func=cmd_export)

    c = sub.add_parser("check", help="fail when generated files are stale or hand-edited")
    c.set_defaults(func=cmd_check)

    b = sub.add_parser("book", help="build the book into book/_build/html")
    b.set_defaults(func=cmd_book)

    bench = sub.add_parser("bench", help="run the benchmark suite (benchmarks/run.py)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes and repeats: check that every row works")
    bench.add_argument("--json", metavar="FILE", help="where to write the figures")
    bench.add_argument("--threads", type=int, metavar="N", help="BLAS threads (1: steadier figures on a busy machine)")
    bench.set_defaults(func=cmd_bench)


def parser(author_tree=AUTHOR_TREE):
    description = __doc__ if author_tree else "tito: your course's commands (the notebooks are in modules/)."
    p = argparse.ArgumentParser(prog="tito", description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    _student_commands(sub)
    if author_tree:
        _instructor_commands(sub)
        _author_commands(sub)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except TitoError as error:   # the user's mistake: one line; anything else is a bug and keeps its traceback
        console.print(f"[red]tito {args.command}: {error}[/red]")
        return 2


if __name__ == "__main__":
    sys.exit(main())
