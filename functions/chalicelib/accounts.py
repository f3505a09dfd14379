"""Accounts: login, logout, password change and reset, contact details (DESIGN §4).

The storage and the mailer are injected; the clock and the source address are
arguments. Every outcome a parent may meet is an AccountError with its HTTP status,
its machine code and a French sentence. Nothing here tells whether a login exists.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib import passwords, sessions, throttle
from chalicelib import storage as st
from chalicelib.families import checked_email, checked_phone
from chalicelib.sessions import Session
from chalicelib.table import TTL_ATTRIBUTE

RESET_VALIDITY = timedelta(minutes=30)
RESET_MAILS_PER_HOUR = 3
# Longer inputs are refused before any hashing: no one types 4 KB of password.
MAX_INPUT = 4096


@dataclass
class AccountError(Exception):
    status: int
    code: str
    message: str
    retry_after: int | None = None


def invalid_credentials() -> AccountError:
    return AccountError(401, "invalid_credentials", "Identifiant ou mot de passe incorrect.")


def invalid_token() -> AccountError:
    return AccountError(400, "invalid_token",
                        "Ce lien n'est plus valable : demandez un nouveau lien depuis « Mot de passe oublié ? ».")


def too_many_attempts(seconds: int) -> AccountError:
    minutes = max(1, math.ceil(seconds / 60))
    return AccountError(
        429, "too_many_attempts",
        f"Trop de tentatives de connexion : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}, "
        "ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? ».",
        retry_after=seconds,
    )


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


class Accounts:
    def __init__(self, storage: st.Storage, mailer, *, site_url: str, demo_mode: bool = False,
                 commune_name: str = ""):
        self.storage = storage
        self.mailer = mailer
        self.site_url = site_url.rstrip("/")
        self.demo_mode = demo_mode
        self.commune_name = commune_name

    # login and sessions -------------------------------------------------------------

    def login(self, login: str, password: str, source: str, now: datetime) -> tuple[str, Session]:
        login = st.normalise_login(login or "")
        if not login or not password:
            raise AccountError(400, "invalid_request", "Saisissez votre identifiant et votre mot de passe.")
        if len(login) > 254 or len(password) > MAX_INPUT:
            raise invalid_credentials()
        source = throttle.source_key(source)  # an IPv6 address counts by its /64
        login_item, throttle_item, source_item = self.storage.login_records(login, source)
        account = throttle.AccountThrottle.from_item(throttle_item)
        by_source = throttle.SourceThrottle.from_item(source_item)
        wait = max(throttle.account_retry_after(account, now), throttle.source_retry_after(by_source, now))
        if wait:
            self.storage.audit(now, login, "login_throttled", {"source": source, "retry_after": wait})
            raise too_many_attempts(wait)

        stored = (login_item or {}).get("password_hash")
        usable = stored and (self.demo_mode or not login_item.get("demo_only"))
        # An unknown login costs one hash too: same answer, same time.
        accepted = passwords.verify_password(stored, password) if usable else passwords.verify_against_dummy(password)
        if not accepted:
            account = throttle.after_failure(account, now)
            by_source = throttle.source_after_failure(by_source, now)
            self.storage.batch_write([
                {"pk": st.login_pk(login), "sk": st.THROTTLE, **account.to_item(),
                 TTL_ATTRIBUTE: _epoch(now + timedelta(days=1))},
                {"pk": st.source_pk(source), "sk": st.THROTTLE, **by_source.to_item(),
                 TTL_ATTRIBUTE: _epoch(now + timedelta(hours=1))},
                self.storage.audit_item(now, login, "login_failed", {"source": source}),
            ])
            raise invalid_credentials()

        token, session = sessions.start(login_item, login, now)
        self.storage.batch_write(
            [session.to_item(), self.storage.audit_item(now, login, "login", {"source": source})],
            [(st.login_pk(login), st.THROTTLE)] if throttle_item else [],
        )
        rehashed = passwords.hash_password(password) if passwords.needs_rehash(stored) else None
        self.storage.add_session(login, session.token_hash, new_password_hash=rehashed)
        return token, session

    def current_session(self, token: str | None, now: datetime) -> tuple[Session | None, bool]:
        """(the valid session of a cookie, whether its last-seen instant moved on now);
        (None, False) when there is none."""
        if not token or len(token) > 100:
            return None, False
        item = self.storage.session(sessions.token_hash(token))
        if item is None:
            return None, False
        session = Session.from_item(item)
        if not session.is_valid(now):
            return None, False
        if session.needs_touch(now):
            session = session.touched(now.astimezone(UTC))
            self.storage.put(session.to_item())
            return session, True
        return session, False

    def logout(self, session: Session, source: str, now: datetime) -> None:
        self.storage.end_session(session.login, session.token_hash,
                                 [self.storage.audit_item(now, session.login, "logout", {"source": source})])

    # passwords ----------------------------------------------------------------------

    def change_password(self, session: Session, current: str, new: str, source: str, now: datetime) -> int:
        """Sets a new password; every other session of the login is revoked. Returns how many."""
        if not current or not new or len(current) > MAX_INPUT or len(new) > MAX_INPUT:
            raise AccountError(400, "invalid_request", "Saisissez votre mot de passe actuel et le nouveau.")
        login_item = self.storage.login(session.login) or {}
        if not passwords.verify_password(login_item.get("password_hash"), current):
            self.storage.audit(now, session.login, "password_change_failed", {"source": source})
            raise AccountError(400, "invalid_credentials", "Le mot de passe actuel est incorrect.")
        responsable = self._responsable(login_item)
        problem = passwords.check_password_policy(new, login=session.login, email=responsable.get("email", ""))
        if problem:
            raise AccountError(400, "weak_password", problem)
        self.storage.update_attributes(st.login_pk(session.login), st.LOGIN, {
            "password_hash": passwords.hash_password(new), "password_changed_at": now.astimezone(UTC).isoformat(),
            "demo_only": False,
        })
        revoked = self.storage.revoke_sessions(session.login, keep=session.token_hash, extra=[
            self.storage.audit_item(now, session.login, "password_changed", {"source": source})])
        self._confirm_new_password(responsable, now)
        return revoked

    def forgot_password(self, login: str, source: str, now: datetime) -> None:
        """Mails a single-use link when the login exists and has an address; says nothing."""
        login = st.normalise_login(login or "")
        login_item = self.storage.login(login) if 0 < len(login) <= 254 else None
        self.storage.audit(now, login[:254] or "-", "password_reset_requested", {"source": source})
        if not login_item:
            return
        recent = [t for t in login_item.get("reset_requests", []) if datetime.fromisoformat(t) > now - timedelta(hours=1)]
        responsable = self._responsable(login_item)
        if len(recent) >= RESET_MAILS_PER_HOUR or not responsable.get("email"):
            return
        token = secrets.token_urlsafe(32)  # 256 bits, stored hashed
        self.storage.put({
            "pk": st.reset_token_pk(sessions.token_hash(token)), "sk": st.RESET, "kind": "reset_token",
            "login": login, "created_at": now, TTL_ATTRIBUTE: _epoch(now + RESET_VALIDITY),
        })
        self.storage.update_attributes(st.login_pk(login), st.LOGIN, {
            "reset_requests": [*recent, now.astimezone(UTC).isoformat()]})
        # The link is built from the configured address, never from the request's Host;
        # the token travels in the fragment, which no server log records.
        link = f"{self.site_url}/mot-de-passe/nouveau/#{token}"
        self.mailer.send(
            responsable["email"],
            "Portail Famille : choisir un nouveau mot de passe",
            f"Bonjour,\n\nUne demande de nouveau mot de passe a été faite pour votre compte du Portail Famille"
            f"{' de ' + self.commune_name if self.commune_name else ''}.\n\n"
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
        if not record or int(record[TTL_ATTRIBUTE]) <= _epoch(now):
            raise invalid_token()
        login = record["login"]
        login_item = self.storage.login(login)
        if login_item is None:
            raise invalid_token()
        responsable = self._responsable(login_item)
        problem = passwords.check_password_policy(password or "", login=login, email=responsable.get("email", ""))
        if problem:
            raise AccountError(400, "weak_password", problem)  # the link stays usable
        if not self.storage.take_reset_token(token_hash, _epoch(now)):
            raise invalid_token()  # another request used it first
        self.storage.update_attributes(st.login_pk(login), st.LOGIN, {
            "password_hash": passwords.hash_password(password), "password_changed_at": now.astimezone(UTC).isoformat(),
            "demo_only": False, "reset_requests": [],
        })
        self.storage.batch_write([], [(st.login_pk(login), st.THROTTLE)])  # a reset never locks anyone out
        self.storage.revoke_sessions(login, extra=[self.storage.audit_item(now, login, "password_reset", {"source": source})])
        self._confirm_new_password(responsable, now)

    # the account --------------------------------------------------------------------

    def me(self, session: Session) -> dict:
        state = self.storage.family_state(session.family_number)
        responsable = next((r for r in state.responsables if int(r["rank"]) == session.rank), {})
        return {
            "family_number": session.family_number,
            "responsable": {k: responsable.get(k, "") for k in ("civility", "last_name", "first_name", "email", "phone")},
            "home": session.home,
            "children": [
                {"id": c["child_id"], "first_name": c["first_name"], "last_name": c["last_name"],
                 "services": list(c.get("services", []))}
                for c in state.children
            ],
            "unread_messages": state.unread_messages,
        }

    def update_contact(self, session: Session, email: str, phone: str, source: str, now: datetime) -> dict:
        try:
            email = checked_email(email or "")
            phone = checked_phone(phone) if (phone or "").strip() else ""
        except ValueError as error:
            raise AccountError(400, "invalid_contact", str(error)[0].upper() + str(error)[1:] + ".") from None
        self.storage.update_attributes(st.family_pk(session.family_number), st.responsable_sk(session.rank),
                                       {"email": email, "phone": phone})
        self.storage.audit(now, session.login, "contact_changed", {"source": source})
        return {"email": email, "phone": phone}

    # helpers ------------------------------------------------------------------------

    def _responsable(self, login_item: dict) -> dict:
        return self.storage.get(st.family_pk(login_item["family_number"]),
                                st.responsable_sk(int(login_item["rank"]))) or {}

    def _confirm_new_password(self, responsable: dict, now: datetime) -> None:
        if responsable.get("email"):
            self.mailer.send(
                responsable["email"],
                "Portail Famille : votre mot de passe a été changé",
                "Bonjour,\n\nLe mot de passe de votre compte du Portail Famille vient d'être changé, et toutes "
                "les connexions ouvertes ont été fermées.\n\nSi vous n'êtes pas à l'origine de ce changement, "
                f"choisissez immédiatement un nouveau mot de passe depuis {self.site_url}/connexion/ "
                "(« Mot de passe oublié ? ») et prévenez le service Enfance.\n",
            )
