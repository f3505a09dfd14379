"""Medical certificates: their states and the staff's decisions (docs/billing.md).

A certificate excuses absent days only once the service enfance accepted its file:

    awaited ──(the file is in the bucket)──> to_review ──accept──> accepted
       └──────────────── refuse (with a reason) ────────┴──refuse──> refused

- `awaited`: the parent got the upload form (`POST /api/absences/certificate`), no file
  is known yet;
- `to_review`: the object exists in the documents bucket: seen by a HEAD when the
  parent's page comes back from the upload (`receive`: S3's redirect, or the script),
  when staff list the open certificates, or when they decide one;
- `accepted`, `refused` (with `refusal_reason`): the staff's decision, told to the
  family (inbox and notice mail) and shown in its « Liste des demandes ». Staff accept
  only a certificate whose file exists; they may refuse an awaited one (a form never
  used). A certificate received on paper (`portail certificates record`) is accepted at
  once.

Only accepted certificates change billing (`excuses`, read by chalicelib.billing).

Open certificates (awaited, to_review) carry `gsi1pk = CERTIFICATES#OPEN`, `gsi1sk =
<recorded instant>#<N° famille>#<child>#<id>`: staff list them with one Query of the
index, never a Scan; the decision removes that key. Every change of state is a
conditional write on the state read, so two decisions at once cannot both pass.

The rules (`state_of`, `observed_state`, `check_decision`, the words) are pure; `list_open`
and `decide` do the I/O, for the command line now and the back office later. They take
the clock and the actor as arguments.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import storage as st
from chalicelib.documents import DocumentError

AWAITED, TO_REVIEW, ACCEPTED, REFUSED = "awaited", "to_review", "accepted", "refused"
STATES = (AWAITED, TO_REVIEW, ACCEPTED, REFUSED)
OPEN_STATES = (AWAITED, TO_REVIEW)
OPEN_INDEX = "CERTIFICATES#OPEN"

# What the family reads in its « Liste des demandes » (the refusal adds its reason).
FAMILY_WORDS = {
    AWAITED: "En attente du fichier",
    TO_REVIEW: "Reçu, en cours d'examen par le service enfance",
    ACCEPTED: "Accepté",
    REFUSED: "Refusé",
}
# What staff read in `portail certificates list` and in refusals.
STAFF_WORDS = {AWAITED: "en attente du fichier", TO_REVIEW: "reçu, à examiner", ACCEPTED: "accepté",
               REFUSED: "refusé"}
REASON_REQUIRED = "Indiquez le motif du refus : il est transmis à la famille."


# --- rules (pure) ---------------------------------------------------------------------------

def state_of(item: dict) -> str:
    """The certificate's state. Items written before states existed have none: one
    recorded by staff (paper) was theirs to accept, it reads `accepted`; one a parent
    asked a form for never had its file checked, it reads `awaited` (it excuses nothing,
    and the parent sends the certificate again)."""
    state = item.get("state")
    if state in STATES:
        return state
    return ACCEPTED if item.get("recorded_by") == "staff" else AWAITED


def excuses(item: dict) -> bool:
    """Whether the certificate's days may be excused by billing: accepted ones only."""
    return state_of(item) == ACCEPTED


def certificate_id(item: dict) -> str:
    """The id staff type: the random end of the item's sort key."""
    return item.get("certificate_id") or item["sk"].rsplit("#", 1)[-1]


def new_id() -> str:
    return secrets.token_hex(8)


def open_index_keys(family_number: str, child_id: str, identifier: str, recorded_at: datetime | str) -> dict:
    instant = recorded_at.astimezone(UTC).isoformat() if isinstance(recorded_at, datetime) else recorded_at
    return {"gsi1pk": OPEN_INDEX, "gsi1sk": f"{instant}#{family_number}#{child_id}#{identifier}"}


def observed_state(item: dict, file_exists: bool) -> str:
    """The state once the bucket was looked at: an awaited certificate whose file is there
    is to be reviewed."""
    state = state_of(item)
    return TO_REVIEW if state == AWAITED and file_exists else state


