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


@pytest.fixture
def client(storage):
    """Chalice's test client for the function, over the empty table."""
    from app import app
    from chalice.test import Client

    with Client(app, project_dir=str(ROOT / "functions")) as test_client:
        yield test_client


def all_items(storage) -> list[dict]:
    """Every item of the table (one Scan; moto's Query is slow on big tables)."""
    return storage.all_items()


def family_states(storage) -> dict:
    """Every family's state, grouped from one Scan."""
    from chalicelib.storage import FamilyState

    by_family: dict[str, list] = {}
    for item in all_items(storage):
        if item["pk"].startswith("FAMILY#"):
            by_family.setdefault(item["pk"].removeprefix("FAMILY#"), []).append(item)
    return {number: FamilyState.from_items(sorted(items, key=lambda i: i["sk"])) for number, items in by_family.items()}


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
