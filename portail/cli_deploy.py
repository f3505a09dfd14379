"""The `portail` commands of issue 7 (deploy): registered by portail/cli.py."""

from __future__ import annotations


def register(commands, endpoint_help: str) -> None:
    """Adds this module's sub-commands to `portail`'s parser."""
