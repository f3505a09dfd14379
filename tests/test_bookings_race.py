"""Concurrency proofs through the embedded AWS (moto's server behind its lock, docs/architecture.md)."""

from __future__ import annotations

from datetime import date

import boto3
import pytest
from botocore.config import Config
from chalicelib import table
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.storage import Storage

from tests.conftest import GUIDE_NOW, commune_with, race

pytestmark = pytest.mark.server
DAY = date(2014, 12, 11)


@pytest.fixture
def small_room():
    """GARDERIE_MIDI with ten seats."""
    return commune_with(capacity=10, service="GARDERIE_MIDI")


def storage_for(embedded_aws, threads):
    client = boto3.client("dynamodb", endpoint_url=embedded_aws.endpoint_url,
                          config=Config(max_pool_connections=threads, retries={"max_attempts": 1}))
    return Storage(client, table.table_name())


def add_children(storage, count, family="100"):
    storage.batch_write([{"pk": f"FAMILY#{family}", "sk": "PROFILE", "family_number": family, "page_key": "0" * 32}]
                        + [{"pk": f"FAMILY#{family}", "sk": f"CHILD#{n}", "kind": "child", "child_id": str(n),
                            "first_name": f"ENFANT{n}", "services": ["GARDERIE_MIDI"]} for n in range(count)])



def test_fifty_children_racing_for_ten_seats(embedded_aws, embedded_resources, small_room):
    storage = storage_for(embedded_aws, 50)
    add_children(storage, 50)
    bookings = Bookings(storage, small_room)
    answers = race(50, lambda n: bookings.submit("100", str(n), 1, [Item(DAY, "GARDERIE_MIDI", "reserve")], GUIDE_NOW)[0][0])
    statuses = [a["status"] for a in answers]
    assert statuses.count("validated") == 10 and statuses.count("pending") == 40
    days = storage.query_index(f"SERVICEDAY#GARDERIE_MIDI#{DAY}")
    assert sorted(d["status"] for d in days) == ["pending"] * 40 + ["validated"] * 10
    assert storage.get(f"SERVICEDAY#GARDERIE_MIDI#{DAY}", "COUNTER")["validated"] == 10
    waiting = storage.query_partition(f"SERVICEDAY#GARDERIE_MIDI#{DAY}", "WAIT#")
    assert len(waiting) == 40


def test_twenty_requests_for_the_same_child_and_day_give_one_item(embedded_aws, embedded_resources, small_room):
    storage = storage_for(embedded_aws, 20)
    add_children(storage, 1)
    bookings = Bookings(storage, small_room)
    answers = race(20, lambda n: bookings.submit("100", "0", 1, [Item(DAY, "GARDERIE_MIDI", "reserve")], GUIDE_NOW)[0][0])
    statuses = sorted(a["status"] for a in answers)
    assert statuses == ["refused"] * 19 + ["validated"]
    assert {a["reason"] for a in answers if a["status"] == "refused"} == {"already_booked"}
    assert len(storage.query_index(f"SERVICEDAY#GARDERIE_MIDI#{DAY}")) == 1
    assert storage.get(f"SERVICEDAY#GARDERIE_MIDI#{DAY}", "COUNTER")["validated"] == 1
