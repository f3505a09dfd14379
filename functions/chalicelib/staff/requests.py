"""Pending requests, decided in bulk by the service enfance (docs/bookings.md).

`/gestion/demandes/` and `portail requests list|accept|refuse` call the same functions:
`pending_page` (the list, oldest day first: Queries of the index `WAITING`),
`parse_items` and `parse_decision` (every item of a post checked before any write: a
malformed one refuses the whole post), and `decide` (each day through
`WaitingList.staff_decide`, so the capacity is never exceeded: a full day says so and
stays pending; then one message per family grouping its days, and the family's pages
rendered again once).

The collaborators (storage, commune, messages, pages) are arguments: the function
passes its own (chalicelib.dependencies), the command line builds them
(portail/staff.py). The clock and the actor are arguments too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib import storage as st
from chalicelib.booking_requests import BookingRequestError
from chalicelib.refusals import Refusal

MAX_ITEMS = 500  # days decided by one post: a page shows PAGE_SIZE, « tout cocher » a few pages
MAX_REASON = 500  # characters of a refusal's reason (it is sent to the family)
PAGE_SIZE = 200  # lines of /gestion/demandes/ per page (a page ends with a day's whole line)
_ITEM = re.compile(r"^(\d{1,20})/([A-Za-z0-9_-]{1,32})/([A-Za-z0-9_]{1,40})/(\d{4}-\d{2}-\d{2})$")

ACCEPTED, REFUSED, FULL, NOT_PENDING, CONFLICT = "accepted", "refused", "full", "not_pending", "conflict"
OUTCOME_WORDS = {ACCEPTED: "Acceptée", REFUSED: "Refusée", FULL: "Complet : reste en attente",
                 NOT_PENDING: "Pas en attente", CONFLICT: "Non décidée"}
CONFLICT_MESSAGE = ("Une autre écriture touchait ce jour au même instant : rien n'est changé pour lui. "
                    "Relisez la liste et décidez-le de nouveau.")


@dataclass(frozen=True)
class RequestItem:
    """One pending day, as the list's check box names it."""

    family: str
    child: str
    service: str
    day: date

    @property
    def value(self) -> str:
        return f"{self.family}/{self.child}/{self.service}/{self.day.isoformat()}"


@dataclass(frozen=True)
class Outcome:
    item: RequestItem
    status: str  # accepted, refused, full, not_pending
    message: str  # French, for staff


# --- the request (pure) --------------------------------------------------------------------------

def parse_items(values: list[str], commune) -> list[RequestItem]:
    """The checked days, `<N° famille>/<enfant>/<service>/<AAAA-MM-JJ>` each; a repeat is
    kept once. Refusal (nothing written) when none, too many, or any is malformed."""
    if not values:
        raise Refusal(400, "no_item", "Cochez au moins une demande à décider.")
    if len(values) > MAX_ITEMS:
        raise Refusal(413, "too_many_items", f"Trop de demandes à la fois ({len(values)}) : {MAX_ITEMS} au plus "
                                             "par décision. Filtrez la liste (service, dates) et recommencez.")
    codes = {s.code for s in commune.services}
    items, bad = [], []
    for value in values:
        match = _ITEM.match(value or "")
        day = None
        if match:
            try:
                day = date.fromisoformat(match[4])
            except ValueError:
                day = None
        if day is None or match[3] not in codes:
            bad.append(value)
            continue
        items.append(RequestItem(match[1], match[2], match[3], day))
    if bad:
        shown = ", ".join(f"« {v[:60]} »" for v in bad[:3]) + (" …" if len(bad) > 3 else "")
        raise Refusal(400, "invalid_item", f"Demande illisible : {shown} (attendu : N° famille/enfant/service/"
                                           "AAAA-MM-JJ). Aucune décision n'est enregistrée.")
    return list(dict.fromkeys(items))


def parse_decision(decision: str, reason: str) -> tuple[bool, str]:
    """(accept, reason): `accept` or `refuse`; a refusal needs its reason (sent to the family)."""
    reason = (reason or "").strip()
    if decision not in ("accept", "refuse"):
        raise Refusal(400, "invalid_decision", "Choisissez « Accepter » ou « Refuser ».")
    if len(reason) > MAX_REASON:
        raise Refusal(400, "reason_too_long", f"Le motif est trop long ({len(reason)} caractères, "
                                              f"{MAX_REASON} au plus).")
    if decision == "refuse" and not reason:
        raise Refusal(400, "reason_required", "Indiquez le motif du refus : il est transmis à la famille. "
                                              "Aucune décision n'est enregistrée.")
    return decision == "accept", reason if decision == "refuse" else ""


