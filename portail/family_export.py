"""Exports every family's private pages (after the demo seed, a build, the nightly run)."""

from __future__ import annotations

import os
from datetime import datetime

from chalicelib import table
from chalicelib.config import Commune
from chalicelib.pages import FamilyPages
from chalicelib.storage import FamilyState, Storage


def family_states(storage: Storage) -> dict[str, FamilyState]:
    """Every family's state from one Scan, grouped by partition (cheaper than a Query
    per family when all of them are wanted)."""
    by_family: dict[str, list[dict]] = {}
    for item in storage.all_items():
        if item["pk"].startswith("FAMILY#"):
            by_family.setdefault(item["pk"].removeprefix("FAMILY#"), []).append(item)
    return {number: FamilyState.from_items(sorted(items, key=lambda i: i["sk"]))
            for number, items in by_family.items()}


def export_all(storage: Storage, s3_client, commune: Commune, now: datetime, secret: str | None = None) -> int:
    """Renders and writes the pages of every family; returns the number of pages."""
    pages = FamilyPages(s3_client, table.bucket_name("pages"), commune, secret or os.environ["PORTAIL_SECRET"])
    return sum(pages.export_state(state, now) for state in family_states(storage).values())
