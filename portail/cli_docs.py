"""docs/cli.md's generated blocks: each command's usage and options, from its own parser.

    python -m portail.cli_docs            rewrites the blocks of docs/cli.md (`make docs`)
    python -m portail.cli_docs --check    names the commands whose block differs (status 1)

As Datasette's docs do with cog: the prose of docs/cli.md is written by hand, and
between `<!-- cli-docs: portail X -->` and `<!-- /cli-docs -->` lies what the parser of
`portail X` says (its usage line and its options with their French help), so the
reference cannot drift from the code (tests/test_docs.py fails when it does). A command
without a block gets a new section at the end of the file, to be moved and explained.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
REGENERATE = "python -m portail.cli_docs"
BLOCK = re.compile(r"<!-- cli-docs: (?P<name>[^>]+?) -->\n(?P<body>.*?)<!-- /cli-docs -->", re.S)
USAGE_WIDTH = 88  # fixed: the terminal's width must not change the docs


def _subparsers(command: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in command._actions if isinstance(a, argparse._SubParsersAction)), None)


def commands(root: argparse.ArgumentParser | None = None) -> dict[str, argparse.ArgumentParser]:
    """{"portail requests accept": parser, ...}: every command that runs something, in the
    order `portail --help` lists them, nested ones by their full name."""
    if root is None:
        from portail.cli import parser

        root = parser()
    found = {}
    for sub in _subparsers(root).choices.values():
        if _subparsers(sub):
            found.update(commands(sub))
        else:
            found[sub.prog] = sub
    return found


def help_of(name: str, root: argparse.ArgumentParser) -> str:
    """The help line `portail --help` (or its group's) gives the command `name`."""
    *groups, last = name.split()[1:]
    parent = root
    for word in groups:
        parent = _subparsers(parent).choices[word]
    return next(choice.help for choice in _subparsers(parent)._choices_actions if choice.dest == last)


def _option(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    if action.nargs == 0:
        return ", ".join(f"`{option}`" for option in action.option_strings)
    metavar = action.metavar or action.dest.upper()
    return ", ".join(f"`{option} {metavar}`" for option in action.option_strings)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _usage(command: argparse.ArgumentParser) -> str:
    command.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=USAGE_WIDTH)
    return command.format_usage().strip()


def render(name: str, root: argparse.ArgumentParser | None = None) -> str:
    """The generated text of `name`'s block: for `portail`, the list of its commands; for
    a command, its usage and a table of its arguments."""
    if root is None:
        from portail.cli import parser

        root = parser()
    if name == root.prog:
        rows = [f"| `{full_name}` | {_cell(help_of(full_name, root))} |" for full_name in commands(root)]
        return "\n".join(["```text", _usage(root), "```", "", "| command | what it does |", "|---|---|", *rows, "", ""])
    command = commands(root)[name]
    rows = []
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        help_text = _cell(action.help or "")
        if action.required and action.option_strings:
            help_text += " (obligatoire)"
        rows.append(f"| {_option(action)} | {help_text} |")
    return "\n".join(["```text", _usage(command), "```", "", "| option | help |", "|---|---|", *rows, "", ""])


def blocks(text: str) -> dict[str, str]:
    """{name: body} of the generated blocks of a document."""
    return {match["name"]: match["body"] for match in BLOCK.finditer(text)}


def block(name: str, root: argparse.ArgumentParser | None = None) -> str:
    """The whole block of `name`, markers included."""
    return f"<!-- cli-docs: {name} -->\n{render(name, root)}<!-- /cli-docs -->"


def regenerate(text: str) -> tuple[str, list[str]]:
    """`text` with every block rendered again from the parsers, and a section added at the
    end for each command that had none; returns the names of those commands too."""
    from portail.cli import parser

    root = parser()
    text = BLOCK.sub(lambda match: block(match["name"], root), text)
    present = blocks(text)
    added = [name for name in [root.prog, *commands(root)] if name not in present]
    for name in added:
        if name == root.prog:
            section = f"## Commands\n\n{block(name, root)}"
        else:
            section = f"## `{name}`\n\n{help_of(name, root).capitalize()}.\n\n{block(name, root)}"
        text = text.rstrip("\n") + f"\n\n{section}\n"
    return text, added


def stale(text: str) -> list[str]:
    """The names of the commands whose block is missing or differs from their parser, and
    of the blocks that name no command."""
    from portail.cli import parser

    root = parser()
    found = blocks(text)
    expected = [root.prog, *commands(root)]
    differs = [name for name in expected if found.get(name) != render(name, root)]
    return differs + [name for name in found if name not in expected]


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(
        prog="python -m portail.cli_docs",
        description="Régénère les blocs de docs/cli.md à partir des commandes de portail.")
    arguments.add_argument("--check", action="store_true",
                           help="ne modifie rien : nomme les commandes dont le bloc diffère (statut 1)")
    args = arguments.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    if args.check:
        differs = stale(text)
        for name in differs:
            print(f"docs/cli.md : le bloc de « {name} » ne correspond pas à la commande", file=sys.stderr)
        if differs:
            print(f"Régénérez-les : {REGENERATE}", file=sys.stderr)
        return 1 if differs else 0
    updated, added = regenerate(text)
    if updated != text:
        DOC.write_text(updated, encoding="utf-8")
    for name in added:
        print(f"docs/cli.md : section ajoutée à la fin pour « {name} » : déplacez-la et décrivez la commande.")
    unknown = stale(updated)
    for name in unknown:
        print(f"docs/cli.md : le bloc « {name} » ne nomme aucune commande : retirez-le.", file=sys.stderr)
    print(f"docs/cli.md : {len(blocks(updated))} bloc(s) à jour.")
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
