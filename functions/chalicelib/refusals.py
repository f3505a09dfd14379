"""A request refused as a whole, before anything is written: the HTTP status, the machine
code and the French sentence of the error shape `{"error": {"code", "message"}}`. The domain raises a
Refusal (or its own subclass: AccountError, BookingRequestError, DocumentError); the
routes' decorators (chalicelib/routes/calls.py) answer it, as JSON or, for a form, as a
redirect to the form's page with the error's anchor."""

from __future__ import annotations


class Refusal(Exception):
    """`retry_after`: the seconds to wait before asking again (a throttle), or None."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after
