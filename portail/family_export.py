"""Exports every family's private pages (after the demo seed, a build, the nightly run)."""

from __future__ import annotations

import os
from datetime import datetime

from chalicelib import table
from chalicelib.config import Commune
from chalicelib.pages import FamilyPages
from chalicelib.storage import Storage


def export_all(storage: Storage, s3_client, commune: Commune, now: datetime, secret: str | None = None) -> int:
    """Renders and writes the pages of every family; returns the number of pages."""
    pages = FamilyPages(s3_client, table.bucket_name("pages"), commune, secret or os.environ["PORTAIL_SECRET"])
    return sum(pages.export(storage, number, now) for number in storage.family_numbers())