def check_decision(item: dict, family_number: str, accept: bool, reason: str, file_exists: bool) -> str:
    """The new state of a decision on `item` (whose file exists or not), or DocumentError
    in French: accept only from to_review (the file must be there), refuse from awaited
    or to_review with a reason; a decided certificate stays as it is."""
    identifier = certificate_id(item)
    state = observed_state(item, file_exists)
    if state not in OPEN_STATES:
        raise DocumentError(409, "already_decided", f"Le certificat {identifier} de la famille {family_number} "
                                                    f"est déjà {STAFF_WORDS[state]} : il n'y a rien à décider.")
    if accept:
        if state != TO_REVIEW or not file_exists:
            raise DocumentError(409, "no_file", f"Le certificat {identifier} de la famille {family_number} n'a pas "
                                                "encore de fichier : il ne peut pas être accepté (refusez-le avec un "
                                                "motif si le fichier n'arrive pas).")
        return ACCEPTED
    if not reason.strip():
        raise DocumentError(400, "reason_required", REASON_REQUIRED)
    return REFUSED


def family_words(item: dict) -> str:
    """« En attente du fichier », « Reçu, en cours d'examen par le service enfance »,
    « Accepté », « Refusé : <motif> »."""
    state = state_of(item)
    if state == REFUSED and item.get("refusal_reason"):
        return f"{FAMILY_WORDS[REFUSED]} : {item['refusal_reason']}"
    return FAMILY_WORDS[state]


def short_dates(item: dict) -> str:
    """« 06/10/2014, 07/10/2014 »."""
    from chalicelib.formatting import short_date

    return ", ".join(short_date(d) for d in item.get("dates", []))


def notice(item: dict, child_name: str, accepted: bool, reason: str = "") -> tuple[str, str]:
    """(subject, Markdown body) of the message telling the family the decision."""
    days = short_dates(item)
    if accepted:
        return (f"Certificat médical accepté : {child_name}",
                f"Le certificat médical de {child_name} pour les jours **{days}** est accepté par le service "
                "enfance. Les jours d'absence qu'il couvre ne sont pas facturés, sauf le premier jour de chaque "
                "absence.")
    return (f"Certificat médical refusé : {child_name}",
            f"Le certificat médical de {child_name} pour les jours **{days}** est refusé par le service enfance : "
            f"ces jours d'absence restent facturés.\n\nMotif : {reason.strip()}\n\n"
            "Vous pouvez envoyer un autre certificat.")


def decision_request_item(family_number: str, item: dict, accepted: bool, reason: str, now: datetime) -> dict:
    """The decision as the family's « Liste des demandes » shows it: one line per day."""
    request_id = secrets.token_hex(8)
    instant = now.astimezone(UTC).isoformat()
    message = "" if accepted else f"Motif : {reason.strip()}"
    return {
        "pk": st.family_pk(family_number), "sk": f"REQUEST#{instant}#{request_id}", "kind": "request",
        "request_id": request_id, "submitted_at": instant, "child_id": item["child_id"], "responsable_rank": 1,
        "channel": "staff", "type": "certificate_decision", "certificate_id": certificate_id(item),
        "items": [{"date": day, "action": "certificate", "status": ACCEPTED if accepted else REFUSED,
                   **({"message": message} if message else {})} for day in item.get("dates", [])],
    }


# --- I/O: the staff's list and decisions ----------------------------------------------------------

def _family_of(item: dict) -> str:
    return item["pk"].removeprefix("FAMILY#")


def expected_state(item: dict) -> dict:
    """The condition that the state read still holds (an older item has none)."""
    return {"expected": {"state": item["state"]}} if "state" in item else {"expected": {}, "absent": ["state"]}


def has_file(documents, item: dict) -> bool:
    key = item.get("document_key")
    return bool(key) and documents.has_object(key)


def list_open(storage: st.Storage, documents, now: datetime, actor: str = "staff") -> list[dict]:
    """The open certificates (awaited, to_review), oldest first, from one Query of the
    index. An awaited one whose file is now in the bucket (HEAD) becomes to_review: a
    conditional write with its audit entry (a decision meanwhile keeps its own state).
    Each returned item carries `family_number`, `certificate_id`, its `state` and
    `seen_now` (its file was found by this call: the family's pages are to be rendered)."""
    found = sorted(storage.query_index(OPEN_INDEX), key=lambda i: i["gsi1sk"])
    listed = []
    for item in found:
        family = _family_of(item)
        item, seen_now = look_for_file(storage, documents, item, actor, now)
        if state_of(item) not in OPEN_STATES:
            continue
        listed.append({**item, "family_number": family, "certificate_id": certificate_id(item),
                       "state": state_of(item), "seen_now": seen_now})
    return listed


