"""Staff sessions: their own cookie, shorter than a family's, always on the real clock.

As the families' (chalicelib/sessions.py): a 256-bit random token, stored only hashed
(`STAFFSESSION#<sha256>`), the expiry checked in code at every use (DynamoDB's TTL
deletes late). Idle 30 minutes, absolute 10 hours (a working day), on the real clock,
never the portal's frozen `--now`. The cookie is `SameSite=Strict`: no link or form of
another site carries it. Each session has its form token (`csrf_token`), derived from
its hash with the stage's secret: nothing more to store, and an ended session's token
matches nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chalicelib.keys import STAFF_SESSION, staff_session_pk
from chalicelib.sessions import new_token, token_hash
from chalicelib.table import TTL_ATTRIBUTE

COOKIE_NAME = "__Host-gestion"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)
TOUCH_INTERVAL = timedelta(minutes=1)  # the last-seen instant is written at most this often

__all__ = ["COOKIE_NAME", "StaffSession", "clear_cookie_header", "cookie_header", "csrf_token",
           "csrf_token_valid", "start", "token_hash"]


@dataclass(frozen=True)
class StaffSession:
    token_hash: str
    login: str
    role: str
    created_at: datetime
    last_seen_at: datetime

    @property
    def expires_at(self) -> datetime:
        return min(self.created_at + ABSOLUTE_TIMEOUT, self.last_seen_at + IDLE_TIMEOUT)

    def is_valid(self, real_now: datetime) -> bool:
        # A minute's leeway before its start: Lambda containers' clocks differ a little.
        return self.created_at - timedelta(minutes=1) <= real_now < self.expires_at

    def needs_touch(self, real_now: datetime) -> bool:
        return real_now - self.last_seen_at >= TOUCH_INTERVAL

    def touched(self, real_now: datetime) -> StaffSession:
        return replace(self, last_seen_at=real_now.astimezone(UTC))

    def to_item(self) -> dict:
        return {
            "pk": staff_session_pk(self.token_hash),
            "sk": STAFF_SESSION,
            "kind": "staff_session",
            "login": self.login,
            "role": self.role,
            "created_at": self.created_at,
            "last_seen_at": self.last_seen_at,
            TTL_ATTRIBUTE: int(self.expires_at.timestamp()),
        }

    @classmethod
    def from_item(cls, item: dict) -> StaffSession:
        return cls(
            token_hash=item["pk"].removeprefix("STAFFSESSION#"),
            login=item["login"],
            role=item["role"],
            created_at=datetime.fromisoformat(item["created_at"]),
            last_seen_at=datetime.fromisoformat(item["last_seen_at"]),
        )


def start(login: str, role: str, real_now: datetime) -> tuple[str, StaffSession]:
    """A new session for a checked login: (the token for the cookie, the session)."""
    token = new_token()
    real_now = real_now.astimezone(UTC)
    return token, StaffSession(token_hash(token), login, role, real_now, real_now)


def cookie_header(token: str) -> str:
    # No Expires: the browser forgets it when it closes; the server enforces the timeouts.
    return f"{COOKIE_NAME}={token}; Path=/; Secure; HttpOnly; SameSite=Strict"


def clear_cookie_header() -> str:
    return f"{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"


def csrf_token(secret: str, session_hash: str) -> str:
    """The token every form of this staff session carries."""
    return hmac.new(secret.encode(), f"staff-csrf:{session_hash}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_token_valid(secret: str, session_hash: str, candidate: str | None) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError, a 500).
    return hmac.compare_digest(csrf_token(secret, session_hash).encode(),
                               (candidate or "").encode("utf-8", "replace"))
