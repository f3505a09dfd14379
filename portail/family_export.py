"""Exports every family's private pages from the command line (after the demo seed, at
`portail build`): the notices for all parents are stored first (portail/notices.py),
then `FamilyPages.export_all` renders every family, the function's nightly run's own
code. The families are read here from one Scan (cheaper than a Query per family when
all of them are wanted, and moto's Query is slow on a big table); the function reads
them one Query each, memory holding one family at a time."""

from __future__ import annotations

import os
from datetime import datetime

from chalicelib import clock, table
from chalicelib.config import Commune
from chalicelib.pages import ExportReport, FamilyPages
from chalicelib.storage import FamilyState, Storage

from portail.notices import store_notices


def family_states(storage: Storage) -> dict[str, FamilyState]:
    """Every family's state from one Scan, grouped by partition."""
    by_family: dict[str, list[dict]] = {}
    for item in storage.all_items():
        if item["pk"].startswith("FAMILY#"):
            by_family.setdefault(item["pk"].removeprefix("FAMILY#"), []).append(item)
    return {number: FamilyState.from_items(sorted(items, key=lambda i: i["sk"]))
            for number, items in by_family.items()}


def export_report(storage: Storage, s3_client, commune: Commune, now: datetime, secret: str | None = None,
                  *, notices: bool = True, states: dict[str, FamilyState] | None = None) -> ExportReport:
    """Stores the notices (unless `notices` is False), then renders and writes the pages
    of every family (`states`: read already by the caller, else here by one Scan)."""
    if notices:
        store_notices(storage, commune, now)
    pages = FamilyPages(s3_client, table.bucket_name("pages"), commune, secret or os.environ["PORTAIL_SECRET"],
                        frozen=clock.is_frozen())
    states = family_states(storage) if states is None else states
    # Every family: their folders' stored pages listed at once, not one listing each.
    return pages.export_all(storage, now, states.values(), stored_etags=pages.all_stored_etags())


def export_all(storage: Storage, s3_client, commune: Commune, now: datetime, secret: str | None = None) -> int:
    """Stores the notices, renders and writes the pages of every family; returns the
    number of pages."""
    return export_report(storage, s3_client, commune, now, secret).pages


class FamilyExportError(Exception):
    """The families' pages cannot be exported: the French message says why."""


def _secret(endpoint_url: str | None) -> str:
    from portail import aws

    secret = os.environ.get("PORTAIL_SECRET", "")
    if not secret and aws.is_local_endpoint(endpoint_url):
        from portail.local_keys import local_secret

        secret = local_secret()  # the running local portal's
    return secret


def export_families(numbers: list[str], endpoint_url: str | None = None) -> str:
    """The pages of some families (after an import moved a responsable's folder,
    docs/family-pages.md « Two responsables »), one Query each, at the portal's clock.
    Returns the French summary; FamilyExportError when the stage's secret is missing."""
    from chalicelib.clock import now
    from chalicelib.config import get_commune

    from portail import aws

    secret = _secret(endpoint_url)
    if not secret:
        raise FamilyExportError("Pages non écrites : PORTAIL_SECRET (le secret de l'étape) n'est pas défini ; "
                                "lancez « portail build --families » avec ce secret.")
    storage = aws.storage(endpoint_url)
    pages = FamilyPages(aws.client("s3", endpoint_url), table.bucket_name("pages"), get_commune(), secret,
                        frozen=clock.is_frozen())
    written = sum(pages.export(storage, number, now()) for number in numbers)
    return f"Pages écrites à leur nouvelle adresse : {written} page(s) de {len(numbers)} famille(s)."


def export_everything(endpoint_url: str | None = None) -> str:
    """`portail build --families`: the notices and every family's pages, against the AWS
    of `endpoint_url` (else AWS_ENDPOINT_URL, else AWS), at the portal's clock. Returns
    the French summary; FamilyExportError (or aws.AWSUnavailable) says what is missing."""
    from chalicelib.clock import now
    from chalicelib.config import get_commune

    from portail import aws
    from portail.notices import NoticeError

    secret = _secret(endpoint_url)
    if not secret:
        # Pages rendered with another secret would carry form tokens the function refuses.
        raise FamilyExportError("Pages des familles non exportées : PORTAIL_SECRET (le secret de l'étape) "
                                "n'est pas défini.")
    storage = aws.storage(endpoint_url)
    try:
        report = export_report(storage, aws.client("s3", endpoint_url), get_commune(), now(), secret)
    except NoticeError as error:
        raise FamilyExportError(f"Informations non enregistrées, pages des familles non exportées : {error}") from None
    summary = f"Pages des familles exportées : {report.pages} page(s) de {report.families} famille(s)."
    if report.failed:
        raise FamilyExportError(f"{summary} Échec pour {len(report.failed)} famille(s) : "
                                f"{', '.join(report.failed)} (le détail est dans le journal).")
    return summary
