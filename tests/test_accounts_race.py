"""Races on accounts, through the embedded AWS (moto's server behind its lock)."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.config import Config
from chalicelib import passwords, table
from chalicelib.accounts import AccountError, Accounts
from chalicelib.storage import Storage

from tests.conftest import GUIDE_NOW, add_family

pytestmark = pytest.mark.server
THREADS = 10


class CapturingMailer:
    def __init__(self):
        self.sent = []

    def send(self, to, subject, text):
        self.sent.append((to, subject, text))


def test_ten_threads_racing_one_reset_token_exactly_one_wins(embedded_aws, embedded_resources):
    client = boto3.client("dynamodb", endpoint_url=embedded_aws.endpoint_url,
                          config=Config(max_pool_connections=THREADS, retries={"max_attempts": 1}))
    storage = Storage(client, table.table_name())
    add_family(storage, "100", "alice", "une phrase de passe tres longue", last_name="ALPHA", child="ANNA",
               email="alice@example.org")
    mailer = CapturingMailer()
    accounts = Accounts(storage, mailer, site_url="http://127.0.0.1:8000")
    accounts.forgot_password("alice", "127.0.0.1", GUIDE_NOW)
    token = mailer.sent[0][2].split("/mot-de-passe/nouveau/#", 1)[1].split()[0]

    barrier = threading.Barrier(THREADS)
    outcomes: dict[int, str] = {}

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            accounts.reset_password(token, f"nouvelle phrase secrete numero {n}", "127.0.0.1", GUIDE_NOW)
            outcomes[n] = "won"
        except AccountError as error:
            outcomes[n] = error.code

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [n for n, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes.values() if o != "won") == ["invalid_token"] * (THREADS - 1)
    stored = storage.login("alice")["password_hash"]
    assert passwords.verify_password(stored, f"nouvelle phrase secrete numero {winners[0]}")
