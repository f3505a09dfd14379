"""Docs stay true to the code: every option and every configuration key is documented."""

from __future__ import annotations

import argparse
import re

from chalicelib.config import Commune

from portail.cli import parser
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def _subcommands(command=None, prefix: str = "") -> dict:
    """{name: parser} of every command; nested ones named « requests list »."""
    command = command or parser()
    action = next(a for a in command._actions if isinstance(a, argparse._SubParsersAction))
    found = {}
    for name, sub in action.choices.items():
        if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
            found.update(_subcommands(sub, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = sub
    return found


def test_every_command_and_option_is_in_docs_cli():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name, sub in _subcommands().items():
        assert f"## `portail {name}`" in text, name
        section = text.split(f"## `portail {name}`", 1)[1].split("\n## ", 1)[0]
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            names = action.option_strings or [action.dest]
            for option in names:
                assert f"`{option}" in section, f"portail {name} {option} is not documented"


def test_every_configuration_key_is_in_docs_configuration():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for section, model in Commune.model_fields.items():
        heading = f"`[[{section}]]`" if section in ("services", "quotient_brackets") else f"`[{section}]`"
        assert heading in text, section
        part = text.split(heading, 1)[1].split("\n## ", 1)[0]
        inner = model.annotation
        inner = getattr(inner, "__args__", (inner,))[0] if section in ("services", "quotient_brackets") else inner
        for key in inner.model_fields:
            assert f"| `{key}` |" in part, f"{section}.{key} is not documented"


def test_every_csv_column_is_in_docs_import():
    from portail.importer import CHILD_COLUMNS, FAMILY_COLUMNS, RESPONSABLE_COLUMNS

    text = (DOCS / "import.md").read_text(encoding="utf-8")
    for columns in (FAMILY_COLUMNS, RESPONSABLE_COLUMNS, CHILD_COLUMNS):
        for column in columns:
            assert re.search(rf"`{column}`", text), column


def test_readme_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    head = "\n".join(lines[:8])
    assert "make run" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_environment_variable_is_in_docs_environment():
    import re as regex

    text = (DOCS / "environment.md").read_text(encoding="utf-8")
    used = set()
    for folder in ("functions", "portail"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(regex.findall(r"PORTAIL_[A-Z_]+", path.read_text(encoding="utf-8")))
    assert used
    for name in sorted(used):
        assert f"`{name}`" in text, f"{name} is not documented"
