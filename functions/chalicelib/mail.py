"""The only module that sends mail (SES). Mails carry links, never private content."""

from __future__ import annotations


class Mailer:
    """Sends the portal's mails through SES. `ses_client`: an SES client, or a function that
    makes one when the first mail is sent: a request reads its session through the
    accounts, which hold a mailer, and most never send a mail (chalicelib/dependencies.py)."""

    def __init__(self, ses_client, sender: str):
        self._ses = ses_client
        self.sender = sender

    @property
    def ses(self):
        if callable(self._ses):  # a boto3 client is not callable: a factory, called once
            self._ses = self._ses()
        return self._ses

    def send(self, to: str, subject: str, text: str) -> None:
        self.ses.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
