"""Staff accounts' administration and enrolment (chalicelib/staff/accounts.py,
docs/staff.md): what `/gestion/agents/` and the `portail staff` commands build on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.staff.accounts import ENROLMENT_LIFETIME, StaffAccounts, StaffError

from tests.staff_client import STAFF_PASSWORD, totp_code


@pytest.fixture
def accounts(storage):
    return StaffAccounts(storage, secret="secret-de-test")


def test_a_new_account_enrols_once_with_its_link_then_logs_in(accounts):
    now = datetime.now(UTC)
    account, secret = accounts.create("Martine.D", "agent", now)
    assert (account.login, account.role, account.enrolled, account.disabled) == ("martine.d", "agent", False, False)
    with pytest.raises(StaffError) as refused:
        accounts.create("martine.d", "admin", now)
    assert refused.value.status == 409
    assert accounts.enrolment(account.enrolment_token, now) == ("martine.d", secret)
    with pytest.raises(StaffError) as refused:  # no password yet: no login
        accounts.login("martine.d", "", totp_code(secret, now), "127.0.0.1", now)
    # A weak password or a wrong code: refused, and the link still works.
    with pytest.raises(StaffError, match="au moins 12 caractères"):
        accounts.take_enrolment(account.enrolment_token, "court", totp_code(secret, now), now)
    with pytest.raises(StaffError, match="Ce code ne correspond pas"):
        accounts.take_enrolment(account.enrolment_token, STAFF_PASSWORD, "000000", now)
    enrolled = accounts.take_enrolment(account.enrolment_token, STAFF_PASSWORD, totp_code(secret, now), now)
    assert enrolled.enrolled
    with pytest.raises(StaffError, match="n'est plus valable"):  # used once
        accounts.take_enrolment(account.enrolment_token, STAFF_PASSWORD, totp_code(secret, now), now)
    # The enrolment's code was used: the login needs the next one.
    with pytest.raises(StaffError, match="code incorrect"):
        accounts.login("martine.d", STAFF_PASSWORD, totp_code(secret, now), "127.0.0.1", now)
    later = now + timedelta(seconds=60)
    token, session = accounts.login("martine.d", STAFF_PASSWORD, totp_code(secret, later), "127.0.0.1", later)
    assert session.role == "agent" and accounts.current_session(token, later) == session
    assert [a.login for a in accounts.accounts()] == ["martine.d"]


def test_an_enrolment_link_expires_after_7_days(accounts):
    now = datetime.now(UTC)
    account, secret = accounts.create("paul", "regie", now)
    assert accounts.enrolment(account.enrolment_token, now + ENROLMENT_LIFETIME) is None
    with pytest.raises(StaffError, match="n'est plus valable"):
        accounts.take_enrolment(account.enrolment_token, STAFF_PASSWORD, totp_code(secret, now), now + ENROLMENT_LIFETIME)


def test_a_reset_second_factor_refuses_the_old_apps_codes_and_ends_the_sessions(accounts):
    now = datetime.now(UTC)
    _, old = accounts.create("lea", "admin", now)
    accounts.set_password("lea", STAFF_PASSWORD, now)
    token, _ = accounts.login("lea", STAFF_PASSWORD, totp_code(old, now), "127.0.0.1", now)
    account, new = accounts.reset_second_factor("lea", now)
    assert new != old and account.enrolment_token
    assert accounts.current_session(token, now) is None
    later = now + timedelta(seconds=60)
    with pytest.raises(StaffError, match="code incorrect"):
        accounts.login("lea", STAFF_PASSWORD, totp_code(old, later), "127.0.0.1", later)
    assert accounts.login("lea", STAFF_PASSWORD, totp_code(new, later), "127.0.0.1", later)


def test_bad_logins_and_roles_are_french_400s_and_unknown_accounts_404s(accounts):
    now = datetime.now(UTC)
    for login in ("a", "é-agent", "deux mots", "x" * 65):
        with pytest.raises(StaffError, match="Identifiant invalide") as refused:
            accounts.create(login, "agent", now)
        assert refused.value.status == 400
    with pytest.raises(StaffError, match="Rôle « chef » inconnu"):
        accounts.create("chef", "chef", now)
    for change in (lambda: accounts.disable("personne", now), lambda: accounts.set_role("personne", "admin", now)):
        with pytest.raises(StaffError, match="Aucun compte « personne »") as refused:
            change()
        assert refused.value.status == 404
    assert accounts.accounts() == []
