"""What a family's call does once its HTTP is read: the domain's writes, then what follows
them, in order: the freed seats given to the waiting list (and those families told), the
pages that show the change rendered again before the answer (a family reads its own
write on the next page it opens).

The collaborators are injected (the function passes its own, chalicelib.dependencies;
a test or a staff tool may pass others) and the clock is an argument. Imports are made
where used: the function's cold start loads only what a call needs.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.refusals import Refusal


def book(bookings, messages, pages, family_number: str, child_id: str, rank: int, raw_items, pattern,
         now: datetime, idempotency_key=None, *, channel: str = "online", apply_deadline: bool = True,
         day_attributes: dict | None = None) -> list[dict]:
    """Books, cancels or reports absent the days asked (a list of items, or a week
    `pattern` when there is no list), every item checked before the first write
    (BookingRequestError); then the seats freed go to the waiting list, and the pages
    that show these days are rendered again. Returns each day's result. Staff book
    with `channel="staff"`, and may lift the deadline (`apply_deadline=False`, its
    reason in `day_attributes`): chalicelib/staff/families.py."""
    from chalicelib.booking_requests import expand_pattern, parse_items
    from chalicelib.pages import pages_showing_days
    from chalicelib.waiting_list import WaitingList

    today = now.astimezone(bookings.commune.tz).date()
    if pattern is not None and raw_items is None:
        items = expand_pattern(pattern, bookings.commune, bookings.calendar, today)
    else:
        items = parse_items(raw_items, bookings.commune, today)
    submission = bookings.submit_state(family_number, child_id, rank, items, now, idempotency_key=idempotency_key,
                                       channel=channel, apply_deadline=apply_deadline, day_attributes=day_attributes)
    promoted = promote_waiting(WaitingList(bookings.storage, bookings.commune), messages, pages, submission.freed,
                               now)
    # The pages are rendered from the state the submission read with its own writes
    # applied (no second Query of the family: docs/family-pages.md, « What a booking
    # re-renders »), unless a freed seat promoted this very family: its state changed
    # beyond this call's writes, and is read again.
    state = None if any(p["family_number"] == family_number for p in promoted) else submission.state
    pages.export(bookings.storage, family_number, now, only=pages_showing_days(child_id, [i.day for i in items]),
                 state=state)
    return submission.results


def promote_waiting(waiting_list, messages, pages, freed: list, now: datetime) -> list[dict]:
    """Freed seats (service, day) go to the oldest waiting requests; each family promoted
    gets a message, and its pages that show the day and the message are rendered again.
    Returns the requests promoted."""
    from chalicelib.formatting import french_day
    from chalicelib.pages import pages_showing_days, pages_showing_messages

    promoted_all = []
    for service, day in freed:
        for promoted in waiting_list.promote(service, day, now):
            label = waiting_list.commune.service(service).label
            sent = messages.send(
                promoted["family_number"], f"Réservation validée : {label}, {french_day(day)}",
                f"Une place s'est libérée : la réservation de **{label}** du **{french_day(day)}** "
                "pour votre enfant, qui était en liste d'attente, est validée.", now)
            # The promoted day, and the message that says so (dashboard count, inbox).
            pages.export(waiting_list.storage, promoted["family_number"], now,
                         only=[*pages_showing_days(promoted["child_id"], [day]),
                               *pages_showing_messages(sent["message_id"])])
            promoted_all.append(promoted)
    return promoted_all


def request_certificate(storage, documents, pages, session, child_id: str, dates, content_type, size,
                        source: str, now: datetime, *, redirect=None) -> dict:
    """A presigned S3 POST for one medical certificate of one of the family's children
    (DocumentError: unknown child, bad dates or file), with its `certificate_id`, `dates`