def look_for_file(storage: st.Storage, documents, item: dict, actor: str, now: datetime,
                   audit: tuple[str, dict] | None = None) -> tuple[dict, bool]:
    """(the item as it is now, whether this call moved it to to_review). An awaited
    certificate whose file is in the bucket (one HEAD) becomes to_review: a conditional
    write on the state read, with its audit entry; a change meanwhile (a decision, the
    same move by another call) is read back and kept. `audit`: (action, details) of the
    entry, for the families' documents, which share these states
    (chalicelib.family_documents)."""
    if state_of(item) != AWAITED or not has_file(documents, item):
        return item, False
    action, details = audit or ("certificate_received", {
        "family_number": _family_of(item), "certificate_id": certificate_id(item),
        "document_key": item.get("document_key")})
    failed = storage.transact([
        storage.update_if_action(item["pk"], item["sk"], {"state": TO_REVIEW, "received_at": now},
                                 **expected_state(item)),
        storage.put_action(storage.audit_item(now, actor, action, details)),
    ])
    if failed:
        return storage.get(item["pk"], item["sk"]) or item, False
    return {**item, "state": TO_REVIEW, "received_at": now.astimezone(UTC).isoformat()}, True


def receive(storage: st.Storage, documents, family_number: str, identifier: str, actor: str,
            now: datetime) -> tuple[dict, bool]:
    """The parent's page says the file was sent (S3's redirect after a form without script,
    or the script after its upload): the family's certificate, moved to to_review when its
    file is in the bucket (`look_for_file`: the bucket is looked at, the parent's word is
    not taken). Returns (the item, whether it changed now); DocumentError 404 for an id
    the family has no certificate of."""
    return look_for_file(storage, documents, find(storage, family_number, identifier), actor, now)


def find(storage: st.Storage, family_number: str, identifier: str) -> dict:
    """A family's certificate by its id (one Query of the family's certificates)."""
    for item in storage.query_partition(st.family_pk(family_number), "CERTIFICATE#"):
        if certificate_id(item) == identifier:
            return item
    raise DocumentError(404, "not_found", f"Aucun certificat {identifier} pour la famille {family_number}.")


@dataclass(frozen=True)
class Decision:
    certificate: dict  # the item as written
    subject: str  # the family's message
    body: str


def decide(storage: st.Storage, documents, family_number: str, identifier: str, accept: bool, reason: str,
           actor: str, now: datetime) -> Decision:
    """Accepts or refuses a certificate (rules: `check_decision`). One transaction, on the
    condition that the state read still holds: the new state (off the open index), the
    family's « Liste des demandes » line and the audit entry. Returns what to tell the
    family; the caller sends it and renders the family's pages again."""
    item = find(storage, family_number, identifier)
    file_exists = state_of(item) in OPEN_STATES and has_file(documents, item)
    new_state = check_decision(item, family_number, accept, reason or "", file_exists)
    reason = (reason or "").strip() if new_state == REFUSED else ""
    changes = {"state": new_state, "decided_at": now, "decided_by": actor}
    if reason:
        changes["refusal_reason"] = reason
    child = storage.get(st.family_pk(family_number), st.child_sk(item["child_id"])) or {}
    child_name = child.get("first_name") or f"l'enfant {item['child_id']}"
    failed = storage.transact([
        storage.update_if_action(item["pk"], item["sk"], changes, remove=("gsi1pk", "gsi1sk"),
                                 **expected_state(item)),
        storage.put_action(decision_request_item(family_number, item, new_state == ACCEPTED, reason, now)),
        storage.put_action(storage.audit_item(now, actor, f"certificate_{new_state}", {
            "family_number": family_number, "child_id": item["child_id"], "certificate_id": identifier,
            "dates": item.get("dates", []), "reason": reason or None})),
    ])
    if failed:
        raise DocumentError(409, "changed_meanwhile", f"Le certificat {identifier} de la famille {family_number} "
                                                      "a changé pendant la décision : relisez la liste.")
    written = {key: value for key, value in item.items() if key not in ("gsi1pk", "gsi1sk")}
    written.update({**changes, "decided_at": now.astimezone(UTC).isoformat()})
    subject, body = notice(item, child_name, new_state == ACCEPTED, reason)
    return Decision(written, subject, body)