def family_notice(lines: list[tuple[str, str, str]], accept: bool, reason: str) -> tuple[str, str]:
    """(subject, Markdown body) telling a family its decided days, (label, day, child) each:
    one message for all the days of one decision."""
    if len(lines) == 1:
        (label, when, child), = lines
        if accept:
            return (f"Demande acceptée : {label}, {when}",
                    f"La demande de **{label}** du **{when}** pour {child}, qui était en attente, "
                    "est acceptée par le service enfance : la réservation est validée.")
        return (f"Demande refusée : {label}, {when}",
                f"La demande de **{label}** du **{when}** pour {child} est refusée par le service enfance.\n\n"
                f"Motif : {reason}")
    listed = "\n".join(f"- **{label}** du **{when}** pour {child}" for label, when, child in lines)
    if accept:
        return (f"Demandes acceptées : {len(lines)} jours",
                "Ces demandes, qui étaient en attente, sont acceptées par le service enfance : les réservations "
                f"sont validées.\n\n{listed}")
    return (f"Demandes refusées : {len(lines)} jours",
            f"Ces demandes sont refusées par le service enfance.\n\n{listed}\n\nMotif : {reason}")


# --- I/O ----------------------------------------------------------------------------------------

def pending_page(storage, commune, service: str | None = None, first: date | None = None,
                 last: date | None = None, after: str | None = None, size: int = PAGE_SIZE):
    """A page of the pending days (WaitingList.waiting): (lines, the `after` of the next page)."""
    from chalicelib.waiting_list import WaitingList

    return WaitingList(storage, commune).waiting(service, first, last, limit=size, after=after)


def decide(storage, commune, messages, pages, items: list[RequestItem], accept: bool, reason: str, actor: str,
           now: datetime) -> list[Outcome]:
    """Decides each day (all read first in one BatchGetItem per 100, then one transaction
    each: the day, its WAIT item, the family's request line and the audit entry); then
    each family with a decided day gets one message (inbox + notice mail) and its pages
    rendered again once (`pages` None: not rendered, the caller says so). Returns each
    day's outcome, in the order given. A failed mail or page does not undo a decision."""
    from botocore.exceptions import ClientError

    from chalicelib.formatting import french_day
    from chalicelib.pages import pages_showing_days, pages_showing_messages
    from chalicelib.waiting_list import WaitingList

    if not accept and not reason.strip():
        raise Refusal(400, "reason_required", "Indiquez le motif du refus : il est transmis à la famille.")
    waiting = WaitingList(storage, commune)
    days = [(st.family_pk(i.family), st.day_sk(i.child, i.day, i.service)) for i in items]
    children = [(st.family_pk(i.family), st.child_sk(i.child)) for i in items]
    read = storage.batch_get(days + children)
    outcomes, told = [], {}
    action = "request_accepted" if accept else "request_refused"
    for item in items:
        audit = storage.audit_item(now, actor, action, {
            "family_number": item.family, "child_id": item.child, "service": item.service, "date": item.day,
            "reason": reason or None})
        try:
            day = waiting.staff_decide(item.family, item.child, item.service, item.day, accept, reason, now,
                                       read=read, extra=[storage.put_action(audit)])
        except BookingRequestError as error:
            if error.code == "full":
                outcomes.append(Outcome(item, FULL, f"{error.message} La demande reste en attente."))
                continue
            if error.code in ("not_found", "not_pending"):
                waiting.drop_stale(item.family, item.child, item.service, item.day)
            outcomes.append(Outcome(item, NOT_PENDING, error.message))
            continue
        except ClientError as error:
            # DynamoDB cancels, rather than waits for, a transaction that meets another on
            # the same item: that day is left as it was, the others are still decided.
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            outcomes.append(Outcome(item, CONFLICT, CONFLICT_MESSAGE))
            continue
        outcomes.append(Outcome(item, ACCEPTED if accept else REFUSED, day["message"]))
        child = read.get((st.family_pk(item.family), st.child_sk(item.child))) or {}
        told.setdefault(item.family, []).append((item, child.get("first_name") or f"l'enfant {item.child}"))
    for family, decided in told.items():
        lines = [(commune.service(i.service).label, french_day(i.day), name) for i, name in decided]
        subject, body = family_notice(lines, accept, reason)
        sent = messages.send(family, subject, body, now)  # a notice mail that cannot leave is logged, not fatal
        if pages is not None:
            stale = [name for child in dict.fromkeys(i.child for i, _ in decided)
                     for name in pages_showing_days(child, [i.day for i, _ in decided if i.child == child])]
            _render(pages, storage, family, now, [*dict.fromkeys(stale), *pages_showing_messages(sent["message_id"])])
    return outcomes


def _render(pages, storage, family: str, now: datetime, only: list[str]) -> None:
    try:
        pages.export(storage, family, now, only=only)
    except Exception:  # noqa: BLE001 - the decision is written; its next action or the nightly run renders
        logging.getLogger("portail.pages").exception("pages of family %s not rendered after a decision", family)