and the child's `child_name`. The
    certificate (awaited: it excuses nothing until staff accept its file), the family's
    request line and the audit entry are one batch write; then the pages that show it
    (« Liste des demandes », the month pages of its days) are rendered again.

    `redirect`: for a form without script, a function of the certificate's id giving the
    address S3 sends the browser back to (the policy fixes it); the file's size is then
    S3's to check, and the form lasts FORM_EXPIRES_IN."""
    from chalicelib import certificates
    from chalicelib.documents import (
        FORM_EXPIRES_IN,
        UPLOAD_EXPIRES_IN,
        DocumentError,
        certificate_request_item,
        parse_dates,
    )
    from chalicelib.pages import pages_showing_days

    state = storage.family_state(session.family_number)
    if not child_id or not any(child.get("child_id") == child_id for child in state.children):
        raise DocumentError(404, "not_found", "Enfant inconnu.")
    days = parse_dates(dates)
    identifier = certificates.new_id()
    upload = documents.certificate_upload(
        session.family_number, child_id, days, content_type, size, now,
        redirect=redirect(identifier) if redirect else None, size_known=redirect is None,
        expires_in=FORM_EXPIRES_IN if redirect else UPLOAD_EXPIRES_IN)
    certificate = documents.record_certificate_item(session.family_number, child_id, days, upload["key"],
                                                    "parent", now, upload["fields"]["Content-Type"], identifier)
    storage.batch_write([
        certificate,
        certificate_request_item(session.family_number, child_id, days, session.rank, now, certificate),
        storage.audit_item(now, session.login, "certificate_upload", {
            "source": source, "child_id": child_id, "certificate_id": certificate["certificate_id"],
            "dates": certificate["dates"], "document_key": upload["key"]}, by_family=True),
    ])
    # A certificate changes no day's state: the calendar feeds stay as they are.
    pages.export(storage, session.family_number, now, only=_without_feed(pages_showing_days(child_id, days)))
    child = next(c for c in state.children if c.get("child_id") == child_id)
    return {**upload, "certificate_id": identifier, "dates": certificate["dates"],
            "child_name": child.get("first_name", "")}


def certificate_received(storage, documents, pages, session, identifier: str, now: datetime) -> dict:
    """The parent's page is back from the certificate's upload: the certificate moves to
    to_review if its file is in the bucket (chalicelib.certificates.receive), and the
    pages that show it are rendered again. Returns the certificate as it is now."""
    from chalicelib import certificates
    from chalicelib.pages import pages_showing_days

    item, changed = certificates.receive(storage, documents, session.family_number, identifier, session.login, now)
    if changed:
        pages.export(storage, session.family_number, now,
                     only=_without_feed(pages_showing_days(item["child_id"], item["dates"])))
    return item


def _own_item(storage, family_number: str, sk: str, page_key: str | None) -> dict | None:
    """An invoice or credit note of the family, when the folder `page_key` (the session's)
    shows its responsable's money (pages.responsables.money_rank): the other responsable's
    of a family with separate accounts is not found. One BatchGetItem: the item, the
    family and its responsables."""
    from chalicelib.pages.responsables import money_rank
    from chalicelib.storage import PROFILE, family_pk, responsable_sk

    pk = family_pk(family_number)
    found = storage.batch_get([(pk, sk), (pk, PROFILE), (pk, responsable_sk(1)), (pk, responsable_sk(2))])
    item, profile = found.get((pk, sk)), found.get((pk, PROFILE))
    if item is None or page_key is None:
        return item
    if profile is None:
        return None
    people = [found[(pk, responsable_sk(rank))] for rank in (1, 2) if (pk, responsable_sk(rank)) in found]
    rank = money_rank(profile, people, page_key)
    return item if rank is None or int(item.get("responsable_rank") or 1) == rank else None


def own_operations(storage, family_number: str, page_key: str, operations: list[dict]) -> list[dict]:
    """The operations of the folder `page_key`'s statement: all of a family with one
    account; one responsable's of a family with separate accounts (one BatchGetItem: the
    family and its responsables)."""
    from chalicelib.pages.responsables import money_rank
    from chalicelib.storage import PROFILE, family_pk, responsable_sk

    pk = family_pk(family_number)
    found = storage.batch_get([(pk, PROFILE), (pk, responsable_sk(1)), (pk, responsable_sk(2))])
    people = [found[(pk, responsable_sk(rank))] for rank in (1, 2) if (pk, responsable_sk(rank)) in found]
    rank = money_rank(found.get((pk, PROFILE)) or {"page_key": ""}, people, page_key)
    if rank is None:
        return operations
    return [o for o in operations if int(o.get("responsable_rank") or 1) == rank]


def _without_feed(names: list[str]) -> list[str]:
    from chalicelib.pages.names import FEED

    return [name for name in names if name != FEED]


