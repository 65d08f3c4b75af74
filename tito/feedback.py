"""`tito feedback NN`: the HTML feedback report of every graded submission, from the last `tito grade`.

A separate step, as in nbgrader: grading does not pay for it, and reports can be released after the deadline.
Reports are written by nbgrader to course/feedback/<student>/<assignment>/. The hidden tests' source is
removed from them unless --show-tests is given (their results and error messages stay).
"""
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from rich.console import Console

from . import TitoError, registry
from .complete import section_of
from .course import Course

console = Console(highlight=False)
TEMPLATES = Path(__file__).parent / "templates"   # tito_feedback: nbgrader's report, items named by exercise
STEPS = ["nbgrader.preprocessors.GetGrades", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
         "tito.feedback.NameExercises"]
# nbconvert's HTML priority less text/vnd.mermaid, which the report's template cannot draw (show_graph's text
# tree is shown instead)
DISPLAY_PRIORITY = ["application/vnd.jupyter.widget-view+json", "application/javascript", "text/html",
                    "text/markdown", "image/svg+xml", "text/latex", "image/png", "image/jpeg", "text/plain"]


class NameExercises(Preprocessor):
    """Gives each graded cell the title of the exercise it tests (its section's heading), for the report."""

    enabled = True

    def preprocess(self, nb, resources):
        for index, cell in enumerate(nb.cells):
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.metadata["tito"] = {"exercise": section_of(nb, index)}
        return nb, resources


def feedback(module, course: Course, show_tests=False) -> list:
    """Write the reports; return their paths."""
    graded = sorted(p.parent.parent.name for p in (course.root / "autograded").glob(f"*/{module.slug}/*.ipynb"))
    if not graded:
        raise TitoError(f"no graded submission of {module.slug} in {course.root}: run `tito grade "
                        f"{module.number}` first")
    config = course.nbgrader_config()
    config.GenerateFeedback.preprocessors = STEPS + ([] if show_tests else ["nbgrader.preprocessors.ClearHiddenTests"])
    config.HTMLExporter.template_name = "tito_feedback"
    config.HTMLExporter.template_file = "report.html.j2"
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(_nbgrader_templates())]
    config.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    # nbgrader's converter itself: its API would impose nbgrader's own template
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = module.slug
    converter = GenerateFeedback(coursedir=coursedir, config=config)
    converter.force = True
    converter.start()
    return [course.feedback(student, module) for student in graded]


def _nbgrader_templates() -> Path:
    import nbgrader

    return Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"


def main(args) -> int:
    course = Course()
    reports = feedback(registry.find(args.module), course, args.show_tests)
    console.print(f"{len(reports)} feedback reports in {course.root / 'feedback'}"
                  + ("" if args.show_tests else " (hidden tests' source left out; --show-tests to include it)"))
    return 0
