"""tito: the tinytorch course tooling (export, release, check, test, grade, feedback, report, book, bench)."""


class TitoError(Exception):
    """A mistake of the user's (a missing folder, a wrong module name): printed as one line, no traceback."""
