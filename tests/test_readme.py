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
