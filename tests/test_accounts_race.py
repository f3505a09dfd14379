"""Races on accounts, through the embedded AWS (moto's server behind its lock)."""

from __future__ import annotations

import threading
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from chalicelib import passwords, table
from chalicelib.accounts import AccountError, Accounts
from chalicelib.password_reset import RESET_LINK_JOB, PasswordReset
from chalicelib.storage import Storage

from tests.conftest import GUIDE_NOW, add_family
from tests.conftest import race as shared_race

pytestmark = pytest.mark.server
THREADS = 10
PASSWORD = "une phrase de passe tres longue"


class CapturingMailer:
    def __init__(self):
        self.sent = []

    def send(self, to, subject, text):
        self.sent.append((to, subject, text))


def storage_for(embedded_aws, threads):
    client = boto3.client("dynamodb", endpoint_url=embedded_aws.endpoint_url,
                          config=Config(max_pool_connections=threads, retries={"max_attempts": 1}))
    return Storage(client, table.table_name())


def new_accounts(storage, mailer=None):
    """Accounts over the embedded AWS."""
    return Accounts(storage, mailer or CapturingMailer(), secret="secret-de-test", site_url="http://127.0.0.1:8000")


def new_password_reset(storage, mailer):
    """The password reset over the embedded AWS; deferred jobs run at once (no worker thread here)."""
    reset = PasswordReset(new_accounts(storage, mailer), defer=lambda kind, payload: jobs[kind](payload))
    jobs = {RESET_LINK_JOB: reset.send_reset_link}
    return reset


def test_ten_threads_racing_one_reset_token_exactly_one_wins(embedded_aws, embedded_resources):
    storage = storage_for(embedded_aws, THREADS)
    add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org")
    mailer = CapturingMailer()
    reset = new_password_reset(storage, mailer)
    reset.forgot_password("alice", "127.0.0.1", GUIDE_NOW)
    token = mailer.sent[0][2].split("/mot-de-passe/nouveau/#", 1)[1].split()[0]

    answers = race(THREADS, lambda n: reset.reset_password(
        token, f"nouvelle phrase secrete numero {n}", "127.0.0.1", GUIDE_NOW))
    outcomes = {n: "won" if answer == "ok" else answer for n, answer in enumerate(answers)}
    winners = [n for n, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes.values() if o != "won") == ["invalid_token"] * (THREADS - 1)
    stored = storage.login("alice")["password_hash"]
    assert passwords.verify_password(stored, f"nouvelle phrase secrete numero {winners[0]}")


# --- item 1: the login throttle holds under parallel requests -----------------------------

class VerificationCounter:
    """Counts argon2 verifications (each one is a password checked), from any thread."""

    def __init__(self, monkeypatch):
        from argon2 import PasswordHasher

        self.count = 0
        lock = threading.Lock()
        real = PasswordHasher.verify

        def counted(hasher, *args, **kwargs):
            nonlocal lock
            with lock:
                self.count += 1
            return real(hasher, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, "verify", counted)


def race(count, target):
    """Each attempt's outcome: "ok", or the code of the AccountError it met."""
    answers = shared_race(count, target, AccountError)
    return [answer.code if isinstance(answer, AccountError) else "ok" for answer in answers]


def test_twenty_parallel_wrong_passwords_lock_the_login_as_five_in_a_row_would(
        embedded_aws, embedded_resources, monkeypatch):
    storage = storage_for(embedded_aws, 20)
    add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org")
    accounts = new_accounts(storage)
    checked = VerificationCounter(monkeypatch)
    answers = race(20, lambda n: accounts.login("alice", f"mauvais {n}", "203.0.113.7", GUIDE_NOW))
    # The schedule lets 5 failures in a row be checked; the others wait without a check.
    assert sorted(answers) == ["invalid_credentials"] * 5 + ["too_many_attempts"] * 15
    assert checked.count == 5
    # Every checked failure was counted: the right password now waits 2 minutes...
    with pytest.raises(AccountError) as locked:
        accounts.login("alice", PASSWORD, "203.0.113.7", GUIDE_NOW + timedelta(seconds=1))
    assert (locked.value.code, locked.value.retry_after) == ("too_many_attempts", 119)
    assert checked.count == 5  # ...and is not even checked
    # ... and the next failure is the 6th in a row: 4 minutes.
    later = GUIDE_NOW + timedelta(minutes=2)
    with pytest.raises(AccountError) as sixth:
        accounts.login("alice", "encore faux", "203.0.113.7", later)
    assert sixth.value.code == "invalid_credentials"
    with pytest.raises(AccountError) as again:
        accounts.login("alice", PASSWORD, "203.0.113.7", later)
    assert again.value.retry_after == 240


def test_once_a_lock_ends_only_one_of_twenty_parallel_attempts_is_checked(
        embedded_aws, embedded_resources, monkeypatch):
    storage = storage_for(embedded_aws, 20)
    add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org")
    accounts = new_accounts(storage)
    for n in range(5):
        with pytest.raises(AccountError):
            accounts.login("alice", f"faux {n}", "203.0.113.7", GUIDE_NOW)
    checked = VerificationCounter(monkeypatch)
    later = GUIDE_NOW + timedelta(minutes=2)
    answers = race(20, lambda n: accounts.login("alice", f"mauvais {n}", "203.0.113.7", later))
    assert sorted(answers) == ["invalid_credentials"] + ["too_many_attempts"] * 19
    assert checked.count == 1
    with pytest.raises(AccountError) as locked:
        accounts.login("alice", PASSWORD, "203.0.113.7", later)
    assert locked.value.retry_after == 240


def test_sixty_parallel_failures_from_one_source_across_logins_count_fifty(
        embedded_aws, embedded_resources, monkeypatch):
    storage = storage_for(embedded_aws, 60)
    add_family(storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA", email="alice@example.org")
    accounts = new_accounts(storage)
    checked = VerificationCounter(monkeypatch)
    answers = race(60, lambda n: accounts.login(f"inconnu{n:02d}", "faux", "203.0.113.7", GUIDE_NOW))
    assert sorted(answers) == ["invalid_credentials"] * 50 + ["too_many_attempts"] * 10
    assert checked.count == 50
    with pytest.raises(AccountError) as limited:
        accounts.login("alice", PASSWORD, "203.0.113.7", GUIDE_NOW)
    assert (limited.value.code, limited.value.retry_after) == ("too_many_attempts", 3600)
    # Another address is not concerned.
    accounts.login("alice", PASSWORD, "198.51.100.9", GUIDE_NOW)
