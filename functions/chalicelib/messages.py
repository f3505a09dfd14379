"""Messages to families: one in the family's inbox, and a mail that only says there is
one, with a link. The mail never carries the message: neither its text nor its subject
(a private message's subject can be private too: « Impayé de novembre »).

`send` is the function's (one family, a short text it wrote); the staff's messages (one,
a service's day or all families: `/gestion/messages/`, `portail messages send`) are
chalicelib/staff/messages.py's, which mails its notices with `notify`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from chalicelib import storage as st
from chalicelib.refusals import Refusal

SENDER = "Service enfance"
NOTICE_SUBJECT = "Portail Famille : vous avez un nouveau message"
RANKS = (1, 2)


class MessageError(Refusal):
    """A send refused before anything is written: one French sentence, its HTTP status
    (the staff's page) and code."""

    def __init__(self, message: str, status: int = 400, code: str = "message_refused"):
        super().__init__(status, code, message)


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
