"""Messages to families: one in the family's inbox, and a mail that only says there is
one, with a link. The mail never carries the message: neither its text nor its subject
(a private message's subject can be private too: « Impayé de novembre »).

`send` is the function's (one family, a short text it wrote); `send_many` is the staff's
`portail messages send` (one, many or all families), after `recipients` has checked
every family: all the messages go in one batch write, then one notice per address.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime

from chalicelib import storage as st

SENDER = "Service enfance"
NOTICE_SUBJECT = "Portail Famille : vous avez un nouveau message"
RANKS = (1, 2)


class MessageError(ValueError):
    """A send refused before anything is written: one French sentence."""


def message_item(family_number: str, subject: str, body_markdown: str, now: datetime,
                 sender: str = SENDER, body_html: str | None = None) -> dict:
    """The MESSAGE item of a family's inbox. `body_html` is the Markdown already rendered
    and sanitised by the sender's side (the function cannot import `markdown`); without
    it the pages show the Markdown text escaped."""
    message_id = secrets.token_hex(8)
    item = {
        "pk": st.family_pk(family_number), "sk": f"MESSAGE#{now.astimezone(UTC).isoformat()}#{message_id}",
        "kind": "message", "message_id": message_id, "sent_at": now, "subject": subject,
        "body_markdown": body_markdown, "sender": sender,
    }
    if body_html is not None:
        item["body_html"] = body_html
    return item


def notice_text(site_url: str, commune_name: str = "") -> str:
    """The mail's text: that a message is waiting, where to read it, and why it says no more."""
    where = f" de {commune_name}" if commune_name else ""
    return (
        "Bonjour,\n\n"
        f"Un nouveau message vous attend dans votre messagerie du Portail Famille{where}.\n\n"
        f"Connectez-vous pour le lire : {site_url.rstrip('/')}/connexion/\n\n"
        "Pour protéger votre vie privée, ce courriel ne reprend ni l'objet ni le contenu du message.\n"
    )


class Messages:
    def __init__(self, storage: st.Storage, mailer, site_url: str, commune_name: str = ""):
        self.storage = storage
        self.mailer = mailer
        self.site_url = site_url.rstrip("/")
        self.commune_name = commune_name

    def send(self, family_number: str, subject: str, body_markdown: str, now: datetime,
             body_html: str | None = None) -> dict:
        """Puts the message in the inbox and mails its responsables a notice."""
        item = message_item(family_number, subject, body_markdown, now, body_html=body_html)
        self.storage.put(item)
        responsables = self.storage.query_partition(st.family_pk(family_number), "RESPONSABLE#")
        self.notify(r.get("email") for r in responsables)
        return item

    def notify(self, addresses: Iterable[str | None]) -> list[tuple[str, Exception]]:
        """One notice per address (each address once: never several families in one mail's
        recipients). Returns the addresses SES refused, with why; the others are sent."""
        from botocore.exceptions import BotoCoreError, ClientError

        failed = []
        text = notice_text(self.site_url, self.commune_name)
        for address in dict.fromkeys(a.strip() for a in addresses if a and a.strip()):
            try:
                self.mailer.send(address, NOTICE_SUBJECT, text)
            except (BotoCoreError, ClientError) as error:
                failed.append((address, error))
        return failed

    # --- the staff's sends: one, many or all families ----------------------------------------

    def recipients(self, family_numbers: Iterable[str]) -> dict[str, list[str]]:
        """{family number: its responsables' addresses}, every family checked first: one
        unknown number refuses the whole send (MessageError naming them all). Profiles and
        responsables come by BatchGetItem, 33 families per round trip."""
        numbers = list(dict.fromkeys(family_numbers))
        keys = []
        for number in numbers:
            keys += [(st.family_pk(number), st.PROFILE), *((st.family_pk(number), st.responsable_sk(r)) for r in RANKS)]
        found = self.storage.batch_get(keys) if keys else {}
        unknown = [n for n in numbers if (st.family_pk(n), st.PROFILE) not in found]
        if unknown:
            listed = ", ".join(unknown)
            raise MessageError(f"Famille{'s' if len(unknown) > 1 else ''} inconnue{'s' if len(unknown) > 1 else ''} : "
                               f"{listed}. Aucun message n'est envoyé.")
        return {n: self._addresses(found, n) for n in numbers}

    def all_recipients(self) -> dict[str, list[str]]:
        """Every family (one Query of the index) and its responsables' addresses (BatchGetItem,
        50 families per round trip)."""
        numbers = self.storage.family_numbers()
        keys = [(st.family_pk(n), st.responsable_sk(r)) for n in numbers for r in RANKS]
        found = self.storage.batch_get(keys) if keys else {}
        return {n: self._addresses(found, n) for n in numbers}

    def families_booked(self, service: str, day: date) -> list[str]:
        """The families with a child booked (validated) for that service that day: one Query
        of the index `SERVICEDAY#<service>#<date>`."""
        days = self.storage.query_index(st.service_day_pk(service, day))
        return sorted({d["pk"].removeprefix("FAMILY#") for d in days if d.get("status") == "validated"})

    @staticmethod
    def _addresses(found: dict, number: str) -> list[str]:
        items = (found.get((st.family_pk(number), st.responsable_sk(r))) for r in RANKS)
        return [i["email"] for i in items if i and i.get("email")]

    def send_many(self, recipients: dict[str, list[str]], subject: str, body_markdown: str, now: datetime, *,
                  body_html: str | None = None, sender: str = SENDER, actor: str = "staff",
                  audit_details: dict | None = None) -> tuple[list[dict], list[tuple[str, Exception]]]:
        """One message per family of `recipients` (from `recipients` or `all_recipients`) and
        the audit entry, in one batch write (25 items per round trip); then the notices.
        Returns the items and the addresses whose notice could not leave."""
        if not recipients:
            raise MessageError("Aucune famille destinataire : aucun message n'est envoyé.")
        items = [message_item(n, subject, body_markdown, now, sender, body_html) for n in recipients]
        # The audit says who sent to whom, never what: the subject may be private.
        audit = self.storage.audit_item(now, actor, "messages_sent", {
            **(audit_details or {}), "families": sorted(recipients), "count": len(items)})
        self.storage.batch_write([*items, audit])
        failed = self.notify(a for addresses in recipients.values() for a in addresses)
        return items, failed
