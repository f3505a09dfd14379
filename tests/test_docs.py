"""Docs stay true to the code, one documented item per test: each command of `portail`
(docs/cli.md is generated from the parsers), each key of commune.toml, each CSV column,
each environment variable, each route of the function."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from typing import get_type_hints

import pytest
from chalicelib.config import Commune

from portail import cli_docs
from tests.conftest import ROOT

DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
COMMANDS = cli_docs.commands()
ARRAYS = ("services", "quotient_brackets", "family_documents")  # the [[...]] sections of commune.toml


def _section(text: str, heading: str) -> str:
    """The text under `heading`, up to the next level-2 heading."""
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


# --- docs/cli.md ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["portail", *COMMANDS])
def test_docs_cli_shows_what_the_parser_says(name):
    text = CLI_DOC.read_text(encoding="utf-8")
    heading = "## Commands" if name == "portail" else f"## `{name}`"
    assert heading in text, f"docs/cli.md has no section « {heading} »"
    documented = cli_docs.blocks(_section(text, heading)).get(name)
    regenerate = f"regenerate it: .venv/bin/{cli_docs.REGENERATE} (make docs)"
    assert documented is not None, f"docs/cli.md: no block for « {name} » in its section; {regenerate}"
    assert documented == cli_docs.render(name), (
        f"docs/cli.md: the block of « {name} » differs from its parser; {regenerate}")


@pytest.mark.parametrize("name", list(cli_docs.blocks(CLI_DOC.read_text(encoding="utf-8"))))
def test_each_block_of_docs_cli_names_a_command(name):
    assert name == "portail" or name in COMMANDS, f"docs/cli.md documents « {name} », which no longer exists"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_its_french_help(name):
    for action in COMMANDS[name]._actions:
        if not isinstance(action, argparse._HelpAction):
            assert action.help and action.help.strip(), f"{name} {action.option_strings or action.dest}: no help"


def test_the_generator_names_the_command_that_drifted(tmp_path):
    """What the test above relies on: a changed option shows in that command's block only."""
    text = CLI_DOC.read_text(encoding="utf-8")
    drifted = text.replace("| `--late` |", "| `--tard` |", 1)
    assert drifted != text
    assert cli_docs.stale(drifted) == ["portail plannings import"]
    assert cli_docs.regenerate(drifted) == (text, [])
    assert cli_docs.stale(text) == []


def test_a_new_command_gets_a_section_to_explain():
    text = CLI_DOC.read_text(encoding="utf-8")
    name = "portail headcount"
    whole = cli_docs.block(name)
    without = text.replace(whole, "", 1)
    assert cli_docs.stale(without) == [name]
    regenerated, added = cli_docs.regenerate(without)
    assert added == [name] and cli_docs.stale(regenerated) == []
    assert regenerated.endswith(f"\n## `{name}`\n\nLes enfants attendus par service un jour donné, et la liste "
                                f"d'attente.\n\n{whole}\n")


# --- docs/configuration.md ----------------------------------------------------------------

def _configuration_keys() -> list[tuple[str, str]]:
    keys = []
    for section, model in get_type_hints(Commune).items():
        if section in ARRAYS:
            model = model.__args__[0]  # list[Service] → Service
        keys.extend((section, field.name) for field in dataclasses.fields(model))
    return keys


@pytest.mark.parametrize(("section", "key"), _configuration_keys(), ids=lambda value: value)
def test_every_configuration_key_is_in_docs_configuration(section, key):
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    heading = f"`[[{section}]]`" if section in ARRAYS else f"`[{section}]`"
    assert heading in text, f"docs/configuration.md has no section {heading}"
    assert f"| `{key}` |" in _section(text, heading), f"{section}.{key} is not documented"


# --- docs/import.md -------------------------------------------------------------------------

def _csv_columns() -> list[str]:
    from portail.importer import CHILD_COLUMNS, FAMILY_COLUMNS, RESPONSABLE_COLUMNS

    return list(dict.fromkeys([*FAMILY_COLUMNS, *RESPONSABLE_COLUMNS, *CHILD_COLUMNS]))  # numero_famille once


@pytest.mark.parametrize("column", _csv_columns())
def test_every_csv_column_is_in_docs_import(column):
    assert re.search(rf"`{column}`", (DOCS / "import.md").read_text(encoding="utf-8")), column


# --- docs/environment.md --------------------------------------------------------------------

def _environment_variables() -> list[str]:
    used = set()
    for folder in ("functions", "portail"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"PORTAIL_[A-Z_]+", path.read_text(encoding="utf-8")))
    return sorted(used)


def test_the_code_reads_environment_variables():
    assert "PORTAIL_TABLE" in _environment_variables()  # the scan below finds them


@pytest.mark.parametrize("name", _environment_variables())
def test_every_environment_variable_is_in_docs_environment(name):
    assert f"`{name}`" in (DOCS / "environment.md").read_text(encoding="utf-8"), f"{name} is not documented"


# --- the function's routes ---------------------------------------------------------------

def _routes() -> list[str]:
    from app import app

    return [f"{method} {path}" for path, methods in app.routes.items() for method in methods]


def _route_pattern(route: str) -> re.Pattern:
    """`POST /api/messages/{message_id}/read` as docs write it: `{id}` or `<id>` alike."""
    parts = re.split(r"\{[^}]+\}", route)
    return re.compile(r"[{<][^}>]+[}>]".join(re.escape(part) for part in parts) + r"(?![\w/])")


@pytest.mark.parametrize("route", _routes())
def test_every_route_of_the_function_is_in_the_docs(route):
    docs = "\n".join(path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md")))
    assert _route_pattern(route).search(docs), f"« {route} » is in no file of docs/"
    contract = (DOCS / "http-api.md").read_text(encoding="utf-8")
    assert _route_pattern(route).search(contract), f"« {route} » is missing from docs/http-api.md's list of routes"


@pytest.mark.parametrize("document", sorted(path.name for path in DOCS.glob("*.md")))
def test_every_document_is_listed_in_the_readme(document):
    assert f"`docs/{document}`" in (ROOT / "README.md").read_text(encoding="utf-8"), \
        f"docs/{document} is not in the README's table of documents"


def _repository_texts():
    for pattern in ("functions/**/*.py", "functions/**/*.html", "portail/*.py", "site/**/*.py", "site/**/*.html",
                    "tests/**/*.py", "bench/*.py", "docs/*.md", "README.md", "Makefile"):
        yield from (path for path in ROOT.glob(pattern) if ".venv" not in path.parts)


def test_the_repository_cites_only_its_own_documents():
    """A clone holds no design document outside it, and « issue N » means nothing to a
    reader: code and docs cite docs/, and every docs/ file they cite exists."""
    # Bracketed so that this file does not itself read as such a citation.
    foreign = re.compile(r"DESIGN[ ]§|DESIGN[.]md|[.][.]/shared|\b[Ii]ssues? #?[0-9]+\b")
    cited = re.compile(r"docs/([a-z0-9-]+\.md)")
    problems = []
    for path in _repository_texts():
        if path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{path.relative_to(ROOT)}:{number}"
            problems += [f"{where}: « {m.group(0)} »" for m in foreign.finditer(line)]
            problems += [f"{where}: docs/{m.group(1)} does not exist" for m in cited.finditer(line)
                         if not (DOCS / m.group(1)).is_file()]
    assert not problems, "\n".join(problems)


def test_readme_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    head = "\n".join(lines[:8])
    assert "make run" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()
