"""Pending requests decided by the service enfance (chalicelib.staff.requests): the list
from the index WAITING, bulk decisions within the capacity, what the family is told.

In-process moto for the rules; the race through the embedded AWS (docs/architecture.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.refusals import Refusal
from chalicelib.staff import requests
from chalicelib.waiting_list import WaitingList

from bench.round_trips import RoundTrips
from tests.conftest import GUIDE_NOW, add_family, all_items, commune_with, race

ALL = ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]
MIDI, DAY, NEXT = "GARDERIE_MIDI", date(2014, 12, 11), date(2014, 12, 12)  # Thursday, Friday
SEATS = 3  # GARDERIE_MIDI's capacity in tests/commune.toml


class Told:
    """The messages collaborator: records what each family is told (no SES needed)."""

    def __init__(self, storage):
        from chalicelib.messages import message_item

        self.storage, self.sent, self._item = storage, [], message_item

    def send(self, family, subject, body, now):
        self.sent.append((family, subject, body))
        item = self._item(family, subject, body, now)
        self.storage.put(item)
        return item  # as Messages.send


@pytest.fixture
def line(storage, commune):
    """Families 100 to 400 enrolled everywhere; GARDERIE MIDI of the 11th and 12th full."""
    for number, name, child in (("100", "ALPHA", "ANNA"), ("200", "BRAVO", "BRUNO"), ("300", "CHARLIE", "CLARA"),
                                ("400", "DELTA", "DAVID")):
        add_family(storage, number, name.lower(), None, last_name=name, child=child,
                   email=f"{name.lower()}@example.org", services=tuple(ALL))
    for day in (DAY, NEXT):
        storage.put({"pk": st.service_day_pk(MIDI, day), "sk": "COUNTER", "validated": SEATS})
    return Bookings(storage, commune)


def wait(bookings, family, day=DAY, minute=0, service=MIDI):
    (result,), _ = bookings.submit(family, "1", 1, [Item(day, service, "reserve")], GUIDE_NOW + timedelta(minutes=minute))
    assert result["status"] == "pending"


def free_seats(storage, count, day=DAY):
    storage.put({"pk": st.service_day_pk(MIDI, day), "sk": "COUNTER", "validated": SEATS - count})


def value(family, day=DAY, service=MIDI):
    return f"{family}/1/{service}/{day.isoformat()}"


def status_of(storage, family, day=DAY):
    return storage.get(st.family_pk(family), st.day_sk("1", day, MIDI))["status"]


# --- the list -----------------------------------------------------------------------------------

def test_the_list_is_one_query_oldest_day_first_with_the_names_and_positions(line, storage, commune):
    wait(line, "300", NEXT, minute=0)
    wait(line, "200", DAY, minute=1)
    wait(line, "100", DAY, minute=2)
    calls = RoundTrips(storage.client)
    lines, after = requests.pending_page(storage, commune)
    assert calls.by_operation == {"Query": 1}  # no Scan, no read per line: the names are on the items
    assert [(x["family"], x["date"], x["position"]) for x in lines] == [("200", DAY, 1), ("100", DAY, 2),
                                                                       ("300", NEXT, 1)]
    assert (lines[0]["child_name"], lines[0]["responsable_name"]) == ("BRAVO BRUNO", "Madame ANNE BRAVO")
    assert after is None
    # A date range is the Query's key condition; the service is filtered.
    assert [x["family"] for x in requests.pending_page(storage, commune, first=NEXT)[0]] == ["300"]
    assert [x["family"] for x in requests.pending_page(storage, commune, last=DAY)[0]] == ["200", "100"]
    assert requests.pending_page(storage, commune, service="RESTAURATION")[0] == []
    # A page ends with a day's whole line (positions stay right), then resumes after it.
    first, after = requests.pending_page(storage, commune, size=1)
    assert [x["family"] for x in first] == ["200", "100"] and after == first[-1]["index_sk"]
    rest, after = requests.pending_page(storage, commune, size=1, after=after)
    assert [(x["family"], x["position"]) for x in rest] == [("300", 1)] and after is None
    assert WaitingList(storage, commune).count() == 3


def test_a_wait_item_never_outlives_its_pending_day(line, storage, commune):
    wait(line, "100")
    wait(line, "200", minute=1)
    line.submit("100", "1", 1, [Item(DAY, MIDI, "cancel")], GUIDE_NOW + timedelta(minutes=2))
    assert [x["family"] for x in WaitingList(storage, commune).pending()] == ["200"]
    # A stale entry (written by hand here: no write leaves one) is decided as « not pending » and goes.
    storage.put({**storage.get(st.service_day_pk(MIDI, DAY), storage.get(st.family_pk("200"), st.day_sk("1", DAY, MIDI))["wait_sk"]),
                 "sk": st.wait_sk(GUIDE_NOW, "100", "1"), "family_number": "100",
                 "gsi1sk": st.waiting_index_sk(DAY, MIDI, GUIDE_NOW, "100", "1")})
    assert [x["family"] for x in WaitingList(storage, commune).pending()] == ["100", "200"]
    (outcome,) = requests.decide(storage, commune, Told(storage), None, [requests.parse_items([value("100")], commune)[0]],
                                 True, "", "agent", GUIDE_NOW)
    assert outcome.status == requests.NOT_PENDING and "annulée" in outcome.message
    assert [x["family"] for x in WaitingList(storage, commune).pending()] == ["200"]


# --- bulk decisions -----------------------------------------------------------------------------

def test_bulk_accept_within_the_capacity_leaves_the_full_days_pending_and_says_so(line, storage, commune):
    for minute, family in enumerate(("100", "200", "300")):
        wait(line, family, minute=minute)
    wait(line, "100", NEXT, minute=5)
    free_seats(storage, 1)
    free_seats(storage, 1, NEXT)
    told = Told(storage)
    items = requests.parse_items([value("100"), value("200"), value("300"), value("100", NEXT)], commune)
    outcomes = requests.decide(storage, commune, told, None, items, True, "", "agent.dupont", GUIDE_NOW)
    assert [(o.item.family, o.status) for o in outcomes] == [
        ("100", "accepted"), ("200", "full"), ("300", "full"), ("100", "accepted")]
    assert "Service complet" in outcomes[1].message and "reste en attente" in outcomes[1].message
    assert [status_of(storage, f) for f in ("100", "200", "300")] == ["validated", "pending", "pending"]
    assert storage.get(st.service_day_pk(MIDI, DAY), "COUNTER")["validated"] == SEATS  # never above
    assert [x["family"] for x in WaitingList(storage, commune).pending()] == ["200", "300"]
    # One message for family 100, grouping its two days; nothing to those still waiting.
    assert [(f, s) for f, s, _ in told.sent] == [("100", "Demandes acceptées : 2 jours")]
    assert "jeudi 11 décembre 2014" in told.sent[0][2] and "vendredi 12 décembre 2014" in told.sent[0][2]
    assert len(storage.family_state("100").messages) == 1
    # One audit entry per decided day, with the family and the agent.
    audit = [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "request_accepted"]
    assert sorted((e["actor"], e["details"]["family_number"], e["details"]["date"]) for e in audit) == [
        ("agent.dupont", "100", "2014-12-11"), ("agent.dupont", "100", "2014-12-12")]
    # The family's « Liste des demandes » has the decisions.
    decisions = [r for r in storage.family_state("100").requests if r["type"] == "staff_decision"]
    assert len(decisions) == 2


def test_refusing_in_bulk_tells_each_family_once_with_the_reason(line, storage, commune):
    wait(line, "100")
    wait(line, "200", minute=1)
    told = Told(storage)
    items = requests.parse_items([value("100"), value("200")], commune)
    accept, reason = requests.parse_decision("refuse", "  sortie scolaire  ")
    outcomes = requests.decide(storage, commune, told, None, items, accept, reason, "agent", GUIDE_NOW)
    assert [o.status for o in outcomes] == ["refused", "refused"]
    assert [(f, s) for f, s, _ in told.sent] == [("100", "Demande refusée : GARDERIE MIDI, jeudi 11 décembre 2014"),
                                                 ("200", "Demande refusée : GARDERIE MIDI, jeudi 11 décembre 2014")]
    assert all(b.endswith("Motif : sortie scolaire") for _, _, b in told.sent)
    assert WaitingList(storage, commune).pending() == []


def test_a_bad_request_is_refused_whole_before_any_write(line, storage, commune):
    wait(line, "100")
    before = all_items(storage)
    for values, status in (([], 400), ([value("100"), "100/1/GARDERIE_MIDI/2014-13-11"], 400),
                           ([value("100"), "100/1/PISCINE/2014-12-11"], 400), (["../1/GARDERIE_MIDI/2014-12-11"], 400),
                           ([value("100")] * (requests.MAX_ITEMS + 1), 413)):
        with pytest.raises(Refusal) as error:
            requests.parse_items(values, commune)
        assert error.value.status == status and error.value.message[0].isupper()
    for decision, reason in (("refuse", "  "), ("maybe", ""), ("refuse", "x" * 501)):
        with pytest.raises(Refusal) as error:
            requests.parse_decision(decision, reason)
        assert error.value.status == 400
    with pytest.raises(Refusal):
        requests.decide(storage, commune, Told(storage), None, requests.parse_items([value("100")], commune), False, "",
                        "agent", GUIDE_NOW)
    assert sorted(all_items(storage), key=lambda i: (i["pk"], i["sk"])) == \
        sorted(before, key=lambda i: (i["pk"], i["sk"]))
    assert requests.parse_items([value("100"), value("100")], commune) == [
        requests.RequestItem("100", "1", MIDI, DAY)]  # a repeat is decided once


@pytest.mark.server
def test_parallel_bulk_accepts_of_the_same_day_never_exceed_the_capacity(embedded_aws, embedded_resources):
    import boto3
    from botocore.config import Config
    from chalicelib import table
    from chalicelib.storage import Storage

    small_room = commune_with(capacity=4, service=MIDI)
    client = boto3.client("dynamodb", endpoint_url=embedded_aws.endpoint_url,
                          config=Config(max_pool_connections=8, retries={"max_attempts": 1}))
    storage = Storage(client, table.table_name())
    storage.batch_write([{"pk": "FAMILY#100", "sk": "PROFILE", "family_number": "100", "page_key": "0" * 32}]
                        + [{"pk": "FAMILY#100", "sk": f"CHILD#{n}", "kind": "child", "child_id": str(n),
                            "first_name": f"ENFANT{n}", "services": [MIDI]} for n in range(10)])
    storage.put({"pk": st.service_day_pk(MIDI, DAY), "sk": "COUNTER", "validated": 4})
    bookings = Bookings(storage, small_room)
    for n in range(10):
        (result,), _ = bookings.submit("100", str(n), 1, [Item(DAY, MIDI, "reserve")], GUIDE_NOW)
        assert result["status"] == "pending"
    storage.put({"pk": st.service_day_pk(MIDI, DAY), "sk": "COUNTER", "validated": 1})  # three seats free
    items = [requests.RequestItem("100", str(n), MIDI, DAY) for n in range(10)]
    answers = race(4, lambda n: requests.decide(storage, small_room, Told(storage), None, items[n:] + items[:n],
                                                True, "", f"agent{n}", GUIDE_NOW))
    accepted = [o for outcomes in answers for o in outcomes if o.status == "accepted"]
    assert len(accepted) == 3 and len({o.item for o in accepted}) == 3
    assert storage.get(st.service_day_pk(MIDI, DAY), "COUNTER")["validated"] == 4
    days = storage.query_index(st.service_day_pk(MIDI, DAY))
    assert sorted(d["status"] for d in days) == ["pending"] * 7 + ["validated"] * 3
    assert len(WaitingList(storage, small_room).pending()) == 7


def test_a_day_whose_transaction_meets_another_is_left_as_it_was_and_the_others_decided(line, storage, commune,
                                                                                          monkeypatch):
    from botocore.exceptions import ClientError

    wait(line, "100")
    wait(line, "200", minute=1)
    transact = storage.transact

    def conflict_for_100(actions):
        if any("FAMILY#100" in str(a) for a in actions):
            raise ClientError({"Error": {"Code": "TransactionCanceledException"},
                               "CancellationReasons": [{"Code": "TransactionConflict"}]}, "TransactWriteItems")
        return transact(actions)

    monkeypatch.setattr(storage, "transact", conflict_for_100)
    told = Told(storage)
    outcomes = requests.decide(storage, commune, told, None, requests.parse_items([value("100"), value("200")], commune),
                               False, "complet", "agent", GUIDE_NOW)
    assert [(o.item.family, o.status) for o in outcomes] == [("100", "conflict"), ("200", "refused")]
    assert "Relisez la liste" in outcomes[0].message
    assert [status_of(storage, f) for f in ("100", "200")] == ["pending", "refused"]
    assert [f for f, _, _ in told.sent] == ["200"]
