"""Keep the README honest: every setting and command is documented, the commands are real."""

from __future__ import annotations

import re
from pathlib import Path

from beraad.cli import COMMANDS
from beraad.config import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_environment_variable_is_in_the_configuration_table():
    for name in ENVIRONMENT_VARIABLES:
        assert f"| `{name}` |" in README, f"{name} is missing from the README's configuration table"


def test_every_variable_the_code_reads_is_declared():
    read = set()
    for path in (ROOT / "beraad").rglob("*.py"):
        # The process environment (a WSGI `environ` holds the request, not configuration).
        read |= set(re.findall(r"os\.(?:environ\.get|getenv)\(\s*\"([A-Z_]+)\"", path.read_text()))
        read |= set(re.findall(r"os\.environ\[\"([A-Z_]+)\"\]", path.read_text()))
        read |= set(re.findall(r"envvar=\"([A-Z_]+)\"", path.read_text()))
    undeclared = read - set(ENVIRONMENT_VARIABLES) - {"BERAAD_NEW_USER_PASSWORD"}
    assert not undeclared


def test_every_command_is_in_the_cli_reference():
    for command in COMMANDS:
        assert f"| `beraad {command.name}" in README, f"beraad {command.name} is not documented"


def test_readme_gives_one_run_and_one_test_command_that_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text()
    assert "```sh\nmake run\n```" in README and "```sh\nmake test\n```" in README
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
