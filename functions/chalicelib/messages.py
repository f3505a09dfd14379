"""Messages to families: one in the family's inbox, and a mail that only says there is
one, with a link (never the content of a private message in a mail)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from chalicelib import storage as st


def message_item(family_number: str, subject: str, body_markdown: str, now: datetime,
                 sender: str = "Service enfance") -> dict:
    message_id = secrets.token_hex(8)
    return {
        "pk": st.family_pk(family_number), "sk": f"MESSAGE#{now.astimezone(UTC).isoformat()}#{message_id}",
        "kind": "message", "message_id": message_id, "sent_at": now, "subject": subject,
        "body_markdown": body_markdown, "sender": sender,
    }


class Messages:
    def __init__(self, storage: st.Storage, mailer, site_url: str, commune_name: str = ""):
        self.storage = storage
        self.mailer = mailer
        self.site_url = site_url.rstrip("/")
        self.commune_name = commune_name

    def send(self, family_number: str, subject: str, body_markdown: str, now: datetime) -> dict:
        """Puts the message in the inbox and mails its responsables a notice."""
        item = message_item(family_number, subject, body_markdown, now)
        self.storage.put(item)
        for responsable in self.storage.query_partition(st.family_pk(family_number), "RESPONSABLE#"):
            if responsable.get("email"):
                self.mailer.send(
                    responsable["email"],
                    "Portail Famille : vous avez un nouveau message",
                    "Bonjour,\n\nUn nouveau message vous attend sur le Portail Famille"
                    f"{' de ' + self.commune_name if self.commune_name else ''} : « {subject} ».\n\n"
                    f"Connectez-vous pour le lire : {self.site_url}/connexion/\n",
                )
        return item
