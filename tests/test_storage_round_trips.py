"""What each booking path costs in DynamoDB calls, and how many actions its transactions
hold: the domain asks storage in its own words (docs/data-model.md), and saying it that
way adds no round trip and splits no transaction (bench/bench_bookings.py measures a
month's submission through HTTP)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.waiting_list import WaitingList

from tests.conftest import GUIDE_NOW

DAY, OTHER_DAY, MIDI = date(2014, 12, 11), date(2014, 12, 12), "GARDERIE_MIDI"


class Calls:
    """DynamoDB calls as sent: how many of each, and the size of each transaction."""

    def __init__(self, client):
        self.operations: Counter[str] = Counter()
        self.transactions: list[int] = []
        client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, params, model, **_):
        self.operations[model.name] += 1
        if model.name == "TransactWriteItems":
            self.transactions.append(len(params["TransactItems"]))

    def take(self) -> tuple[dict, list[int]]:
        taken = dict(self.operations), list(self.transactions)
        self.operations.clear()
        self.transactions.clear()
        return taken


@pytest.fixture
def line(storage, commune):
    """Families 1 to 3, their child in GARDERIE MIDI; the 11th full but one seat; calls counted."""
    storage.batch_write([item for family in ("1", "2", "3") for item in (
        {"pk": st.family_pk(family), "sk": st.PROFILE, "family_number": family, "page_key": family * 32},
        {"pk": st.family_pk(family), "sk": st.child_sk("1"), "kind": "child", "child_id": "1", "services": [MIDI]},
    )])
    capacity = commune.service(MIDI).capacity
    storage.put({"pk": f"SERVICEDAY#{MIDI}#{DAY}", "sk": "COUNTER", "validated": capacity - 1})
    return Bookings(storage, commune), WaitingList(storage, commune), Calls(storage.client)


def submit(bookings, family: str, *items: tuple[date, str]) -> list[str]:
    answer, _ = bookings.submit(family, "1", 1, [Item(day, MIDI, action) for day, action in items], GUIDE_NOW)
    return [r["status"] for r in answer]


def test_each_booking_path_keeps_its_round_trips_and_its_transactions(line):
    bookings, waiting_list, calls = line
    # Reservations: the family's Query, one transaction (a seat and the day each), the request.
    assert submit(bookings, "1", (DAY, "reserve"), (OTHER_DAY, "reserve")) == ["validated", "validated"]
    assert calls.take() == ({"Query": 1, "TransactWriteItems": 1, "BatchWriteItem": 1}, [4])
    # A full day: the seat refused, then the day and its place in line.
    assert submit(bookings, "2", (DAY, "reserve")) == ["pending"]
    assert calls.take() == ({"Query": 1, "TransactWriteItems": 2, "BatchWriteItem": 1}, [2, 2])
    assert submit(bookings, "3", (DAY, "reserve")) == ["pending"]
    calls.take()
    # The waiting list, of a day or of every day: one Query of the index WAITING (the
    # names are on the WAIT items: no read per line), never a Scan.
    assert [w["family"] for w in waiting_list.pending(MIDI, DAY)] == ["2", "3"]
    assert calls.take() == ({"Query": 1}, [])
    assert [w["family"] for w in waiting_list.pending()] == ["2", "3"]
    assert calls.take() == ({"Query": 1}, [])
    # Leaving the line: the WAIT item the day names deleted with the day (no Query of the line).
    assert submit(bookings, "3", (DAY, "cancel")) == ["cancelled"]
    assert calls.take() == ({"Query": 1, "TransactWriteItems": 1, "BatchWriteItem": 1}, [2])
    # A cancellation frees a seat (day and counter together); the oldest waiting is promoted.
    assert submit(bookings, "1", (DAY, "cancel")) == ["cancelled"]
    assert calls.take() == ({"Query": 1, "TransactWriteItems": 1, "BatchWriteItem": 1}, [2])
    assert [p["family_number"] for p in waiting_list.promote(MIDI, DAY, GUIDE_NOW)] == ["2"]
    assert calls.take() == ({"Query": 1, "TransactWriteItems": 1}, [3])
    # Staff decide: the day read, one transaction (the day, its WAIT item, the family's
    # request line).
    assert submit(bookings, "3", (DAY, "reserve")) == ["pending"]
    calls.take()
    assert waiting_list.staff_decide("3", "1", MIDI, DAY, False, "complet", GUIDE_NOW)["status"] == "refused"
    assert calls.take() == ({"GetItem": 1, "TransactWriteItems": 1}, [3])
