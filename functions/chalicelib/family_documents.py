"""The documents a family provides (« Mes documents », docs/family-documents.md): the
commune lists what it needs in commune.toml (`[[family_documents]]`: attestation de
quotient familial, assurance scolaire, carnet de vaccinations, PAI…) with how long an
accepted one stays valid.

A file never goes through the function: as for a medical certificate, the family gets a
presigned S3 POST (chalicelib.documents: type and size fixed by the policy) whose key is
`pieces/<N° famille>/<code>/<128 random bits>.<ext>`. The document shares the
certificate's states (chalicelib.certificates): `awaited` (the form was handed out),
`to_review` (its file is in the bucket: a HEAD), `accepted` (with `valid_until`) or
`refused` (with a reason). It is the item `FAMILYDOC#<code>#<recorded instant>#<id>` of
the family's partition; an open one carries `gsi1pk = FAMILYDOCS#OPEN`, `gsi1sk =
<instant>#<N° famille>#<code>#<id>`: staff list them with one Query of the index; the
decision removes the key, a conditional write on the state read.

An accepted document whose kind `sets_bracket` may move the family to another quotient
bracket from a month staff choose: the item `BRACKET#<AAAA-MM>` of the family's
partition, which billing reads (`billing.bracket_for`).

The rules (`kind_status`, `family_status`, `valid_until`, `check_decision`, the words) are
pure, the day an argument; the functions below them do the I/O.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from chalicelib import certificates as cert
from chalicelib import storage as st
from chalicelib.config import Commune, FamilyDocumentKind
from chalicelib.documents import CONTENT_TYPES, DocumentError, check_file

PREFIX = "FAMILYDOC#"
OPEN_INDEX = "FAMILYDOCS#OPEN"
KEY_PREFIX = "pieces"
BRACKET_PREFIX = "BRACKET#"
EXPIRING_DAYS = 30  # the dashboard says « à renouveler » this many days before the end
BAD_FILE_MESSAGE = "Le document doit être un fichier PDF, JPEG ou PNG de 5 Mo au plus."
_ID = re.compile(r"[0-9a-f]{16}")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

# What a family reads of each status (the rules below give it).
MISSING, EXPIRING, EXPIRED = "missing", "expiring", "expired"
STATUS_WORDS = {
    MISSING: "à fournir",
    cert.AWAITED: "à fournir (le fichier n'est pas arrivé : envoyez-le à nouveau)",
    cert.TO_REVIEW: "reçu, en cours d'examen par le service enfance",
    cert.ACCEPTED: "accepté",
    EXPIRING: "accepté, à renouveler",
    EXPIRED: "expiré, à fournir à nouveau",
    cert.REFUSED: "refusé",
}
# The statuses in which the family is offered the upload form.
SENDABLE = (MISSING, cert.AWAITED, EXPIRING, EXPIRED, cert.REFUSED)


# --- rules (pure) ---------------------------------------------------------------------------

def new_id() -> str:
    return secrets.token_hex(8)


def valid_until(accepted_on: date, months: int) -> date:
    """The last day an accepted document is valid: `months` after the day it was accepted,
    the day before the same date (accepted 5 December 2014 for 12 months: valid to
    4 December 2015)."""
    from datetime import timedelta

    from chalicelib.calendar_rules import shift_months

    return shift_months(accepted_on, months) - timedelta(days=1)


def kind_status(kind: FamilyDocumentKind, items: list[dict], today: date) -> dict:
    """What the family has of one kind of document on `today`: `status` (MISSING,
    awaited, to_review, accepted, EXPIRING, EXPIRED, refused), its `label`, `valid_until`
    (the accepted one still valid, or the last expired), whether the form is offered
    (`can_send`) and whether the dashboard must say so (`attention`)."""
    mine = sorted((i for i in items if i.get("code") == kind.code), key=lambda i: str(i.get("recorded_at", "")))
    latest = mine[-1] if mine else None
    accepted = [i for i in mine if cert.state_of(i) == cert.ACCEPTED and i.get("valid_until")]
    valid = [i for i in accepted if date.fromisoformat(i["valid_until"]) >= today]
    until = max((date.fromisoformat(i["valid_until"]) for i in (valid or accepted)), default=None)
    latest_state = cert.state_of(latest) if latest else None
    if latest_state == cert.TO_REVIEW:
        status = cert.TO_REVIEW
    elif valid:
        status = EXPIRING if (until - today).days < EXPIRING_DAYS else cert.ACCEPTED
    elif latest_state == cert.REFUSED:
        status = cert.REFUSED
    elif latest_state == cert.AWAITED:
        status = cert.AWAITED
    elif accepted:
        status = EXPIRED
    else:
        status = MISSING
    from chalicelib.formatting import short_date

    label = STATUS_WORDS[status]
    if status == cert.REFUSED and latest.get("refusal_reason"):
        label += f" (motif : {latest['refusal_reason']})"
    if status in (cert.ACCEPTED, EXPIRING) and until:
        label += f", valable jusqu'au {short_date(until)}"
    elif status == EXPIRED and until:
        label = f"expiré le {short_date(until)}, à fournir à nouveau"
    # An optional document (a PAI) is asked for only once the family has given one.
    attention = status in (MISSING, cert.AWAITED, EXPIRING, EXPIRED, cert.REFUSED) and (kind.required or bool(mine))
    return {"code": kind.code, "label": kind.label, "description": kind.description, "required": kind.required,
            "status": status, "status_label": label, "valid_until": until, "can_send": status in SENDABLE,
            "attention": attention, "again": bool(mine) and status != MISSING}


def family_status(commune: Commune, items: list[dict], today: date) -> list[dict]:
    """`kind_status` of every kind commune.toml lists, in its order."""
    return [kind_status(kind, items, today) for kind in commune.family_documents]


def check_kind(commune: Commune, code) -> FamilyDocumentKind:
    kind = commune.family_document(code) if isinstance(code, str) else None
    if kind is None:
        raise DocumentError(400, "unknown_document", "Document inconnu : choisissez-en un de la liste « Mes documents ».")
    return kind


def parse_month(value: str) -> str:
    """« AAAA-MM », the first month a new bracket applies to; a French 400 otherwise."""
    value = (value or "").strip()
    if not _MONTH.fullmatch(value):
        raise DocumentError(400, "invalid_month", "Mois d'application illisible : AAAA-MM, par exemple 2015-01.")
    return value


def check_decision(item: dict, family_number: str, accept: bool, reason: str, file_exists: bool) -> str:
    """The new state of a decision (the certificate's rules: accept only a document whose
    file is there, refuse with a reason, never decide twice), or a French DocumentError."""
    identifier = item.get("document_id", "")
    state = cert.observed_state(item, file_exists)
    if state not in cert.OPEN_STATES:
        raise DocumentError(409, "already_decided", f"Le document {identifier} de la famille {family_number} est déjà "
                                                    f"{cert.STAFF_WORDS[state]} : il n'y a rien à décider.")
    if accept:
        if state != cert.TO_REVIEW or not file_exists:
            raise DocumentError(409, "no_file", f"Le document {identifier} de la famille {family_number} n'a pas "
                                                "encore de fichier : il ne peut pas être accepté.")
        return cert.ACCEPTED
    if not reason.strip():
        raise DocumentError(400, "reason_required", cert.REASON_REQUIRED)
    return cert.REFUSED


def notice(kind_label: str, accepted: bool, reason: str, until: date | None, bracket: str = "",
           bracket_from: str = "") -> tuple[str, str]:
    """(subject, Markdown body) of the message telling the family the decision."""
    from chalicelib.formatting import short_date

    if accepted:
        body = f"Votre document **{kind_label}** est accepté par le service enfance"
        body += f" : il est valable jusqu'au {short_date(until)}." if until else "."
        if bracket:
            from chalicelib.formatting import french_month

            body += (f"\n\nVotre tranche de quotient familial est **{bracket}** à partir de "
                     f"{french_month(date.fromisoformat(bracket_from + '-01'))} : les factures de ces jours "
                     "l'appliquent.")
        return f"Document accepté : {kind_label}", body
    return (f"Document refusé : {kind_label}",
            f"Votre document **{kind_label}** est refusé par le service enfance.\n\nMotif : {reason.strip()}\n\n"
            "Vous pouvez en envoyer un autre depuis « Mes documents ».")


# --- items ------------------------------------------------------------------------------------

def document_key(family_number: str, code: str, content_type: str) -> str:
    return f"{KEY_PREFIX}/{family_number}/{code}/{secrets.token_hex(16)}.{CONTENT_TYPES[content_type]}"


def document_item(family_number: str, code: str, key: str, content_type: str, login: str, now: datetime,
                  identifier: str) -> dict:
    instant = now.astimezone(UTC).isoformat()
    return {
        "pk": st.family_pk(family_number), "sk": f"{PREFIX}{code}#{instant}#{identifier}", "kind": "family_document",
        "document_id": identifier, "code": code, "document_key": key, "content_type": content_type,
        "recorded_at": instant, "recorded_by": login, "state": cert.AWAITED,
        "gsi1pk": OPEN_INDEX, "gsi1sk": f"{instant}#{family_number}#{code}#{identifier}",
    }


def bracket_item(family_number: str, month: str, bracket: str, document_id: str, actor: str, now: datetime) -> dict:
    """The family's bracket from `month` on (billing.bracket_for); a later decision for the
    same month replaces it."""
    return {"pk": st.family_pk(family_number), "sk": f"{BRACKET_PREFIX}{month}", "kind": "bracket_change",
            "month": month, "bracket": bracket, "document_id": document_id, "decided_by": actor,
            "decided_at": now.astimezone(UTC).isoformat()}


# --- I/O -----------------------------------------------------------------------------------------

def request_upload(storage: st.Storage, documents, commune: Commune, family_number: str, code, content_type, size,
                   login: str, source: str, now: datetime, *, redirect=None) -> dict:
    """A presigned S3 POST for one document of the family (everything checked before any
    write: the kind, the file's type and size); the awaited item and its audit entry in
    one write. `redirect`: a function of the document's id giving S3's redirect (a form
    without script: its size is S3's to check). Returns the upload with `document_id`."""
    from chalicelib.documents import FORM_EXPIRES_IN, UPLOAD_EXPIRES_IN

    kind = check_kind(commune, code)
    canonical = check_file(content_type, size, size_known=redirect is None, message=BAD_FILE_MESSAGE)
    identifier = new_id()
    key = document_key(family_number, kind.code, canonical)
    upload = documents.presigned_upload(key, canonical, redirect=redirect(identifier) if redirect else None,
                                        expires_in=FORM_EXPIRES_IN if redirect else UPLOAD_EXPIRES_IN)
    item = document_item(family_number, kind.code, key, canonical, login, now, identifier)
    storage.batch_write([item, storage.audit_item(now, login, "family_document_upload", {
        "source": source, "code": kind.code, "document_id": identifier, "document_key": key}, by_family=True)])
    return {**upload, "document_id": identifier, "kind": kind}


def find(storage: st.Storage, family_number: str, identifier: str) -> dict:
    """A family's document by its id (one Query of the family's documents); another
    family's id is not found there: a French 404."""
    if isinstance(identifier, str) and _ID.fullmatch(identifier):
        for item in storage.query_partition(st.family_pk(family_number), PREFIX):
            if item.get("document_id") == identifier:
                return item
    raise DocumentError(404, "not_found", "Ce document est introuvable dans votre espace famille.")


def receive(storage: st.Storage, documents, family_number: str, identifier: str, actor: str,
            now: datetime) -> tuple[dict, bool]:
    """The family's page says the file was sent: the bucket is looked at (one HEAD), and the
    document moves to to_review when its file is there. (item, whether it changed)."""
    item = find(storage, family_number, identifier)
    return cert.look_for_file(storage, documents, item, actor, now, audit=("family_document_received", {
        "family_number": family_number, "code": item["code"], "document_id": identifier}))


def list_open(storage: st.Storage, documents, now: datetime, actor: str) -> list[dict]:
    """The open documents (one Query of the index), oldest first, an awaited one whose
    file arrived moved to to_review on the way; each with `family_number` and `seen_now`."""
    listed = []
    for item in sorted(storage.query_index(OPEN_INDEX), key=lambda i: i["gsi1sk"]):
        family = item["pk"].removeprefix("FAMILY#")
        item, seen_now = cert.look_for_file(storage, documents, item, actor, now, audit=(
            "family_document_received", {"family_number": family, "code": item.get("code"),
                                         "document_id": item.get("document_id")}))
        if cert.state_of(item) in cert.OPEN_STATES:
            listed.append({**item, "family_number": family, "state": cert.state_of(item), "seen_now": seen_now})
    return listed


@dataclass(frozen=True)
class Decision:
    document: dict  # the item as written
    subject: str
    body: str
    bracket: str = ""
    bracket_from: str = ""


def decide(storage: st.Storage, documents, commune: Commune, family_number: str, identifier: str, accept: bool,
           reason: str, actor: str, now: datetime, *, bracket: str = "", bracket_from: str = "") -> Decision:
    """Accepts (valid for the kind's `valid_months` from today) or refuses a document; an
    accepted quotient attestation (its kind `sets_bracket`) may set the family's bracket
    from `bracket_from` (AAAA-MM) on, a month not invoiced yet. One transaction, on the
    condition that the state read still holds: the new state (off the open index), the
    bracket's item, the audit entry. Everything is checked before it."""
    item = find(storage, family_number, identifier)
    kind = commune.family_document(item.get("code", ""))
    file_exists = cert.state_of(item) in cert.OPEN_STATES and cert.has_file(documents, item)
    new_state = check_decision(item, family_number, accept, reason or "", file_exists)
    reason = (reason or "").strip() if new_state == cert.REFUSED else ""
    bracket = (bracket or "").strip() if new_state == cert.ACCEPTED else ""
    actions = []
    if bracket:
        if kind is None or not kind.sets_bracket:
            raise DocumentError(400, "no_bracket", "Ce document ne fixe pas de tranche de quotient familial.")
        if bracket not in {b.code for b in commune.quotient_brackets}:
            raise DocumentError(400, "invalid_bracket", f"Tranche « {bracket[:10]} » inconnue (attendu : "
                                                        f"{', '.join(b.code for b in commune.quotient_brackets)}).")
        bracket_from = parse_month(bracket_from)
        # The month's invoice markers (billing.billed_marker_sk: BILLED#<AAAA-MM>#<rank>).
        billed = storage.query_partition(st.family_pk(family_number), "BILLED#" + bracket_from)
        if billed:
            raise DocumentError(409, "month_invoiced", f"Le mois {bracket_from} est déjà facturé à cette famille : "
                                                       "choisissez un mois suivant (un avoir corrige une facture "
                                                       "émise).")
        actions.append(storage.put_action(bracket_item(family_number, bracket_from, bracket, identifier, actor, now)))
    today = now.astimezone(commune.tz).date()
    until = valid_until(today, kind.valid_months if kind else 12) if new_state == cert.ACCEPTED else None
    changes = {"state": new_state, "decided_at": now, "decided_by": actor}
    if reason:
        changes["refusal_reason"] = reason
    if until:
        changes["valid_until"] = until.isoformat()
    failed = storage.transact([
        storage.update_if_action(item["pk"], item["sk"], changes, remove=("gsi1pk", "gsi1sk"),
                                 **cert.expected_state(item)),
        *actions,
        storage.put_action(storage.audit_item(now, actor, f"family_document_{new_state}", {
            "family_number": family_number, "code": item.get("code"), "document_id": identifier,
            "reason": reason or None, "bracket": bracket or None, "bracket_from": bracket_from if bracket else None})),
    ])
    if failed:
        raise DocumentError(409, "changed_meanwhile", f"Le document {identifier} de la famille {family_number} a "
                                                      "changé pendant la décision : relisez la liste.")
    written = {k: v for k, v in item.items() if k not in ("gsi1pk", "gsi1sk")}
    written.update({**changes, "decided_at": now.astimezone(UTC).isoformat()})
    subject, body = notice(kind.label if kind else item.get("code", ""), new_state == cert.ACCEPTED, reason, until,
                           bracket, bracket_from if bracket else "")
    return Decision(written, subject, body, bracket, bracket_from if bracket else "")
