"""Sessions: random tokens, stored only hashed, with an idle and an absolute timeout.

OWASP Session Management: 256-bit tokens from `secrets`, a new one at every login, the
expiry checked in code at every use (DynamoDB's TTL deletes late), revocation by
deleting the stored hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chalicelib import storage as st
from chalicelib.table import TTL_ATTRIBUTE

COOKIE_NAME = "__Host-session"
CSRF_COOKIE_NAME = "__Host-csrf"
# The public pages' hint that a parent is logged in (espace_hint_header).
ESPACE_HINT_COOKIE = "__Host-portail-espace"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# The last-seen instant is written at most this often: one write per minute of
# activity, not one per call.
TOUCH_INTERVAL = timedelta(minutes=1)


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    token_hash: str
    family_number: str
    rank: int
    login: str
    page_key: str
    created_at: datetime
    last_seen_at: datetime

    @property
    def expires_at(self) -> datetime:
        return min(self.created_at + ABSOLUTE_TIMEOUT, self.last_seen_at + IDLE_TIMEOUT)

    @property
    def home(self) -> str:
        return f"/famille/{self.page_key}/"

    def is_valid(self, now: datetime) -> bool:
        return self.created_at <= now < self.expires_at

    def touched(self, now: datetime) -> Session:
        return replace(self, last_seen_at=now)

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= TOUCH_INTERVAL

    def to_item(self) -> dict:
        return {
            "pk": st.session_pk(self.token_hash),
            "sk": "SESSION",
            "kind": "session",
            "family_number": self.family_number,
            "rank": self.rank,
            "login": self.login,
            "page_key": self.page_key,
            "created_at": self.created_at,
            "last_seen_at": self.last_seen_at,
            TTL_ATTRIBUTE: int(self.expires_at.timestamp()),
        }

    @classmethod
    def from_item(cls, item: dict) -> Session:
        return cls(
            token_hash=item["pk"].removeprefix("SESSION#"),
            family_number=item["family_number"],
            rank=int(item["rank"]),
            login=item["login"],
            page_key=item["page_key"],
            created_at=datetime.fromisoformat(item["created_at"]),
            last_seen_at=datetime.fromisoformat(item["last_seen_at"]),
        )


def start(login_item: dict, login: str, now: datetime) -> tuple[str, Session]:
    """A new session for a checked login: (the token for the cookie, the session)."""
    token = new_token()
    now = now.astimezone(UTC)
    return token, Session(
        token_hash=token_hash(token),
        family_number=login_item["family_number"],
        rank=int(login_item["rank"]),
        login=st.normalise_login(login),
        page_key=login_item["page_key"],
        created_at=now,
        last_seen_at=now,
    )


def cookie_header(token: str) -> str:
    # No Expires: the browser forgets it when it closes; the server enforces timeouts.
    return f"{COOKIE_NAME}={token}; Path=/; Secure; HttpOnly; SameSite=Lax"


def clear_cookie_header() -> str:
    return f"{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"


def csrf_token(secret: str, page_key: str) -> str:
    """The token the family's forms carry: only who can read its pages knows it. It
    never changes (the pages are shared by every session of the family): what binds a
    post to the session is the CSRF cookie below."""
    return hmac.new(secret.encode(), f"csrf:{page_key}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_token_valid(secret: str, page_key: str, candidate: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError, a 500).
    return hmac.compare_digest(csrf_token(secret, page_key).encode(), (candidate or "").encode("utf-8", "replace"))


def session_csrf_token(secret: str, session_hash: str) -> str:
    """The CSRF cookie's value for one session: a new session gets a new one, and the
    one of an ended session matches no session. Derived (nothing more to store)."""
    return hmac.new(secret.encode(), f"csrf-session:{session_hash}".encode(), hashlib.sha256).hexdigest()


def session_csrf_valid(secret: str, session_hash: str, candidate: str | None) -> bool:
    return hmac.compare_digest(session_csrf_token(secret, session_hash).encode(),
                               (candidate or "").encode("utf-8", "replace"))


def csrf_cookie_header(secret: str, session_hash: str) -> str:
    # SameSite=Strict: no request started by another site ever carries it, not even a
    # top-level form post or a link; HttpOnly: no script needs it (the browser sends it).
    return (f"{CSRF_COOKIE_NAME}={session_csrf_token(secret, session_hash)}; "
            "Path=/; Secure; HttpOnly; SameSite=Strict")


def clear_csrf_cookie_header() -> str:
    return f"{CSRF_COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"


# --- the public pages' hint: « Mon espace » instead of « Se connecter » -------------------
# The public pages are the same cached files for everyone: they cannot know who is logged
# in. This cookie tells their script (portail.js), which shows « Mon espace » linking to
# the family's home. Not HttpOnly, since script reads it; it grants nothing: the path
# alone opens no page without the signed cookies, and a script of the portal's origin
# can already learn it from POST /api/session/renew (docs/accounts.md). It ends with the
# session (idle end at the time it is set, moved on with each renewal) and at logout.

def espace_hint_header(session: Session, now: datetime) -> str:
    seconds = max(0, int((session.expires_at - now).total_seconds()))
    return f"{ESPACE_HINT_COOKIE}={session.home}; Path=/; Max-Age={seconds}; Secure; SameSite=Lax"


def clear_espace_hint_header() -> str:
    return f"{ESPACE_HINT_COOKIE}=; Path=/; Max-Age=0; Secure; SameSite=Lax"
