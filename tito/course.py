"""The nbgrader course an instructor releases and grades: where it lives, its grading limits, its statuses.

Every command that touches the course (release, grade, feedback, report) goes through `Course`, so the
directory (`TITO_COURSE`), the limits and the list of statuses each have one owner. The CLI's help and the
README's tables are generated from, or checked against, the tuples below.
"""
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import TitoError
from .registry import ROOT


@dataclass(frozen=True)
class Limit:
    name: str
    variable: str
    default: int
    meaning: str


LIMITS = (
    Limit("cell_timeout", "TITO_CELL_TIMEOUT", 60, "seconds a cell may run before it is interrupted"),
    Limit("notebook_timeout", "TITO_NOTEBOOK_TIMEOUT", 600, "seconds a whole notebook may run (wall clock; also "
                                                             "its CPU time)"),
    Limit("memory", "TITO_MEMORY_LIMIT", 4096, "MiB of address space per process in the sandbox"),
    Limit("processes", "TITO_PROCESS_LIMIT", 64, "processes and threads per sandbox"),
    Limit("disk", "TITO_DISK_LIMIT", 256, "MiB the sandbox may write in its home, and as much in its /tmp (also the largest file)"),
)


@dataclass(frozen=True)
class Status:
    name: str
    meaning: str


# In priority order: when several things happened to one submission, its row shows the first.
STATUSES = (
    Status("missing", "no notebook of the expected name (missing or renamed): 0 points"),
    Status("invalid-json", "the file is not a notebook: 0 points"),
    Status("error", "the grader itself failed on this submission (see `detail`; retried on the next run)"),
    Status("memory", "a cell hit the memory limit (MemoryError); the rest was graded"),
    Status("crashed", "the kernel died (os._exit, a segfault, a kill); cells after the crash score 0"),
    Status("timeout", "a cell, or the whole notebook, ran out of time; the cells that ran were graded"),
    Status("tampered", "the code rebound numpy/builtins/IPython hooks or redefined a helper: the grader "
                       "restored them before each test and voided any test that saw them changed"),
    Status("duplicate", "a graded or solution cell was pasted twice (same grade_id): graded once, the last copy"),
    Status("restored", "a locked test cell was edited or deleted; the original was put back and graded"),
    Status("ok", "graded normally"),
)
STATUS_NAMES = tuple(status.name for status in STATUSES)
# The statuses of a row whose notebook never ran: its cells say nothing about the exercises.
NOT_RUN = ("missing", "invalid-json", "error")


def default(name: str) -> int:
    """A limit's default value."""
    return next(limit.default for limit in LIMITS if limit.name == name)


def limits_help() -> str:
    """The limits as the CLI's help lists them."""
    return "\n".join(f"  {limit.variable:22s}{limit.meaning} (default {limit.default})" for limit in LIMITS)


def statuses_help() -> str:
    return "\n".join(f"  {status.name:13s}{status.meaning}" for status in STATUSES)


class Course:
    """An nbgrader course directory (default: course/ in the repository, or $TITO_COURSE)."""

    def __init__(self, root=None):
        self.root = Path(root or os.environ.get("TITO_COURSE") or ROOT / "course").resolve()

    def __repr__(self):
        return f"Course({str(self.root)!r})"

    @property
    def limits(self) -> dict:
        """{limit name: value}, from the environment or the defaults."""
        values = {}
        for limit in LIMITS:
            text = os.environ.get(limit.variable, str(limit.default))
            try:
                values[limit.name] = int(text)
            except ValueError:
                raise TitoError(f"{limit.variable}={text!r}: expected a whole number ({limit.meaning})") from None
            if values[limit.name] <= 0:
                raise TitoError(f"{limit.variable}={text!r}: must be positive ({limit.meaning})")
        return values

    def source(self, module) -> Path:
        return self.root / "source" / module.slug / module.notebook.name

    def release(self, module) -> Path:
        return self.root / "release" / module.slug / module.notebook.name

    def submitted(self, student, module) -> Path:
        return self.root / "submitted" / student / module.slug / module.notebook.name

    def autograded(self, student, module) -> Path:
        return self.root / "autograded" / student / module.slug / module.notebook.name

    def feedback(self, student, module) -> Path:
        return self.root / "feedback" / student / module.slug / module.notebook.with_suffix(".html").name

    def report(self, module) -> Path:
        """The class report `tito report` writes."""
        return self.root / "report" / f"{module.slug}.html"

    def records(self, module) -> Path:
        """Where `tito grade` keeps one record per graded student (what it graded, and the row)."""
        return self.root / "autograded" / ".tito" / module.slug

    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    def nbgrader_config(self):
        """The course's nbgrader configuration (course/nbgrader_config.py), its root set to this directory."""
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        config.CourseDirectory.root = str(self.root)
        return config

    def nbgrader(self, config=None):
        """nbgrader's Python API for this course (imported late: nbgrader is slow to import)."""
        # nbgrader runs `alembic` to create the gradebook: make this environment's scripts findable.
        os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
        from nbgrader.apps import NbGraderAPI

        return NbGraderAPI(config=config or self.nbgrader_config())
