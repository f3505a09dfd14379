"""Medical certificates to review (docs/billing.md): `/gestion/certificats/` and
`portail certificates list|accept|refuse` call the same functions.

`to_review` lists the certificates whose file is in the bucket, oldest first, from the
open index (one Query, chalicelib.certificates.list_open) with the family's and child's
names (one BatchGetItem for the page) and a presigned GET of each file valid 5 minutes
at most. `decide` is `chalicelib.certificates.decide` (the rules and the one
transaction: state, the family's request line, the audit entry) followed by what the
command line did after it: the family told (inbox + notice mail) and its pages
rendered again. Only an accepted certificate changes billing (`certificates.excuses`).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime

from chalicelib import certificates as cert
from chalicelib import storage as st
from chalicelib.refusals import Refusal

_VALUE = re.compile(r"^(\d{1,20})/([0-9a-f]{16})$")


def certificate_value(item: dict) -> str:
    """What the page's form posts to name a certificate: `<N° famille>/<id>`."""
    return f"{item['family_number']}/{item['certificate_id']}"


def parse_certificate(value: str) -> tuple[str, str]:
    """(family number, certificate id) from the form's `certificate`, or a French 400."""
    match = _VALUE.match((value or "").strip())
    if not match:
        raise Refusal(400, "invalid_certificate", "Certificat illisible : choisissez-en un dans la liste.")
    return match[1], match[2]


def parse_decision(decision: str, reason: str) -> tuple[bool, str]:
    reason = (reason or "").strip()
    if decision not in ("accept", "refuse"):
        raise Refusal(400, "invalid_decision", "Choisissez « Accepter » ou « Refuser ».")
    if len(reason) > 500:
        raise Refusal(400, "reason_too_long", f"Le motif est trop long ({len(reason)} caractères, 500 au plus).")
    if decision == "refuse" and not reason:
        raise Refusal(400, "reason_required", cert.REASON_REQUIRED)
    return decision == "accept", reason if decision == "refuse" else ""


def to_review(storage, documents, pages, now: datetime, actor: str) -> list[dict]:
    """The certificates to review, oldest first. An awaited one whose file arrived becomes
    to_review on the way (list_open: a HEAD of its file, a conditional write, audited);
    its family's pages, which say « Reçu, en cours d'examen », are rendered again. Each:
    the item, `family_number`, `certificate_id`, `value` (the form's), `child_name`,
    `responsable_name`, `days` (dates), `url` (the file, presigned, 5 minutes)."""
    found = [c for c in cert.list_open(storage, documents, now, actor) if c["state"] == cert.TO_REVIEW]
    keys = []
    for c in found:
        keys += [(st.family_pk(c["family_number"]), st.child_sk(c["child_id"])),
                 (st.family_pk(c["family_number"]), st.responsable_sk(1))]
    names = storage.batch_get(keys) if keys else {}
    listed = []
    for c in found:
        child = names.get((st.family_pk(c["family_number"]), st.child_sk(c["child_id"]))) or {}
        parent = names.get((st.family_pk(c["family_number"]), st.responsable_sk(1))) or {}
        listed.append({
            **c, "value": certificate_value(c),
            "child_name": " ".join(p for p in (child.get("last_name"), child.get("first_name")) if p),
            "responsable_name": " ".join(p for p in (parent.get("civility"), parent.get("first_name"),
                                                     parent.get("last_name")) if p),
            "days": [date.fromisoformat(d) for d in c.get("dates", [])],
            "url": documents.certificate_download_url(c["document_key"]) if c.get("document_key") else "",
        })
    if pages is not None:
        from chalicelib.pages import pages_showing_days

        stale: dict[str, set[str]] = {}
        for c in found:
            if c["seen_now"]:  # its request line and the month pages of its days
                stale.setdefault(c["family_number"], set()).update(pages_showing_days(c["child_id"], c["dates"]))
        for family, names in sorted(stale.items()):
            _render(pages, storage, family, now, sorted(names))
    return listed


def decide(storage, documents, messages, pages, family_number: str, identifier: str, accept: bool, reason: str,
           actor: str, now: datetime) -> cert.Decision:
    """Accepts or refuses a certificate (DocumentError when it cannot be), tells the family
    and renders its pages again (`pages` None: not rendered, the caller says so)."""
    decision = cert.decide(storage, documents, family_number, identifier, accept, reason, actor, now)
    messages.send(family_number, decision.subject, decision.body, now)
    if pages is not None:
        # Every page: the request line, the inbox, and the absent days billing will excuse.
        _render(pages, storage, family_number, now, None)
    return decision


def _render(pages, storage, family: str, now: datetime, only: list[str] | None) -> None:
    try:
        pages.export(storage, family, now, only=only)
    except Exception:  # noqa: BLE001 - the decision is written; the next action or the nightly run renders
        logging.getLogger("portail.pages").exception("pages of family %s not rendered", family)
