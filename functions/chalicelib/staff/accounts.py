"""Staff accounts (docs/staff.md): `STAFF#<login>` items, apart from the families' logins.

A staff login needs three things: the login, its password (argon2id, chalicelib/passwords.py)
and a TOTP code (RFC 6238, 6 digits, 30 s, pyotp) from the account's secret, checked
against the REAL clock (`real_now`: never the portal's frozen `--now` clock, which is the
family side's), one step either side. A code is accepted once: the step it belongs to is
stored by a conditional write (`last_totp_step < :step`) in the very transaction that
opens the session, so a replay fails even when two logins race with one code.

Any wrong part (unknown login, wrong password, wrong or used code, disabled account) gets
the same French sentence, after the same work (an unknown login costs one hash too).
Attempts are counted as the families' are (chalicelib/throttle.py, "reserve, then
verify"): per login under a keyed digest that a family's login never shares, and per
source address (the same counter as the families': it is the address that is counted).

`create` and `reset_second_factor` make a new secret and an enrolment link
(`STAFFENROL#<sha256>`, 7 days): the link's page shows the secret (a QR code and text),
and `take_enrolment` sets the password once a code from the app proves it is set up.
Every function takes its instant as an argument: the routes and commands read the clocks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib import passwords, throttle
from chalicelib import storage as st
from chalicelib.accounts import MAX_INPUT, MAX_LOGIN, RESERVE_TRIES, epoch, in_minutes
from chalicelib.keys import (
    STAFF,
    STAFF_ENROLMENT,
    STAFF_INDEX,
    STAFF_SESSION,
    staff_enrolment_pk,
    staff_pk,
    staff_session_pk,
)
from chalicelib.refusals import Refusal
from chalicelib.staff import sessions
from chalicelib.staff.roles import checked_role
from chalicelib.staff.store import StaffStore
from chalicelib.table import TTL_ATTRIBUTE

TOTP_STEP = 30  # seconds (RFC 6238's default, what every authenticator app uses)
TOTP_DIGITS = 6
TOTP_WINDOW = 1  # steps accepted either side of the current one (a phone's clock drifts)
ENROLMENT_LIFETIME = timedelta(days=7)
ENROLMENT_PATH = "/gestion/inscription/"  # + the token: the link's page (chalicelib/routes/gestion_agents.py)
# The demo's fixed secret and password (`portail serve --demo`): refused outside demo mode.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"
DEMO_PASSWORD = "portail-demo-2014"
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_CODE = re.compile(r"\d{6}")


class StaffError(Refusal):
    """A staff account call refused: a status, a code, a French sentence."""


def refused() -> StaffError:
    """The one answer to any wrong part of a staff login."""
    return StaffError(401, "invalid_credentials", "Identifiant, mot de passe ou code incorrect.")


def too_many_attempts(seconds: int) -> StaffError:
    return StaffError(429, "too_many_attempts",
                      f"Trop de tentatives de connexion : réessayez dans {in_minutes(seconds)}, "
                      "ou demandez à un administrateur de vérifier votre compte.", retry_after=seconds)


def staff_login_digest(secret: str, login: str) -> str:
    """The keyed hash a staff login's counters live under: never a family login's
    (`chalicelib.accounts.login_digest` hashes « login:… »)."""
    return hmac.new(secret.encode(), f"staff-login:{st.normalise_login(login)}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def checked_login(login: str) -> str:
    """A new staff login: 2 to 64 lower-case letters, digits, `.`, `_` or `-`."""
    login = st.normalise_login(login or "")
    if not _LOGIN.fullmatch(login):
        raise StaffError(400, "invalid_login", "Identifiant invalide : de 2 à 64 caractères parmi les lettres "
                                               "minuscules sans accent, les chiffres, « . », « _ » et « - ».")
    return login


def totp(secret: str):
    """The pyotp TOTP of a secret (6 digits, 30 s). The demo's secret is the 80-bit one
    every TOTP tutorial shows; pyotp asks 112 bits at least (as NIST does) of any other:
    that floor is lowered for it alone, accepted in demo mode only anyway."""
    import pyotp  # on first use: the function's cold start does not pay for it

    if secret == DEMO_TOTP_SECRET:
        class DemoTOTP(pyotp.TOTP):
            min_secret_length_bits = 80

        return DemoTOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)


def totp_step(secret: str, code: str, real_now: datetime) -> int | None:
    """The TOTP step (30-second period since 1970) whose code `code` is, within one step
    of `real_now`; None when it is none of them (or there is no usable secret)."""
    if not _CODE.fullmatch(code or "") or not secret:
        return None
    generator = totp(secret)
    current = int(real_now.timestamp()) // TOTP_STEP
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(generator.generate_otp(step).encode(), code.encode()):
            return step
    return None


def new_secret() -> str:
    import pyotp

    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def enrolment_link(site_url: str, token: str) -> str:
    """The address of an enrolment link's page (`/gestion/` is served by the site's host)."""
    return f"{site_url.rstrip('/')}{ENROLMENT_PATH}{token}"


def enrolment_hash(token: str) -> str:
    """What an account keeps of its one valid enrolment link (the link item's key part)."""
    return sessions.token_hash(token)


def provisioning_uri(login: str, secret: str, issuer: str) -> str:
    """The `otpauth://` address an authenticator app reads (as a QR code, or typed)."""
    return totp(secret).provisioning_uri(name=login, issuer_name=issuer)


@dataclass(frozen=True)
class StaffAccount:
    """A staff account as the back office shows it (never its secret nor its hash).
    `enrolment_token`: set only by `create` and `reset_second_factor`, for the link."""

    login: str
    role: str
    disabled: bool
    created_at: datetime
    enrolled: bool  # its password is set (the enrolment is done)
    enrolment_token: str | None = None
    last_login_at: datetime | None = None
    enrolment_expires_at: datetime | None = None  # with `enrolment_token`: the link's end

    @classmethod
    def from_item(cls, item: dict, enrolment_token: str | None = None,
                  enrolment_expires_at: datetime | None = None) -> StaffAccount:
        last = item.get("last_login_at")
        return cls(login=item["login"], role=item["role"], disabled=bool(item.get("disabled")),
                   created_at=datetime.fromisoformat(str(item["created_at"])),
                   enrolled=bool(item.get("password_hash")), enrolment_token=enrolment_token,
                   last_login_at=datetime.fromisoformat(str(last)) if last else None,
                   enrolment_expires_at=enrolment_expires_at)


def account_item(login: str, role: str, secret: str, now: datetime, **extra) -> dict:
    """A new account's item; listed by the index `STAFF` (gsi1), in the order of logins."""
    return {"pk": staff_pk(login), "sk": STAFF, "kind": "staff", "login": login, "role": role,
            "totp_secret": secret, "disabled": False, "created_at": now.astimezone(UTC),
            "gsi1pk": STAFF_INDEX, "gsi1sk": login, **extra}


@dataclass(frozen=True)
class _Attempt:
    item: dict | None
    throttle_key: tuple[str, str]
    source_key: tuple[str, str]
    marker: str
    audit: dict


class StaffAccounts:
    """The staff accounts of the table behind `storage`; `secret`: the stage's (keyed
    digests); `demo_mode`: `portail serve --demo` (the demo's secret and password accepted)."""

    def __init__(self, storage: st.Storage, *, secret: str, demo_mode: bool = False):
        if not secret:
            raise ValueError("the stage's secret is needed (keyed hashes of logins)")
        self.storage = storage
        self.store = StaffStore(storage)
        self.secret = secret
        self.demo_mode = demo_mode

    # reading --------------------------------------------------------------------------------

    def item(self, login: str) -> dict | None:
        return self.storage.get(staff_pk(login), STAFF)

    def account(self, login: str) -> StaffAccount | None:
        item = self.item(login)
        return StaffAccount.from_item(item) if item else None

    def accounts(self) -> list[StaffAccount]:
        """Every staff account, by login: one Query of the index `STAFF`."""
        return [StaffAccount.from_item(item) for item in self.storage.query_index(STAFF_INDEX)]

    # administration (the admin's page and `portail staff`) ----------------------------------

    def create(self, login: str, role: str, now: datetime) -> tuple[StaffAccount, str]:
        """A new account, without password until its enrolment: (the account with its
        `enrolment_token`, the TOTP secret). 409 when the login exists."""
        login = checked_login(login)
        try:
            role = checked_role(role)
        except ValueError as error:
            raise StaffError(400, "invalid_role", f"{str(error)[0].upper()}{str(error)[1:]}.") from None
        secret = new_secret()
        item = account_item(login, role, secret, now)
        token, enrolment = self._enrolment_item(login, now)
        item["enrolment_hash"] = enrolment_hash(token)
        if not self.storage.transact_if([self.storage.put_new_action(item), self.storage.put_action(enrolment)]):
            raise StaffError(409, "login_taken", f"L'identifiant « {login} » existe déjà.")
        return StaffAccount.from_item(_plain(item), token, now + ENROLMENT_LIFETIME), secret

    def set_password(self, login: str, password: str, now: datetime) -> None:
        """A new password (the policy of the families'); the account's sessions end."""
        self._check_password(login, password)
        self._change(login, {"password_hash": passwords.hash_password(password),
                             "password_changed_at": now.astimezone(UTC)}, remove=("demo_only",))

    def disable(self, login: str, now: datetime) -> None:
        """The account can no longer log in; its open sessions end now."""
        self._change(login, {"disabled": True, "disabled_at": now.astimezone(UTC)})

    def enable(self, login: str, now: datetime) -> None:
        self._change(login, {"disabled": False}, remove=("disabled_at",))

    def set_role(self, login: str, role: str, now: datetime) -> None:
        """A new role; the account's sessions end (the next login has the new menu)."""
        try:
            role = checked_role(role)
        except ValueError as error:
            raise StaffError(400, "invalid_role", f"{str(error)[0].upper()}{str(error)[1:]}.") from None
        self._change(login, {"role": role, "role_changed_at": now.astimezone(UTC)})

    def reset_second_factor(self, login: str, now: datetime) -> tuple[StaffAccount, str]:
        """A new TOTP secret (a lost phone): the old codes stop working, the sessions end,
        and a new enrolment link is made. (the account with its `enrolment_token`, the secret)."""
        secret = new_secret()
        token, enrolment = self._enrolment_item(st.normalise_login(login or ""), now)
        # The account names its one valid link: an older link, unused, shows nothing now.
        self._change(login, {"totp_secret": secret, "second_factor_reset_at": now.astimezone(UTC),
                             "enrolment_hash": enrolment_hash(token)}, remove=("demo_only",))
        self.storage.put(enrolment)
        return StaffAccount.from_item(self.item(login), token, now + ENROLMENT_LIFETIME), secret

    def _change(self, login: str, changes: dict, remove: tuple[str, ...] = ()) -> None:
        if not self.store.change_and_revoke(login, changes, remove):
            raise StaffError(404, "unknown_staff", f"Aucun compte « {st.normalise_login(login or '')} ».")

    def _check_password(self, login: str, password: str) -> None:
        if not password or len(password) > MAX_INPUT:
            raise StaffError(400, "weak_password", passwords.TOO_SHORT if not password else passwords.TOO_LONG)
        if password == DEMO_PASSWORD and not self.demo_mode:
            raise StaffError(400, "weak_password", "Ce mot de passe est celui de la démonstration : "
                                                   "choisissez-en un autre.")
        problem = passwords.check_password_policy(password, login=login)
        if problem:
            raise StaffError(400, "weak_password", problem)

    # enrolment -----------------------------------------------------------------------------

    def _enrolment_item(self, login: str, now: datetime) -> tuple[str, dict]:
        token = sessions.new_token()
        return token, {"pk": staff_enrolment_pk(sessions.token_hash(token)), "sk": STAFF_ENROLMENT,
                       "kind": "staff_enrolment", "login": login, "created_at": now.astimezone(UTC),
                       TTL_ATTRIBUTE: epoch(now + ENROLMENT_LIFETIME)}

    def enrolment(self, token: str, real_now: datetime) -> tuple[str, str] | None:
        """(login, TOTP secret) of a valid enrolment link, for its page; None otherwise."""
        if not token or len(token) > 100:
            return None
        link = self.storage.get(staff_enrolment_pk(sessions.token_hash(token)), STAFF_ENROLMENT)
        if not link or int(link[TTL_ATTRIBUTE]) <= epoch(real_now):
            return None
        item = self.item(link["login"])
        if not item or item.get("disabled") or item.get("enrolment_hash") != enrolment_hash(token):
            return None
        return item["login"], item["totp_secret"]

    def take_enrolment(self, token: str, password: str, code: str, real_now: datetime) -> StaffAccount:
        """Sets the password of the link's account once a code of its app proves the app
        is set up; the link is then used up (once, even in parallel). The code's step is
        taken: it cannot open a session afterwards."""
        found = self.enrolment(token, real_now)
        if found is None:
            raise StaffError(400, "invalid_enrolment", "Ce lien d'inscription n'est plus valable : "
                                                       "demandez-en un nouveau à un administrateur.")
        login, secret = found
        self._check_password(login, password)
        step = totp_step(secret, code, real_now)
        if step is None:
            raise StaffError(400, "invalid_code", "Ce code ne correspond pas : vérifiez l'heure de votre téléphone "
                                                  "et saisissez le code affiché maintenant.")
        written = self.storage.transact_if([
            self.store.take_enrolment_action(sessions.token_hash(token), epoch(real_now)),
            self.store.enrol_action(login, step, secret, enrolment_hash(token), passwords.hash_password(password),
                                    real_now),
            self.storage.put_action(self.storage.audit_item(real_now, login, "staff_enrolled", {})),
        ])
        if not written:
            raise StaffError(400, "invalid_enrolment", "Ce lien d'inscription a déjà servi, ou ce code aussi : "
                                                       "connectez-vous, ou demandez un nouveau lien.")
        return StaffAccount.from_item(self.item(login))

    # login and sessions -----------------------------------------------------------------------

    def login(self, login: str, password: str, code: str, source: str,
              real_now: datetime) -> tuple[str, sessions.StaffSession]:
        """(the token for the cookie, the session); `refused()` for any wrong part,
        `too_many_attempts` (429, Retry-After) when throttled."""
        login = st.normalise_login(login or "")
        code = (code or "").replace(" ", "")  # apps show « 123 456 »
        if not login or not password or not code:
            raise StaffError(400, "invalid_request",
                             "Saisissez votre identifiant, votre mot de passe et le code à 6 chiffres.")
        if len(login) > MAX_LOGIN or len(password) > MAX_INPUT or len(code) > 32:
            raise refused()
        attempt = self._reserve(login, throttle.source_key(source), real_now)
        item = attempt.item or {}
        secret = item.get("totp_secret") or ""
        usable = (item.get("password_hash") and not item.get("disabled")
                  and (self.demo_mode or (not item.get("demo_only") and secret != DEMO_TOTP_SECRET)))
        # An unknown or disabled login costs one hash too: same answer, same time.
        accepted = (passwords.verify_password(item["password_hash"], password) if usable
                    else passwords.verify_against_dummy(password))
        step = totp_step(secret, code, real_now) if accepted else None
        if step is None:
            raise refused()  # counted by the reservation
        token, session = sessions.start(item["login"], item["role"], real_now)
        if not self.storage.transact_if([
            self.storage.put_action(session.to_item()),
            self.store.open_session_action(item["login"], item["role"], step, session.token_hash, real_now),
            self.storage.delete_action(*attempt.throttle_key),
            self.storage.uncount_action(*attempt.source_key, attempt.marker),
            self.storage.put_action({**attempt.audit, "action": "staff_login"}),
        ]):
            raise refused()  # the code's step was used meanwhile (a replay), or the account changed
        return token, session

    def _reserve(self, login: str, source: str, real_now: datetime) -> _Attempt:
        """Counts the check about to be made as a failure, for the login and the source,
        with its audit entry, while the throttles allow it (chalicelib/throttle.py);
        too_many_attempts otherwise (nothing checked). As `Accounts._reserve`."""
        digest = staff_login_digest(self.secret, login)
        keys = [(staff_pk(login), STAFF), (st.login_throttle_pk(digest), st.THROTTLE),
                (st.source_pk(source), st.THROTTLE)]
        throttle_key, source_key = keys[1], keys[2]
        wait, item = 0, None
        for _ in range(RESERVE_TRIES):
            found = self.storage.batch_get(keys)
            item = found.get(keys[0])
            account = throttle.AccountThrottle.from_item(found.get(throttle_key))
            by_source = throttle.SourceThrottle.from_item(found.get(source_key))
            wait = max(throttle.account_retry_after(account, real_now),
                       throttle.source_retry_after(by_source, real_now))
            if wait:
                break
            for key, stale in ((throttle_key, throttle.ACCOUNT_DAY.stale(account.markers, real_now)),
                               (source_key, throttle.SOURCE_HOUR.stale(by_source.markers, real_now))):
                if stale:
                    self.storage.prune_markers(*key, stale)
            marker = throttle.new_marker(real_now, secrets.token_hex(4))
            audit = self.storage.audit_item(real_now, self._actor(login, item), "staff_login_failed",
                                            {"source": source})
            if self.storage.transact_if([
                self.storage.count_action(*throttle_key, throttle.account_guard(account), marker,
                                          epoch(real_now + throttle.DAILY_WINDOW)),
                self.storage.count_action(*source_key, throttle.source_guard(), marker,
                                          epoch(real_now + throttle.SOURCE_WINDOW)),
                self.storage.put_action(audit),
            ]):
                return _Attempt(item, throttle_key, source_key, marker, audit)
        wait = max(wait, 1)
        self.storage.audit(real_now, self._actor(login, item), "staff_login_throttled",
                           {"source": source, "retry_after": wait})
        raise too_many_attempts(wait)

    def _actor(self, login: str, item: dict | None) -> str:
        """Who an audit entry names: a known login as it is, an unknown one by its keyed hash."""
        return login if item else f"inconnu:{staff_login_digest(self.secret, login)[:16]}"

    def current_session(self, token: str | None, real_now: datetime) -> sessions.StaffSession | None:
        """The valid session of a cookie (its last-seen instant moved on, at most once a
        minute), or None."""
        if not token or len(token) > 100:
            return None
        item = self.storage.get(staff_session_pk(sessions.token_hash(token)), STAFF_SESSION)
        if item is None:
            return None
        session = sessions.StaffSession.from_item(item)
        if not session.is_valid(real_now):
            return None
        if session.needs_touch(real_now):
            session = session.touched(real_now)
            if not self.store.touch_session(session.token_hash, session.last_seen_at,
                                            int(session.expires_at.timestamp())):
                return None  # revoked meanwhile
        return session

    def logout(self, session: sessions.StaffSession, source: str, real_now: datetime) -> None:
        self.store.end_session(session.login, session.token_hash,
                               [self.storage.audit_item(real_now, session.login, "staff_logout", {"source": source})])


def _plain(item: dict) -> dict:
    """An item as the table gives it back (instants as ISO text)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in item.items()}
