"""Every command the README shows exists: tito commands parse, make targets are defined.

(CI runs `make test` and `make course`; the pipeline, student and grading tests run the tito commands.)
"""
import re
import shlex

import pytest

from tito.cli import parser
from tito.registry import ROOT

README = (ROOT / "README.md").read_text()
COMMANDS = [line.split("#")[0].strip() for line in README.splitlines()
            if re.match(r"^    (tito|make) ", line)]


def test_readme_shows_the_two_commands():
    assert "make course" in COMMANDS and "make test" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_exists(command):
    words = shlex.split(command)
    if words[0] == "make":
        targets = re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.MULTILINE)
        assert words[1] in targets, f"Makefile has no target {words[1]!r}"
    else:
        parser().parse_args(words[1:])  # exits (SystemExit) on an unknown command or option


def test_make_lab_starts_jupyterlab_on_the_modules():
    """`make lab` (a long-running server): start it, wait for its URL, stop it."""
    import os
    import signal
    import subprocess
    import time

    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("make lab runs from .venv (created by `make course` / `make test`)")
    env = {**os.environ, "BROWSER": "true", "JUPYTER_PLATFORM_DIRS": "1"}
    server = subprocess.Popen(["make", "-s", "lab"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env, start_new_session=True)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            seen.append(line)
            if "http://127.0.0.1:" in line and "/lab" in line or not line and server.poll() is not None:
                break
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert any("http://127.0.0.1:" in line for line in seen), "".join(seen[-20:])
    assert any("modules" in line for line in seen), "JupyterLab should serve the modules/ folder"


def _table_rows(first_column_header):
    """The rows of the README table whose header starts with `first_column_header`, as lists of cells."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split(" | ")])
    return rows


def test_readme_statuses_are_the_graders():
    from tito.course import STATUSES

    assert _table_rows("status") == [[s.name, s.meaning] for s in STATUSES]


def test_readme_limits_are_the_graders():
    from tito.course import LIMITS

    assert _table_rows("variable") == [[lim.variable, str(lim.default), lim.meaning] for lim in LIMITS]
