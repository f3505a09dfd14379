"""The password reset, « Mot de passe oublié ? » (docs/accounts.md, « Password reset »):
a request counted and audited, then a deferred job (RESET_LINK_JOB, chalicelib/jobs.py)
that mails a single-use link, then the new password set with that link.

A request does the same work, gets the same answer and takes the same time whether the
login exists or not: only the job looks it up. The accounts (their storage, mailer,
secret and site address) and `defer` (chalicelib.jobs.defer in the function) are
injected; the clock and the source address are arguments. Refusals are
accounts.AccountError.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chalicelib import passwords, sessions, throttle
from chalicelib import storage as st
from chalicelib.accounts import (
    MAX_LOGIN,
    RESERVE_TRIES,
    AccountError,
    Accounts,
    audit_actor,
    confirm_new_password,
    epoch,
    family_names,
    in_minutes,
    login_digest,
)
from chalicelib.table import TTL_ATTRIBUTE

RESET_VALIDITY = timedelta(minutes=30)
# The deferred job that mails a reset link (chalicelib/jobs.py).
RESET_LINK_JOB = "password_reset_link"


def invalid_token() -> AccountError:
    return AccountError(400, "invalid_token",
                        "Ce lien n'est plus valable : demandez un nouveau lien depuis « Mot de passe oublié ? ».")


def too_many_reset_requests(seconds: int) -> AccountError:
    return AccountError(
        429, "too_many_requests",
        f"Trop de demandes de nouveau mot de passe : réessayez dans {in_minutes(seconds)}. "
        "Un lien déjà envoyé reste valable 30 minutes.",
        retry_after=seconds,
    )


class PasswordReset:
    """The reset of the logins of `accounts`, with its storage, mailer, secret and site address."""

    def __init__(self, accounts: Accounts, defer: Callable[[str, dict], None] | None = None):
        self.accounts = accounts
        self.storage = accounts.storage
        if defer is None:
            from chalicelib import jobs

            defer = jobs.defer
        self.defer = defer

    def forgot_password(self, login: str, source: str, now: datetime) -> None:
        """Counts the request and defers the mail (`send_reset_link`): the same work, the
        same answer and the same time whether the login exists or not."""
        login = st.normalise_login(login or "")
        if not login:
            raise AccountError(400, "invalid_request", "Saisissez votre identifiant.")
        if len(login) > MAX_LOGIN:
            raise AccountError(400, "invalid_request", "Cet identifiant est trop long : vérifiez votre saisie.")
        source = throttle.source_key(source)
        digest = login_digest(self.accounts.secret, login)
        login_key = (st.login_throttle_pk(digest), st.RESET_REQUESTS)
        source_key = (st.source_pk(source), st.RESET_REQUESTS)
        wait, actor = 0, None
        for _ in range(RESERVE_TRIES):
            login_item, by_login, by_source = self.storage.login_records(login, digest, source, st.RESET_REQUESTS)
            actor = audit_actor(self.accounts.secret, login, login_item)
            by_login = frozenset((by_login or {}).get("recent") or ())
            by_source = frozenset((by_source or {}).get("recent") or ())
            windows = ((login_key, throttle.RESET_LOGIN_HOUR, by_login), (source_key, throttle.RESET_SOURCE_HOUR, by_source))
            wait = max(window.retry_after(markers, now) for _, window, markers in windows)
            if wait:
                break
            for key, window, markers in windows:
                if stale := window.stale(markers, now):
                    self.storage.prune_markers(*key, stale)
            marker = throttle.new_marker(now, secrets.token_hex(4))
            ttl = epoch(now + throttle.RESET_WINDOW)
            if self.storage.transact_if([
                *(self.storage.count_action(*key, throttle.Guard(window_below=window.limit), marker, ttl)
                  for key, window, _ in windows),
                self.storage.put_action(self.storage.audit_item(now, actor, "password_reset_requested",
                                                                {"source": source}, by_family=True)),
            ]):
                self.defer(RESET_LINK_JOB, {"login": login, "requested_at": now.astimezone(UTC).isoformat()})
                return
        wait = max(wait, 1)
        self.storage.audit(now, actor, "password_reset_throttled", {"source": source, "retry_after": wait},
                           by_family=True)
        raise too_many_reset_requests(wait)

    def send_reset_link(self, payload: dict) -> None:
        """The deferred half of « Mot de passe oublié »: mails a single-use link when the
        login exists and has an address; does nothing otherwise."""
        login = st.normalise_login(str(payload.get("login") or ""))
        now = datetime.fromisoformat(payload["requested_at"])
        login_item = self.storage.login(login) if 0 < len(login) <= MAX_LOGIN else None
        if not login_item:
            return
        responsable = self._responsable(login_item)
        if not responsable.get("email"):
            return
        token = secrets.token_urlsafe(32)  # 256 bits, stored hashed
        self.storage.put({
            "pk": st.reset_token_pk(sessions.token_hash(token)), "sk": st.RESET, "kind": "reset_token",
            "login": login, "created_at": now, TTL_ATTRIBUTE: epoch(now + RESET_VALIDITY),
        })
        # The link is built from the configured address, never from the request's Host;
        # the token travels in the fragment, which no server log records.
        link = f"{self.accounts.site_url}/mot-de-passe/nouveau/#{token}"
        self.accounts.mailer.send(
            responsable["email"],
            "Portail Famille : choisir un nouveau mot de passe",
            f"Bonjour,\n\nUne demande de nouveau mot de passe a été faite pour votre compte du Portail Famille"
            f"{' de ' + self.accounts.commune_name if self.accounts.commune_name else ''}.\n\n"
            f"Pour choisir votre nouveau mot de passe, ouvrez ce lien dans les 30 minutes :\n{link}\n\n"
            "Ce lien ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message : "
            "votre mot de passe actuel reste valable.\n",
        )

    def reset_password(self, token: str, password: str, source: str, now: datetime) -> None:
        """Sets the password of a valid token (once); revokes every session; logs nobody in."""
        if not token or len(token) > 200:
            raise invalid_token()
        token_hash = sessions.token_hash(token)
        record = self.storage.get(st.reset_token_pk(token_hash), st.RESET)
        if not record or int(record[TTL_ATTRIBUTE]) <= epoch(now):
            raise invalid_token()
        login = record["login"]
        login_item = self.storage.login(login)
        if login_item is None:
            raise invalid_token()
        state = self.storage.family_state(login_item["family_number"])
        responsable = next((r for r in state.responsables if int(r["rank"]) == int(login_item["rank"])), {})
        problem = passwords.check_password_policy(password or "", login=login, email=responsable.get("email", ""),
                                                  names=family_names(state))
        if problem:
            raise AccountError(400, "weak_password", problem)  # the link stays usable
        if not self.storage.take_reset_token(token_hash, epoch(now)):
            raise invalid_token()  # another request used it first
        self.storage.update_attributes(st.login_pk(login), st.LOGIN, {
            "password_hash": passwords.hash_password(password), "password_changed_at": now.astimezone(UTC).isoformat(),
            "demo_only": False,
        })
        # A reset never locks anyone out: the login's count starts again.
        self.storage.batch_write([], [(st.login_throttle_pk(login_digest(self.accounts.secret, login)), st.THROTTLE)])
        self.storage.revoke_sessions(login, extra=[self.storage.audit_item(now, login, "password_reset", {"source": source},
                                                                           by_family=True)])
        confirm_new_password(self.accounts.mailer, self.accounts.site_url, responsable)

    def _responsable(self, login_item: dict) -> dict:
        return self.storage.get(st.family_pk(login_item["family_number"]),
                                st.responsable_sk(int(login_item["rank"]))) or {}
