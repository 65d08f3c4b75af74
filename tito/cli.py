"""`tito`: the course's command line.

    tito export [NN ...|--all]      src/ -> tinytorch/core/*.py (nbdev)
    tito release [NN ...|--all]     src/ -> modules/NN_name/name.ipynb (nbgrader), or a student repository
    tito check                      fail when a generated file is stale or was edited by hand
    tito test [NN ...]              run each module as a script, then its pytest suite
    tito module complete NN         export YOUR notebook into the package and run its tests
    tito grade NN                   autograde a class's submissions (nbgrader)
    tito book                       build the book
    tito bench                      run the benchmarks
"""
import argparse
import subprocess
import sys

from rich.console import Console
from rich.table import Table

from . import registry
from .registry import MODULES, ROOT

console = Console(highlight=False)


def _modules(keys, everything):
    if everything or not keys:
        return list(MODULES)
    return [registry.find(key) for key in keys]


def cmd_export(args):
    from . import export

    for module in _modules(args.modules, args.all):
        target = export.export_module(module)
        console.print(f"exported {module.source.relative_to(ROOT)} -> {target.relative_to(ROOT)}")
    export.build_index()
    return 0


def cmd_release(args):
    from . import release

    if args.student:
        from . import student

        out = student.make_student_repo(args.student)
        console.print(f"student repository written to {out}")
        return 0
    for path in release.release(_modules(args.modules, args.all)):
        console.print(f"released {path.relative_to(ROOT)}")
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


def _run(command, **kwargs):
    return subprocess.run(command, cwd=ROOT, env=_env(), **kwargs).returncode


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def cmd_test(args):
    table = Table(title="tito test")
    for column in ("module", "script (inline tests)", "pytest"):
        table.add_column(column)
    failed = False
    for module in _modules(args.modules, False):
        script = _run([sys.executable, str(module.source)])
        tests = sorted(module.test_file.parent.glob(f"test_{module.slug}*.py"))
        suite = _run([sys.executable, "-m", "pytest", "-q", *map(str, tests)]) if tests else None
        failed |= script != 0 or (suite not in (0, None))
        table.add_row(module.slug, _verdict(script), "no tests" if suite is None else _verdict(suite))
    console.print(table)
    return 1 if failed else 0


def _verdict(code):
    return "[green]pass[/green]" if code == 0 else f"[red]FAIL (exit {code})[/red]"


def cmd_module(args):
    from . import student

    return student.complete(registry.find(args.module))


def cmd_grade(args):
    from . import grade

    return grade.main(args)


def cmd_book(args):
    from . import book

    book.vendor()   # mermaid and MathJax from their pinned npm packages into book/_static/vendor/
    return _run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
                 str(book.BOOK), str(book.HTML)])


def cmd_bench(args):
    return _run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *args.bench_args])


GRADE_EPILOG = """status: ok, restored, missing, invalid-json, timeout, memory, crashed, tampered, error
(see the README's Instructors section). Only changed submissions are graded again.

environment:
  TITO_CELL_TIMEOUT   seconds a cell may run before it is interrupted (default 60)
  TITO_MEMORY_LIMIT   MiB of address space per grading kernel (default 4096)
  TITO_COURSE         the nbgrader course directory (default course/)
"""


def parser():
    p = argparse.ArgumentParser(prog="tito", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="src/ -> tinytorch/core/*.py")
    e.add_argument("modules", nargs="*", help="module numbers or names (default: all)")
    e.add_argument("--all", action="store_true")
    e.set_defaults(func=cmd_export)

    r = sub.add_parser("release", help="src/ -> student notebooks in modules/")
    r.add_argument("modules", nargs="*")
    r.add_argument("--all", action="store_true")
    r.add_argument("--student", metavar="OUT", help="write a self-contained student repository to OUT")
    r.set_defaults(func=cmd_release)

    c = sub.add_parser("check", help="fail when generated files are stale or hand-edited")
    c.set_defaults(func=cmd_check)

    t = sub.add_parser("test", help="run modules as scripts and their pytest suites")
    t.add_argument("modules", nargs="*")
    t.set_defaults(func=cmd_test)

    m = sub.add_parser("module", help="student commands")
    msub = m.add_subparsers(dest="action", required=True)
    mc = msub.add_parser("complete", help="export your notebook into the package and test it")
    mc.add_argument("module")
    mc.set_defaults(func=cmd_module)

    g = sub.add_parser("grade", help="autograde submissions with nbgrader", epilog=GRADE_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    g.add_argument("module")
    g.add_argument("--submissions", metavar="DIR", help="folder of <student>/<assignment>/<notebook>.ipynb")
    g.add_argument("--jobs", type=int, default=1)
    g.add_argument("--output", metavar="CSV", help="where to write grades.csv (default: course/grades.csv)")
    g.set_defaults(func=cmd_grade)

    b = sub.add_parser("book", help="build the book into book/_build/html")
    b.set_defaults(func=cmd_book)

    bench = sub.add_parser("bench", help="run the benchmark suite")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:   # everything after `bench` belongs to benchmarks/run.py (argparse's REMAINDER
        return cmd_bench(argparse.Namespace(bench_args=argv[1:]))   # would reject a leading --option)
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, RuntimeError) as error:
        console.print(f"[red]tito {args.command}: {error}[/red]")
        return 2


if __name__ == "__main__":
    sys.exit(main())
