"""The only module that sends mail (SES). Mails carry links, never private content."""

from __future__ import annotations


class Mailer:
    def __init__(self, ses_client, sender: str):
        self.ses = ses_client
        self.sender = sender

    def send(self, to: str, subject: str, text: str) -> None:
        self.ses.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
