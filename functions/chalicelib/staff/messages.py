"""Messages the staff write to families: one family, everyone booked on a service's day,
or all (docs/messages.md). `/gestion/messages/` and `portail messages send` call the same
functions here: `draft` (the checks and the HTML the families will see), `target` and
`MessageDesk.recipients` (who), `MessageDesk.send` (the writes, in the request) and
`MessageDesk.deliver` (the notice mails and the inbox pages, a chunk of families at a
time: the page defers it, the command runs it at once).

The Markdown is rendered by `chalicelib.safe_markdown`, the function's own renderer: the
preview, the family's pages and the command show the very same HTML.

Keys (docs/data-model.md): a sending's partition `SENT#<id>` holds its head (`SENT`: what
the list shows, its counters, on gsi1 `SENT` by instant), its text (`BODY`) and its
recipients in chunks (`RECIPIENTS#<n>`, CHUNK families each); each family gets a
`MESSAGE#<instant>#<id>` item carrying `sending_id`, whose first read mark adds one to the
head's `read` in the same transaction (chalicelib/family_actions.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from chalicelib import safe_markdown
from chalicelib import storage as st
from chalicelib.keys import SENT, SENT_BODY, sent_pk, sent_recipients_sk
from chalicelib.messages import SENDER, MessageError, message_item

MAX_SUBJECT = 150
MAX_SENDER = 80
MAX_BODY = 50_000  # characters: the Markdown fits a DynamoDB item (400 KB) in any script
# Families per recipients item and per delivery job: a job's mails and pages (about 0.15 s
# a family on AWS) stay far below Lambda's 15 minutes, a recipients item below 400 KB.
CHUNK = 500
DELIVER_JOB = "messages_deliver"
TARGETS = ("family", "service_day", "all")
REFUSED = "Aucun message n'est envoyé."
_FAMILY_NUMBER = re.compile(r"^\d{1,20}$")
_SENDING_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Draft:
    """A message as checked: its subject, Markdown, sender, and the HTML families see."""

    subject: str
    body_markdown: str
    sender: str = SENDER

    @property
    def body_html(self) -> str:
        return safe_markdown.render(self.body_markdown)


def draft(subject: str, body: str, sender: str | None = None) -> Draft:
    """The checked message; MessageError (400, French) otherwise. The subject and the
    sender are one line each; the body keeps its lines (Markdown)."""
    subject = " ".join(str(subject or "").split())
    sender = " ".join(str(sender or "").split()) or SENDER
    body = str(body or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if not subject:
        raise MessageError(f"L'objet du message est vide. {REFUSED}")
    if len(subject) > MAX_SUBJECT:
        raise MessageError(f"L'objet dépasse {MAX_SUBJECT} caractères ({len(subject)}). {REFUSED}")
    if len(sender) > MAX_SENDER:
        raise MessageError(f"L'expéditeur dépasse {MAX_SENDER} caractères. {REFUSED}")
    if not body:
        raise MessageError(f"Le texte du message est vide. {REFUSED}")
    if len(body) > MAX_BODY:
        raise MessageError(f"Le texte dépasse {MAX_BODY} caractères ({len(body)}). {REFUSED}", 413, "message_too_long")
    return Draft(subject, body, sender)


@dataclass(frozen=True)
class Target:
    """Who a message is for: `family` (`families`), `service_day` (`service`, `day`) or `all`."""

    kind: str
    families: tuple[str, ...] = ()
    service: str | None = None
    day: date | None = None

    def details(self) -> dict:
        """What the head and the journal keep of it (never the text)."""
        found = {"target": self.kind}
        if self.kind == "service_day":
            found.update(service=self.service, date=self.day.isoformat())
        return found


def family_numbers(text: str) -> tuple[str, ...]:
    """Family numbers separated by commas or blanks, each once; MessageError otherwise."""
    numbers = [part for part in re.split(r"[\s,;]+", str(text or "")) if part]
    for number in numbers:
        if not _FAMILY_NUMBER.match(number):
            raise MessageError(f"« {number[:30]} » n'est pas un numéro de famille (chiffres uniquement). {REFUSED}")
    if not numbers:
        raise MessageError(f"Indiquez le numéro de la famille. {REFUSED}")
    return tuple(dict.fromkeys(numbers))


def target(kind: str, commune, *, families: str = "", service: str = "", day: str | date = "") -> Target:
    """The target from what the staff typed (the form's fields, the command's options):
    MessageError (400, French) for an unknown kind, number, service or a malformed date."""
    from chalicelib.staff.csv_input import read_date, service_code

    if kind == "family":
        return Target("family", families=family_numbers(families))
    if kind == "all":
        return Target("all")
    if kind != "service_day":
        raise MessageError(f"Choisissez les destinataires : une famille, les familles d'un service un jour, "
                           f"ou toutes les familles. {REFUSED}")
    if not str(service or "").strip():
        raise MessageError(f"Choisissez le service. {REFUSED}")
    try:
        code = service_code(service, commune)
    except ValueError as error:
        text = str(error)
        raise MessageError(f"{text[:1].upper()}{text[1:]}. {REFUSED}") from None
    if isinstance(day, date):
        return Target("service_day", service=code, day=day)
    if not str(day or "").strip():
        raise MessageError(f"Choisissez le jour des réservations. {REFUSED}")
    try:
        parsed = read_date(str(day))
    except ValueError as error:
        text = str(error)
        raise MessageError(f"{text[:1].upper()}{text[1:]}. {REFUSED}") from None
    return Target("service_day", service=code, day=parsed)


def new_sending_id() -> str:
    """The form's idempotency token: the sending's id, made when the form is shown."""
    return secrets.token_hex(16)


def checked_sending_id(text: str) -> str:
    if not _SENDING_ID.match(text or ""):
        raise MessageError("Ce formulaire d'envoi est illisible : rechargez la page et recommencez.", 400,
                           "invalid_sending")
    return text


def fingerprint(message: Draft, chosen: Target) -> str:
    """What a repeated form must repeat to be the same sending (a double submit)."""
    data = [message.subject, message.body_markdown, message.sender, chosen.kind, list(chosen.families),
            chosen.service, chosen.day.isoformat() if chosen.day else None]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


class AlreadySent(Exception):
    """The form was sent already (the same token, the same message): its sending's head."""

    def __init__(self, head: dict):
        super().__init__(head["sending_id"])
        self.head = head


