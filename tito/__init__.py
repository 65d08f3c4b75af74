"""tito: the tinytorch course tooling (export, release, check, test, grade, book, bench)."""
