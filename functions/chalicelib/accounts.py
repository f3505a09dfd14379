"""Accounts: login, logout, password change, contact details (docs/http-api.md); the
password reset (« Mot de passe oublié ? ») is in password_reset.py.

The storage and the mailer are injected: the clock and the source address are
arguments. Every outcome a parent
may meet is an AccountError with its HTTP status, its machine code and a French
sentence. Nothing here tells whether a login exists, and nothing stores a login as
typed unless it exists (a password typed in the login field stays nowhere): counters
are keyed, and unknown logins audited, by a keyed hash (`login_digest`).

Every password check (login, password change, e-mail change) is counted before it is
made (`_reserve`, chalicelib/throttle.py): the throttle holds however many requests
run in parallel.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import passwords, sessions, throttle
from chalicelib import storage as st
from chalicelib.families import checked_email, checked_phone
from chalicelib.refusals import Refusal
from chalicelib.sessions import Session

# Longer inputs are refused before any hashing: no one types 4 KB of password.
MAX_INPUT = 4096
MAX_LOGIN = 254
# Reading, then counting, is tried again when parallel requests changed the counters
# in between; past that, the attempt is refused (429), never checked uncounted.
RESERVE_TRIES = 3


class AccountError(Refusal):
    """An account call refused: a status, a code, a French sentence (and for a throttle, Retry-After)."""


def invalid_credentials() -> AccountError:
    return AccountError(401, "invalid_credentials", "Identifiant ou mot de passe incorrect.")


def wrong_current_password() -> AccountError:
    return AccountError(400, "invalid_credentials", "Le mot de passe actuel est incorrect.")


def in_minutes(seconds: int) -> str:
    """A wait in whole minutes, in French (« 3 minutes »), never less than one."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def too_many_attempts(seconds: int) -> AccountError:
    return AccountError(
        429, "too_many_attempts",
        f"Trop de tentatives de connexion : réessayez dans {in_minutes(seconds)}, "
        "ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? ».",
        retry_after=seconds,
    )


def login_digest(secret: str, login: str) -> str:
    """A keyed hash of a login as typed (normalised): the key of its counters, and how
    an unknown login is audited. Without the stage's secret it cannot be reversed by
    hashing guesses."""
    return hmac.new(secret.encode(), f"login:{st.normalise_login(login)}".encode(), hashlib.sha256).hexdigest()[:32]


def family_names(state: st.FamilyState) -> list[str]:
    """The family's names a password must not be built on: every responsable's and
    child's first and last names."""
    return [item.get(name) or "" for item in (*state.responsables, *state.children)
            for name in ("first_name", "last_name")]


def audit_actor(secret: str, login: str, login_item: dict | None) -> str:
    """Who an audit entry names: a known login as it is, an unknown one by its keyed hash."""
    return login if login_item else f"inconnu:{login_digest(secret, login)[:16]}"


def epoch(when: datetime) -> int:
    return int(when.timestamp())


def confirm_new_password(mailer, site_url: str, responsable: dict) -> None:
    """Tells the responsable's address that the password changed (after a change or a reset)."""
    if responsable.get("email"):
        mailer.send(
            responsable["email"],
            "Portail Famille : votre mot de passe a été changé",
            "Bonjour,\n\nLe mot de passe de votre compte du Portail Famille vient d'être changé, et toutes "
            "les connexions ouvertes ont été fermées.\n\nSi vous n'êtes pas à l'origine de ce changement, "
            f"choisissez immédiatement un nouveau mot de passe depuis {site_url}/connexion/ "
            "(« Mot de passe oublié ? ») et prévenez le service Enfance.\n",
        )


@dataclass(frozen=True)
class Attempt:
    """A password check already counted as a failure (`Accounts._reserve`): a success
    takes the count back (`Accounts._proof_actions`)."""

    login_item: dict | None
    throttle_key: tuple[str, str]
    source_key: tuple[str, str]
    marker: str
    # Written with the count, presuming a failure; a success rewrites it (same key).
    audit: dict


