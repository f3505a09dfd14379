"""Fixtures every test module reuses: the table on moto, the demo family, a frozen clock."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")

# Tests never reach real AWS: fake credentials, a fixed region, and no endpoint left
# over from a shell where `make run` was started.
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-3",
    PORTAIL_COMMUNE_FILE=str(ROOT / "content" / "commune.toml"),
)


@pytest.fixture(scope="session")
def commune():
    from chalicelib.config import load_commune

    return load_commune(ROOT / "content" / "commune.toml")


@pytest.fixture
def frozen_clock(monkeypatch):
    """Freezes the portal's clock (as `portail serve --now` does); returns a setter."""
    from chalicelib.clock import FROZEN_ENV

    def freeze(instant: datetime | str = GUIDE_NOW) -> datetime:
        text = instant if isinstance(instant, str) else instant.isoformat()
        monkeypatch.setenv(FROZEN_ENV, text)
        return datetime.fromisoformat(text)

    freeze()
    return freeze


def _new_storage():
    import boto3
    from chalicelib import table
    from chalicelib.storage import Storage

    client = boto3.client("dynamodb", region_name="eu-west-3")
    table.create_table(client, table.table_name())
    return Storage(client, table.table_name())


def pytest_configure(config):
    """moto as the embedded AWS runs it: no whole-table copy per transaction action
    (portail/moto_transactions.py), in every test process."""
    from portail import moto_transactions

    moto_transactions.install()


@pytest.fixture
def aws():
    """moto in-process, for single-threaded tests (race tests use the embedded server)."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def storage(aws):
    """The portal's table, empty, behind the storage module."""
    return _new_storage()


@pytest.fixture(scope="module")
def demo_storage():
    """The table seeded with the demo at the guide's date (read-only for its tests)."""
    from chalicelib.config import load_commune
    from moto import mock_aws

    from portail.demo import seed_demo

    with mock_aws():
        storage = _new_storage()
        seed_demo(storage, load_commune(ROOT / "content" / "commune.toml"), GUIDE_NOW)
        yield storage


@pytest.fixture(scope="session")
def signing_keys():
    """The stage's CloudFront key pair, made once for the test run."""
    from portail.local_keys import generate_signing_keys

    return generate_signing_keys()


@pytest.fixture
def client(storage, signing_keys, monkeypatch, commune):
    """Chalice's test client for the function, over the empty table, SES ready."""
    import boto3
    from app import app, reset_dependencies
    from chalice.test import Client

    from portail.local_keys import export_to_environment

    environment = {}
    export_to_environment(signing_keys, environment)
    for name, value in {**environment, "PORTAIL_SECRET": "secret-de-test"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PORTAIL_DEMO", raising=False)
    boto3.client("ses", region_name="eu-west-3").verify_email_identity(EmailAddress=commune.commune.contact_email)
    from chalicelib.table import bucket_name

    boto3.client("s3", region_name="eu-west-3").create_bucket(
        Bucket=bucket_name("pages"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    reset_dependencies()
    with Client(app, project_dir=str(ROOT / "functions")) as test_client:
        yield test_client
    from chalicelib import jobs

    jobs.drain()  # no deferred job outlives the test's AWS
    reset_dependencies()


@pytest.fixture
def mails():
    """The mails sent through SES so far: [{To, Subject, Body}] (moto's record)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    def sent() -> list[dict]:
        from chalicelib import jobs

        assert jobs.drain(), "deferred jobs still running after 30 s"  # mails sent by deferred jobs too
        return [{"To": m.destinations["ToAddresses"][0], "Subject": m.subject, "Body": m.body}
                for m in ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-3"].sent_messages]

    return sent


from portail.sample import add_family  # noqa: E402  (re-exported: tests import it from here)


@pytest.fixture
def families(storage):
    """Family A (login alice) and family B (login bob), each with a password."""
    return {
        "A": add_family(storage, "100", "alice", "une phrase de passe tres longue", last_name="ALPHA",
                        child="ANNA", email="alice@example.org"),
        "B": add_family(storage, "200", "bob", "un autre secret pour la famille B", last_name="BRAVO",
                        child="BRUNO", email="bob@example.org"),
    }


def all_items(storage) -> list[dict]:
    """Every item of the table (one Scan; moto's Query is slow on big tables)."""
    return storage.all_items()


def family_states(storage) -> dict:
    """Every family's state, grouped from one Scan."""
    from portail.family_export import family_states as grouped

    return grouped(storage)


@pytest.fixture
def enrolled(storage, families, frozen_clock):
    """Families A and B, their child enrolled in the four services; clock at the guide's."""
    for family in ("100", "200"):
        storage.update_attributes(f"FAMILY#{family}", "CHILD#1",
                                  {"services": ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]})
    return families


@pytest.fixture(scope="module")
def embedded_aws():
    """moto's server behind its lock, on a free loopback port: for race tests."""
    from portail.embedded_aws import EmbeddedAWS

    with EmbeddedAWS() as server:
        yield server


@pytest.fixture
def embedded_resources(embedded_aws, monkeypatch):
    """The table, buckets and SES sender on the embedded AWS, empty; boto3 points at it."""
    embedded_aws.reset()
    environment = {}
    embedded_aws.configure_environment(environment)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return embedded_aws.create_resources()