def describe(chosen: Target, count: int, commune) -> str:
    """The recipients in French: « 12 familles ayant un enfant réservé en … le … »."""
    from chalicelib.formatting import french_day

    families = f"{count} famille{'s' if count > 1 else ''}"
    if chosen.kind == "all":
        return f"toutes les familles ({count})"
    if chosen.kind == "service_day":
        return (f"{families} ayant un enfant réservé en {commune.service(chosen.service).label} "
                f"le {french_day(chosen.day)}")
    return f"la famille {chosen.families[0]}" if count == 1 else families


class MessageDesk:
    """`storage`: the portal's Storage; `commune`: its configuration."""

    def __init__(self, storage: st.Storage, commune):
        self.storage = storage
        self.commune = commune

    # --- who -------------------------------------------------------------------------------

    def recipients(self, chosen: Target) -> list[str]:
        """The families' numbers, each checked: an unknown family (404), a service's day
        without a validated child or a table without families (422) refuse the send.
        `family`: one BatchGetItem of the profiles (100 a round trip); `service_day`: one
        Query of gsi1 `SERVICEDAY#…` (a validated day only: a waiting, cancelled, refused or
        absent one does not count); `all`: one Query of gsi1 `FAMILIES`."""
        from chalicelib.formatting import short_date

        if chosen.kind == "family":
            found = self.storage.batch_get([(st.family_pk(n), st.PROFILE) for n in chosen.families])
            unknown = [n for n in chosen.families if (st.family_pk(n), st.PROFILE) not in found]
            if unknown:
                plural = "s" if len(unknown) > 1 else ""
                raise MessageError(f"Famille{plural} inconnue{plural} : {', '.join(unknown)}. {REFUSED}", 404,
                                   "family_not_found")
            return list(chosen.families)
        if chosen.kind == "service_day":
            days = self.storage.query_index(st.service_day_pk(chosen.service, chosen.day))
            booked = sorted({d["pk"].removeprefix("FAMILY#") for d in days if d.get("status") == "validated"})
            if not booked:
                raise MessageError(f"Aucun enfant n'est réservé (validé) en {self.commune.service(chosen.service).label}"
                                   f" le {short_date(chosen.day)} : aucun message n'est envoyé.", 422, "nobody_booked")
            return booked
        numbers = self.storage.family_numbers()
        if not numbers:
            raise MessageError(f"Aucune famille n'est enregistrée. {REFUSED}", 422, "no_family")
        return numbers

    # --- the send ------------------------------------------------------------------------

    def send(self, message: Draft, chosen: Target, recipients: list[str], now: datetime, actor: str, *,
             sending_id: str | None = None, details: dict | None = None) -> dict:
        """Writes the sending and every family's message; returns the head. The head is put
        first, on the condition that its id is new: the same form sent twice (its token)
        raises AlreadySent with the first head and writes nothing more, or a MessageError
        (409) when the message differs. Then one BatchWriteItem per 25 items: the text, the
        recipients' chunks, the messages and the journal's entry. Mails and pages are
        `deliver`'s."""
        if not recipients:
            raise MessageError(f"Aucune famille destinataire. {REFUSED}", 422, "no_family")
        sending_id = checked_sending_id(sending_id) if sending_id else new_sending_id()
        instant = now.astimezone(UTC).isoformat()
        chunks = [recipients[i:i + CHUNK] for i in range(0, len(recipients), CHUNK)]
        head = {"pk": sent_pk(sending_id), "sk": SENT, "kind": "sending", "sending_id": sending_id,
                "sent_at": now, "actor": actor, "subject": message.subject, "sender": message.sender,
                **chosen.details(), "families": len(recipients), "chunks": len(chunks), "read": 0, "delivered": 0,
                "fingerprint": fingerprint(message, chosen), "gsi1pk": SENT, "gsi1sk": f"{instant}#{sending_id}"}
        if chosen.kind == "family" and len(recipients) == 1:
            head["family_number"] = recipients[0]
        if not self.storage.transact_if([self.storage.put_new_action(head)]):
            first = self.storage.get(sent_pk(sending_id), SENT)
            if first is not None and first.get("fingerprint") == head["fingerprint"]:
                raise AlreadySent(first)
            raise MessageError("Ce formulaire a déjà servi à envoyer un autre message : ouvrez un nouveau "
                               "formulaire pour celui-ci.", 409, "sending_reused")
        items = [{"pk": sent_pk(sending_id), "sk": SENT_BODY, "body_markdown": message.body_markdown}]
        items += [{"pk": sent_pk(sending_id), "sk": sent_recipients_sk(n), "families": chunk}
                  for n, chunk in enumerate(chunks)]
        for number in recipients:
            item = message_item(number, message.subject, message.body_markdown, now, message.sender)
            item["message_id"] = sending_id  # one sending, one address in every family's inbox
            item["sk"] = f"MESSAGE#{instant}#{sending_id}"
            item["sending_id"] = sending_id
            items.append(item)
        # The journal says who sent to whom, never what: the subject may be private.
        items.append(self.storage.audit_item(now, actor, "messages_sent", {
            **(details or {}), **chosen.details(), "sending": sending_id, "families": sorted(recipients),
            "count": len(recipients)}))
        self.storage.batch_write(items)
        return head

    # --- mails and pages, a chunk at a time ----------------------------------------------

    def deliver(self, sending_id: str, chunk: int, notices, pages, now: datetime) -> Delivery:
        """The notice mails (`notices`: chalicelib.messages.Messages) and the inbox pages
        (`pages`: FamilyPages, or None when the caller cannot render them) of one chunk of
        recipients. The head's `delivered` goes up once per chunk, the first time only (a
        job Lambda tries again does not count twice)."""
        from botocore.exceptions import BotoCoreError, ClientError

        from chalicelib.pages import pages_showing_messages
        from chalicelib.staff.sent_store import count_action

        item = self.storage.get(sent_pk(sending_id), sent_recipients_sk(chunk))
        if item is None:
            return Delivery()
        families = list(item["families"])
        keys = [(st.family_pk(n), st.responsable_sk(r)) for n in families for r in (1, 2)]
        found = self.storage.batch_get(keys)
        # Each address once, even a responsable of two families (never several in one mail).
        addresses = list(dict.fromkeys(found[k]["email"].strip() for k in keys
                                       if k in found and (found[k].get("email") or "").strip()))
        failed = notices.notify(addresses)
        stale = []
        if pages is None:
            stale = families
        else:
            only = pages_showing_messages(sending_id)  # the new message's page, not every one
            shown_notices = pages.notices(self.storage, now)  # read once for the chunk, not per family
            for number in families:
                try:
                    pages.export_state(self.storage.family_state(number), now, only, shown_notices)
                except (BotoCoreError, ClientError):
                    stale.append(number)
        self.storage.transact_if([
            self.storage.update_if_action(sent_pk(sending_id), sent_recipients_sk(chunk),
                                          {"delivered_at": now}, {}, absent=["delivered_at"]),
            count_action(self.storage, sending_id, "delivered")])
        return Delivery(len(families), len(addresses) - len(failed), failed, stale)

    # --- what was sent ---------------------------------------------------------------------

    def sendings(self, before: str | None = None, limit: int = 30) -> tuple[list[dict], bool]:
        """The sendings newest first, `limit` a page, below the gsi1 key `before`: one Query
        of gsi1 `SENT` (never a Scan); and whether older ones remain."""
        from chalicelib.staff.journal_store import newest

        return newest(self.storage, SENT, index="gsi1", before=before, limit=limit)

    def sending(self, sending_id: str) -> tuple[dict, str] | None:
        """A sending's head and its Markdown text (one BatchGetItem), or None."""
        if not _SENDING_ID.match(sending_id or ""):
            return None
        found = self.storage.batch_get([(sent_pk(sending_id), SENT), (sent_pk(sending_id), SENT_BODY)])
        head = found.get((sent_pk(sending_id), SENT))
        if head is None:
            return None
        return head, found.get((sent_pk(sending_id), SENT_BODY), {}).get("body_markdown", "")


@dataclass
class Delivery:
    """What a chunk's delivery did: how many families, how many notices left, the
    addresses SES refused (with why), the families whose pages could not be rendered (the
    next action or the first login of a day renders them)."""

    families: int = 0
    notices: int = 0
    failed: list = None
    stale: list = None

    def __post_init__(self):
        self.failed = self.failed or []
        self.stale = self.stale or []
