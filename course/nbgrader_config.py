"""nbgrader configuration of the tinytorch course (the course directory is this folder).

`tito release` fills source/ and release/; `tito grade` fills submitted/, autograded/, feedback/ and the
gradebook. All of those are generated and ignored by git.

Grading limits come from the environment (see `tito grade --help`):
    TITO_CELL_TIMEOUT   seconds a cell may run before it is interrupted (default 60)
    TITO_MEMORY_LIMIT   MiB of address space per grading kernel (default 4096)
"""
import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root, for tito.autograde

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "tinytorch"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Locked cells a student deleted are put back from the gradebook (edited ones are always overwritten).
c.OverwriteCells.add_missing_cells = True

# Execution: tito.autograde.GuardedExecute is nbgrader's Execute plus a per-kernel memory limit,
# crash handling and the tamper guard; the other preprocessors are nbgrader's defaults.
c.Autograde.autograde_preprocessors = [
    "tito.autograde.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Execute.timeout = int(os.environ.get("TITO_CELL_TIMEOUT", "60"))
c.Execute.interrupt_on_timeout = True