def invoice_download_url(storage, documents, family_number: str, number: str, page_key: str | None = None) -> str:
    """A presigned GET of one of the family's invoice PDFs; any other number, another
    family's or the other responsable's (separate accounts: `page_key`, the session's
    folder) included, is not found (Refusal 404): it is looked for in this family's
    partition only, and a number no invoice could have is not looked for. Its PDF must be
    in the bucket (one HEAD): else a French 404, never a link to nothing."""
    from chalicelib.storage import invoice_sk

    plausible = 0 < len(number) <= 30 and number.isascii() and number.replace("-", "").isalnum()
    invoice = _own_item(storage, family_number, invoice_sk(number), page_key) if plausible else None
    if invoice is None or not invoice.get("pdf_key"):
        raise Refusal(404, "invoice_not_found", "Cette facture est introuvable dans votre espace famille.")
    # A run interrupted between an invoice's write and its PDF's: no link to nothing (a HEAD).
    if not documents.has_object(invoice["pdf_key"]):
        raise Refusal(404, "invoice_pdf_missing", f"Le PDF de la facture {invoice['number']} n'est pas encore "
                                                   "disponible : réessayez dans quelques minutes. S'il manque "
                                                   "toujours demain, contactez le service enfance.")
    return documents.invoice_download_url(invoice["pdf_key"])


def credit_note_download_url(storage, documents, family_number: str, number: str, page_key: str | None = None) -> str:
    """A presigned GET of one of the family's credit note PDFs (looked for in this family's
    partition only, and the session's responsable's only: `page_key`, as an invoice's); a
    credit note whose PDF is not written yet is not found either."""
    from chalicelib.storage import credit_note_sk

    plausible = 0 < len(number) <= 30 and number.isascii() and number.replace("-", "").isalnum()
    note = _own_item(storage, family_number, credit_note_sk(number), page_key) if plausible else None
    if note is None or not note.get("pdf_written_at"):
        raise Refusal(404, "credit_note_not_found", "Cet avoir est introuvable dans votre espace famille.")
    return documents.invoice_download_url(note["pdf_key"])


def read_message(storage, pages, family_number: str, message_id: str, now: datetime) -> None:
    """Marks one of the family's messages read, after which the pages that show it are
    rendered again; read again, its first instant stays and nothing is written. Another
    family's message is not found (Refusal 404): it is looked for in this family's
    partition only."""
    from chalicelib.pages import message_id as id_of
    from chalicelib.pages import pages_showing_messages
    state = storage.family_state(family_number)
    message = next((m for m in state.messages if id_of(m) == message_id), None)
    if message is None:
        raise Refusal(404, "message_not_found", "Ce message est introuvable dans votre boîte de réception.")
    if not message.get("read_at"):
        message["read_at"] = now.isoformat()
        if message.get("sending_id"):
            _mark_sent_message_read(storage, message)
        else:
            storage.update_attributes(message["pk"], message["sk"], {"read_at": message["read_at"]})
        pages.export(storage, family_number, now, only=pages_showing_messages(message_id), state=state)


def _mark_sent_message_read(storage, message: dict) -> None:
    """A staff message's first read mark and one more reader on its sending, together
    (chalicelib/staff/sent_store.py): two readings at once count the family once."""
    from chalicelib.staff.sent_store import mark_read

    mark_read(storage, message["pk"], message["sk"], message["read_at"], message["sending_id"])


def update_contact(accounts, pages, session, email: str, phone: str, current_password: str, source: str,
                   now: datetime) -> dict:
    """The account's e-mail and phone changed (AccountError when refused); the account
    page, which shows them, is rendered again. Returns the new details."""
    contact = accounts.update_contact(session, email, phone, current_password, source, now)
    pages.export(accounts.storage, session.family_number, now, only=["compte"])
    return contact


# --- « Mes documents » (chalicelib.family_documents) -------------------------------------------

def request_family_document(storage, documents, pages, commune, session, code, content_type, size, source: str,
                            now: datetime, *, redirect=None) -> dict:
    """A presigned S3 POST for one of the documents the commune asks for (DocumentError: an
    unknown kind, a bad file), the awaited item written; then « Mes documents » and the
    dashboard rendered again (they say the file is awaited)."""
    from chalicelib import family_documents
    from chalicelib.pages import pages_showing_documents

    upload = family_documents.request_upload(storage, documents, commune, session.family_number, code, content_type,
                                             size, session.login, source, now, redirect=redirect)
    pages.export(storage, session.family_number, now, only=pages_showing_documents())
    return upload


def family_document_received(storage, documents, pages, session, identifier: str, now: datetime) -> dict:
    """The family's page is back from a document's upload: the bucket is looked at, the
    document moves to « à examiner » when its file is there, its pages rendered again."""
    from chalicelib import family_documents
    from chalicelib.pages import pages_showing_documents

    item, changed = family_documents.receive(storage, documents, session.family_number, identifier, session.login,
                                             now)
    if changed:
        pages.export(storage, session.family_number, now, only=pages_showing_documents())
    return item
