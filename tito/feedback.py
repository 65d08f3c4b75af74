"""`tito feedback NN`: the HTML feedback report of every graded submission, from the last `tito grade`.

A separate step, as in nbgrader: grading does not pay for it, and reports can be released after the deadline.
Reports are written by nbgrader to course/feedback/<student>/<assignment>/. The hidden tests' source is
removed from them unless --show-tests is given (their results and error messages stay).
"""
from rich.console import Console

from . import TitoError, registry
from .course import Course

console = Console(highlight=False)
HIDE_HIDDEN_TESTS = ["nbgrader.preprocessors.GetGrades", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
                     "nbgrader.preprocessors.ClearHiddenTests"]


def feedback(module, course: Course, show_tests=False) -> list:
    """Write the reports; return their paths."""
    graded = sorted(p.parent.parent.name for p in (course.root / "autograded").glob(f"*/{module.slug}/*.ipynb"))
    if not graded:
        raise TitoError(f"no graded submission of {module.slug} in {course.root}: run `tito grade "
                        f"{module.number}` first")
    config = course.nbgrader_config()
    if not show_tests:
        config.GenerateFeedback.preprocessors = HIDE_HIDDEN_TESTS
    result = course.nbgrader(config).generate_feedback(module.slug, force=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_feedback {module.slug} failed:\n{result['log'][-3000:]}")
    return [course.feedback(student, module) for student in graded]


def main(args) -> int:
    course = Course()
    reports = feedback(registry.find(args.module), course, args.show_tests)
    console.print(f"{len(reports)} feedback reports in {course.root / 'feedback'}"
                  + ("" if args.show_tests else " (hidden tests' source left out; --show-tests to include it)"))
    return 0