class Accounts:
    def __init__(self, storage: st.Storage, mailer, *, secret: str, site_url: str, demo_mode: bool = False,
                 commune_name: str = "", contact_email: str = "", contact_phone: str = ""):
        if not secret:
            raise ValueError("the stage's secret is needed (keyed hashes of logins)")
        self.storage = storage
        self.mailer = mailer
        self.secret = secret
        self.site_url = site_url.rstrip("/")
        self.demo_mode = demo_mode
        self.commune_name = commune_name
        self.contact_email = contact_email
        self.contact_phone = contact_phone

    # counting password checks ---------------------------------------------------------

    def _reserve(self, login: str, source: str, now: datetime, failed_action: str,
                 throttled_action: str = "login_throttled") -> Attempt:
        """Counts the password check about to be made as a failure, for the login and the
        source, in one transaction with its audit entry, on the condition that the
        throttles still allow it; too_many_attempts (nothing checked) otherwise."""
        digest = login_digest(self.secret, login)
        throttle_key = (st.login_throttle_pk(digest), st.THROTTLE)
        source_key = (st.source_pk(source), st.THROTTLE)
        wait, login_item = 0, None
        for _ in range(RESERVE_TRIES):
            login_item, throttle_item, source_item = self.storage.login_records(login, digest, source)
            account = throttle.AccountThrottle.from_item(throttle_item)
            by_source = throttle.SourceThrottle.from_item(source_item)
            wait = max(throttle.account_retry_after(account, now), throttle.source_retry_after(by_source, now))
            if wait:
                break
            for key, stale in ((throttle_key, throttle.ACCOUNT_DAY.stale(account.markers, now)),
                               (source_key, throttle.SOURCE_HOUR.stale(by_source.markers, now))):
                if stale:
                    self.storage.prune_markers(*key, stale)
            marker = throttle.new_marker(now, secrets.token_hex(4))
            audit = self.storage.audit_item(now, audit_actor(self.secret, login, login_item), failed_action,
                                            {"source": source}, by_family=True)
            if self.storage.transact_if([
                self.storage.count_action(*throttle_key, throttle.account_guard(account), marker,
                                          epoch(now + throttle.DAILY_WINDOW)),
                self.storage.count_action(*source_key, throttle.source_guard(), marker,
                                          epoch(now + throttle.SOURCE_WINDOW)),
                self.storage.put_action(audit),
            ]):
                return Attempt(login_item, throttle_key, source_key, marker, audit)
        wait = max(wait, 1)  # parallel attempts took the places left: wait a moment
        self.storage.audit(now, audit_actor(self.secret, login, login_item), throttled_action,
                           {"source": source, "retry_after": wait}, by_family=True)
        raise too_many_attempts(wait)

    def _proof_actions(self, attempt: Attempt, action: str, details: dict | None = None) -> list[dict]:
        """The password was right: the login's count starts again, the source's takes this
        attempt back, and its audit entry says what happened (transaction actions)."""
        return [
            self.storage.delete_action(*attempt.throttle_key),
            self.storage.uncount_action(*attempt.source_key, attempt.marker),
            self.storage.put_action({**attempt.audit, "action": action,
                                     "details": {**attempt.audit["details"], **(details or {})}}),
        ]

    # login and sessions -------------------------------------------------------------

    def login(self, login: str, password: str, source: str, now: datetime) -> tuple[str, Session]:
        login = st.normalise_login(login or "")
        if not login or not password:
            raise AccountError(400, "invalid_request", "Saisissez votre identifiant et votre mot de passe.")
        if len(login) > MAX_LOGIN or len(password) > MAX_INPUT:
            raise invalid_credentials()
        source = throttle.source_key(source)  # an IPv6 address counts by its /64
        attempt = self._reserve(login, source, now, "login_failed")
        login_item = attempt.login_item
        stored = (login_item or {}).get("password_hash")
        usable = stored and (self.demo_mode or not login_item.get("demo_only"))
        # An unknown login costs one hash too: same answer, same time.
        accepted = passwords.verify_password(stored, password) if usable else passwords.verify_against_dummy(password)
        if not accepted:
            raise invalid_credentials()  # counted by the reservation

        token, session = sessions.start(login_item, login, now)
        rehashed = passwords.hash_password(password) if passwords.needs_rehash(stored) else None
        self.storage.transact_retrying([
            self.storage.put_action(session.to_item()),
            *self._proof_actions(attempt, "login"),
            self.storage.add_session_action(login, session.token_hash, new_password_hash=rehashed),
        ])
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
                                 [self.storage.audit_item(now, session.login, "logout", {"source": source},
                                                          by_family=True)])

    # passwords ----------------------------------------------------------------------

    def change_password(self, session: Session, current: str, new: str, source: str, now: datetime) -> int:
        """Sets a new password; every other session of the login is revoked. Returns how many."""
        if not current or not new or len(current) > MAX_INPUT or len(new) > MAX_INPUT:
            raise AccountError(400, "invalid_request", "Saisissez votre mot de passe actuel et le nouveau.")
        state = self.storage.family_state(session.family_number)
        responsable = next((r for r in state.responsables if int(r["rank"]) == session.rank), {})
        problem = passwords.check_password_policy(new, login=session.login, email=responsable.get("email", ""),
                                                  names=family_names(state))
        if problem:
            raise AccountError(400, "weak_password", problem)
        attempt = self._reserve(session.login, throttle.source_key(source), now, "password_change_failed",
                                "password_change_throttled")
        if not passwords.verify_password((attempt.login_item or {}).get("password_hash"), current):
            raise wrong_current_password()  # counted as a failed login by the reservation
        self.storage.transact_retrying([
            *self._proof_actions(attempt, "password_changed"),
            self.storage.update_if_action(st.login_pk(session.login), st.LOGIN, {
                "password_hash": passwords.hash_password(new),
                "password_changed_at": now.astimezone(UTC).isoformat(), "demo_only": False}, {}),
        ])
        revoked = self.storage.revoke_sessions(session.login, keep=session.token_hash)
        confirm_new_password(self.mailer, self.site_url, responsable)
        return revoked

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

    def update_contact(self, session: Session, email: str, phone: str, current_password: str, source: str,
                       now: datetime) -> dict:
        """Sets the responsable's address and phone. A new address (where reset links go)
        needs the current password, checked and counted as a login; the previous address
        is then told."""
        try:
            email = checked_email(email or "")
            phone = checked_phone(phone) if (phone or "").strip() else ""
        except ValueError as error:
            raise AccountError(400, "invalid_contact", str(error)[0].upper() + str(error)[1:] + ".") from None
        key = (st.family_pk(session.family_number), st.responsable_sk(session.rank))
        previous = (self.storage.get(*key) or {}).get("email") or ""
        if email == previous.lower():
            self.storage.update_attributes(*key, {"email": email, "phone": phone})
            self.storage.audit(now, session.login, "contact_changed", {"source": source}, by_family=True)
            return {"email": email, "phone": phone}
        if not current_password:
            raise AccountError(400, "current_password_required",
                               "Saisissez votre mot de passe actuel pour changer d'adresse électronique.")
        if len(current_password) > MAX_INPUT:
            raise wrong_current_password()
        attempt = self._reserve(session.login, throttle.source_key(source), now, "contact_change_failed",
                                "contact_change_throttled")
        if not passwords.verify_password((attempt.login_item or {}).get("password_hash"), current_password):
            raise wrong_current_password()  # counted as a failed login by the reservation
        self.storage.transact_retrying([
            *self._proof_actions(attempt, "contact_changed", {"email_changed": True}),
            self.storage.update_if_action(*key, {"email": email, "phone": phone}, {}),
        ])
        if previous:
            self._tell_previous_address(previous)
        return {"email": email, "phone": phone}

    # helpers ------------------------------------------------------------------------

    def _town_hall(self) -> str:
        """Whom a parent calls at the town hall (commune.toml's contact)."""
        ways = " ou au ".join(w for w in (self.contact_email, self.contact_phone) if w)
        where = f"la mairie{' de ' + self.commune_name if self.commune_name else ''}"
        return f"{where} ({'par courriel à ' if self.contact_email else 'au '}{ways})" if ways else where

    def _tell_previous_address(self, previous: str) -> None:
        # The new address is not named: the old one may no longer be the parent's alone.
        self.mailer.send(
            previous,
            "Portail Famille : votre adresse électronique a été changée",
            "Bonjour,\n\nL'adresse électronique de votre compte du Portail Famille"
            f"{' de ' + self.commune_name if self.commune_name else ''} vient d'être changée : les messages du "
            "portail et les liens pour choisir un nouveau mot de passe seront désormais envoyés à la nouvelle "
            "adresse, et plus à celle-ci.\n\n"
            f"Si vous n'êtes pas à l'origine de ce changement, contactez sans attendre le service Enfance de "
            f"{self._town_hall()}.\n",
        )
