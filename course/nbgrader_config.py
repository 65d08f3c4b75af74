"""nbgrader configuration of the tinytorch course (the course directory is this folder).

`tito release` fills source/ and release/; `tito grade` fills submitted/, autograded/ and the gradebook;
`tito feedback` fills feedback/. All of those are generated and ignored by git.

Grading limits come from the environment (see `tito grade --help`, or tito/course.py).
"""
import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root, for tito

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "tinytorch"
from tito.source import STUB  # noqa: E402

c.ClearSolutions.code_stub = {"python": "\n".join(STUB)}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Locked cells a student deleted are put back from the gradebook (edited ones are always overwritten).
c.OverwriteCells.add_missing_cells = True

# `tito grade` runs nbgrader's preprocessors itself and executes notebooks in sandboxes. Should anyone run
# `nbgrader autograde` or the formgrader's autograde button instead, their kernels are sandboxed the same way:
# tito.autograde.SandboxedExecute is nbgrader's Execute with the kernel in a bubblewrap sandbox, crash handling
# and the tamper guard.
c.Autograde.autograde_preprocessors = [
    "tito.autograde.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
