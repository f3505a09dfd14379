"""The families' documents to review (docs/family-documents.md): `/gestion/documents/`.

`to_review` lists the documents whose file is in the bucket, oldest first, from the open
index (one Query, chalicelib.family_documents.list_open) with the family's name (one
BatchGetItem for the page) and a presigned GET of each file (5 minutes at most).
`decide` is chalicelib.family_documents.decide (the rules and the one transaction),
then the family told (inbox + notice mail) and its « Mes documents » and dashboard
rendered again (and its statement's pages, when a bracket changed nothing is billed yet:
invoices come later).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from chalicelib import family_documents as fd
from chalicelib import storage as st
from chalicelib.refusals import Refusal
from chalicelib.staff.certificates import parse_decision

_VALUE = re.compile(r"^(\d{1,20})/([0-9a-f]{16})$")

__all__ = ["decide", "parse_decision", "parse_document", "to_review"]


def parse_document(value: str) -> tuple[str, str]:
    """(family number, document id) from the form's `document` (`<N° famille>/<id>`)."""
    match = _VALUE.match((value or "").strip())
    if not match:
        raise Refusal(400, "invalid_document", "Document illisible : choisissez-en un dans la liste.")
    return match[1], match[2]


def to_review(storage, documents, pages, commune, now: datetime, actor: str) -> list[dict]:
    """The documents to review, oldest first, each with `value` (the form's), `kind_label`,
    `sets_bracket`, `responsable_name`, `bracket` (the family's now) and `url`."""
    from chalicelib.certificates import TO_REVIEW

    found = [d for d in fd.list_open(storage, documents, now, actor) if d["state"] == TO_REVIEW]
    keys = []
    for d in found:
        keys += [(st.family_pk(d["family_number"]), st.PROFILE), (st.family_pk(d["family_number"]), st.responsable_sk(1))]
    read = storage.batch_get(keys) if keys else {}
    listed = []
    for d in found:
        profile = read.get((st.family_pk(d["family_number"]), st.PROFILE)) or {}
        parent = read.get((st.family_pk(d["family_number"]), st.responsable_sk(1))) or {}
        kind = commune.family_document(d.get("code", ""))
        listed.append({
            **d, "value": f"{d['family_number']}/{d['document_id']}",
            "kind_label": kind.label if kind else d.get("code", ""), "sets_bracket": bool(kind and kind.sets_bracket),
            "responsable_name": " ".join(p for p in (parent.get("civility"), parent.get("first_name"),
                                                     parent.get("last_name")) if p),
            "bracket": profile.get("quotient_bracket", ""),
            "url": documents.certificate_download_url(d["document_key"]) if d.get("document_key") else "",
        })
    if pages is not None:
        for family in sorted({d["family_number"] for d in found if d["seen_now"]}):
            _render(pages, storage, family, now)
    return listed


def decide(storage, documents, messages, pages, commune, family_number: str, identifier: str, accept: bool,
           reason: str, actor: str, now: datetime, *, bracket: str = "", bracket_from: str = "") -> fd.Decision:
    """Accepts or refuses a document (DocumentError when it cannot be), tells the family and
    renders its pages again (`pages` None: not rendered)."""
    decision = fd.decide(storage, documents, commune, family_number, identifier, accept, reason, actor, now,
                         bracket=bracket, bracket_from=bracket_from)
    messages.send(family_number, decision.subject, decision.body, now)
    if pages is not None:
        _render(pages, storage, family_number, now)
    return decision


def _render(pages, storage, family: str, now: datetime) -> None:
    from chalicelib.pages import pages_showing_documents, pages_showing_messages

    try:
        pages.export(storage, family, now, only=sorted({*pages_showing_documents(), *pages_showing_messages()}))
    except Exception:  # noqa: BLE001 - the decision is written; the next action or the nightly run renders
        logging.getLogger("portail.pages").exception("pages of family %s not rendered", family)
