"""A hypothesis state machine over bookings: reservations, cancellations, absences and
promotions across families, with the invariants parents and staff rely on."""

from __future__ import annotations

from datetime import date, datetime

import boto3
from chalicelib import table
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.storage import Storage
from chalicelib.waiting_list import WaitingList
from hypothesis import settings
from hypothesis import strategies as strats
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.conftest import commune_with, moto

FAMILIES = ("1", "2", "3")
DAYS = (date(2014, 12, 11), date(2014, 12, 12), date(2014, 12, 15))
SERVICES = ("GARDERIE_MIDI", "RESTAURATION")
CAPACITY = 2
BEFORE = datetime.fromisoformat("2014-11-28T12:00:00+01:00")  # every deadline ahead
AFTER = datetime.fromisoformat("2014-12-10T12:00:00+01:00")  # every deadline passed
COMMUNE = commune_with(capacity=CAPACITY, service="GARDERIE_MIDI")


_MOCK = moto()
_TABLES = iter(range(10**6))


def setup_module():
    _MOCK.__enter__()  # once: starting moto per example costs more than the example


def teardown_module():
    _MOCK.__exit__(None, None, None)


class BookingMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        client = boto3.client("dynamodb", region_name="eu-west-3")
        name = f"machine-{next(_TABLES)}"
        table.create_table(client, name)
        self.storage = Storage(client, name)
        self.storage.batch_write([
            item for family in FAMILIES for item in (
                {"pk": f"FAMILY#{family}", "sk": "PROFILE", "family_number": family, "page_key": family * 32},
                {"pk": f"FAMILY#{family}", "sk": "CHILD#1", "kind": "child", "child_id": "1",
                 "services": list(SERVICES)},
            )
        ])
        self.bookings = Bookings(self.storage, COMMUNE)
        self.waiting_list = WaitingList(self.storage, COMMUNE)
        self.now = BEFORE
        self.clock = 0

    def teardown(self):
        self.storage.client.delete_table(TableName=self.storage.table_name)

    def snapshot(self) -> dict:
        return {(i["pk"], i["sk"]): i for i in self.storage.all_items()}

    def act(self, family: str, day: date, service: str, action: str) -> None:
        before = self.snapshot()
        self.clock += 1
        now = self.now.replace(microsecond=self.clock)
        submission = self.bookings.submit_state(family, "1", 1, [Item(day, service, action)], now)
        results, freed = submission.results, submission.freed
        promoted = []
        for seat in freed:
            promoted += self.waiting_list.promote(*seat, now)
        after = self.snapshot()
        # The state the pages are rendered from (no second Query) is the one the table now
        # gives, unless a freed seat promoted this very family (then the pages read it again).
        if not any(p["family_number"] == family for p in promoted):
            assert submission.state == self.storage.family_state(family)
        # No family's partition changes but the one acting, except a promotion it waited for.
        promoted_keys = {(f"FAMILY#{p['family_number']}", f"DAY#{p['child_id']}#{p['date']}#{p['service']}")
                         for p in promoted}
        for key in set(before) | set(after):
            if key[0].startswith("FAMILY#") and key[0] != f"FAMILY#{family}" and key not in promoted_keys:
                assert before.get(key) == after.get(key), key
        for key in promoted_keys:
            assert before[key]["status"] == "pending" and after[key]["status"] == "validated"
            assert before[key].get("reason") != "staff_review"  # a freed seat never overrides staff
        # A day staff refused is never validated by the family: asked again, staff decide.
        own = (f"FAMILY#{family}", f"DAY#1#{day.isoformat()}#{service}")
        if (before.get(own) or {}).get("status") == "refused":
            assert after[own]["status"] in ("refused", "pending"), after[own]
        self.last = results[0]

    @rule(family=strats.sampled_from(FAMILIES), day=strats.sampled_from(DAYS), service=strats.sampled_from(SERVICES))
    def reserve(self, family, day, service):
        self.act(family, day, service, "reserve")

    @rule(family=strats.sampled_from(FAMILIES), day=strats.sampled_from(DAYS), service=strats.sampled_from(SERVICES))
    def cancel(self, family, day, service):
        self.act(family, day, service, "cancel")

    @rule(family=strats.sampled_from(FAMILIES), day=strats.sampled_from(DAYS), service=strats.sampled_from(SERVICES))
    def absence(self, family, day, service):
        self.act(family, day, service, "absence")

    def pending(self) -> list[dict]:
        return [i for i in self.storage.all_items() if i.get("kind") == "day" and i["status"] == "pending"]

    @precondition(lambda self: self.pending())
    @rule(data=strats.data(), accept=strats.booleans())
    def staff_decide(self, data, accept):
        day = data.draw(strats.sampled_from(self.pending()))
        family = day["pk"].removeprefix("FAMILY#")
        before = self.snapshot()
        self.clock += 1
        from chalicelib.booking_requests import BookingRequestError

        try:
            self.waiting_list.staff_decide(family, day["child_id"], day["service"],
                                           date.fromisoformat(day["date"]), accept, "décision du service",
                                           self.now.replace(microsecond=self.clock))
        except BookingRequestError as error:
            assert accept and error.code == "full"  # only an acceptance can fail: the day is full
        after = self.snapshot()
        for key in set(before) | set(after):
            if key[0].startswith("FAMILY#") and key[0] != f"FAMILY#{family}":
                assert before.get(key) == after.get(key), key

    @precondition(lambda self: self.now == BEFORE)
    @rule()
    def deadlines_pass(self):
        self.now = AFTER

    @invariant()
    def capacity_holds_and_the_counter_equals_the_days(self):
        for day in DAYS:
            for service in SERVICES:
                pk = f"SERVICEDAY#{service}#{day.isoformat()}"
                rows = self.storage.query_index(pk)
                holding = [r for r in rows if r["status"] in ("validated", "absent")]
                if service == "GARDERIE_MIDI":
                    counter = (self.storage.get(pk, "COUNTER") or {}).get("validated", 0)
                    assert counter == len(holding) <= CAPACITY
                # One day item per child: never a duplicate.
                assert len({r["gsi1sk"] for r in rows}) == len(rows)

    @invariant()
    def the_waiting_list_is_the_pending_days_in_arrival_order(self):
        for day in DAYS:
            pk = f"SERVICEDAY#GARDERIE_MIDI#{day.isoformat()}"
            waits = self.storage.query_partition(pk, "WAIT#")
            pending = {r["gsi1sk"] for r in self.storage.query_index(pk) if r["status"] == "pending"}
            assert [f"{w['family_number']}#{w['child_id']}" for w in waits] and pending or not pending
            assert {f"{w['family_number']}#{w['child_id']}" for w in waits} == pending
            assert [w["sk"] for w in waits] == sorted(w["sk"] for w in waits)
            counter = (self.storage.get(pk, "COUNTER") or {}).get("validated", 0)
            if counter < CAPACITY:  # those asking again after a refusal wait for staff, not a seat
                assert not [w for w in waits if not w.get("review")], "a free seat while someone waits"

    @invariant()
    def the_staff_list_is_every_pending_day_and_nothing_else(self):
        # The index WAITING alone (no second read) lists exactly the pending days: no WAIT
        # item outlives its day's `pending`, whatever took the day out of it.
        listed = sorted((w["family"], w["child"], w["service"], w["date"]) for w in self.waiting_list.pending())
        assert listed == sorted((d["pk"].removeprefix("FAMILY#"), d["child_id"], d["service"],
                                 date.fromisoformat(d["date"])) for d in self.pending())


TestBookingMachine = BookingMachine.TestCase
TestBookingMachine.settings = settings(max_examples=12, stateful_step_count=10, deadline=None)
