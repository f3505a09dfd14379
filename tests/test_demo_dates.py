"""The demo moves with the portal's clock (its own module: it seeds its own table)."""

from __future__ import annotations

from datetime import date, datetime

from chalicelib.calendar_rules import CommuneCalendar

from portail.demo import GUIDE_FAMILY, seed_demo

# The demo runs on the commune's real configuration (`make run`): shipped_commune.


def test_on_another_date_the_children_keep_the_guides_ages(storage, shipped_commune):
    commune = shipped_commune
    now = datetime.fromisoformat("2026-11-28T12:00:00+01:00")
    seed_demo(storage, commune, now)
    state = storage.family_state(GUIDE_FAMILY)
    assert [c["birth_date"] for c in state.children] == ["2018-01-01", "2024-01-01", "2026-01-01"]
    december = [d for d in state.days if d["date"].startswith("2026-12")]
    assert {d["status"] for d in december} >= {"validated", "pending", "refused", "cancelled"}
    # Every booked day falls on a day its service is open.
    calendar = CommuneCalendar(commune)
    for d in state.days:
        assert calendar.is_open(date.fromisoformat(d["date"]), commune.service(d["service"])), d


def test_a_cancellation_in_the_demo_gives_the_seat_to_the_first_waiting_child(storage, shipped_commune):
    from chalicelib.booking_requests import Item
    from chalicelib.bookings import Bookings
    from chalicelib.waiting_list import WaitingList

    from tests.conftest import GUIDE_NOW

    commune = shipped_commune
    seed_demo(storage, commune, GUIDE_NOW)
    bookings, waiting_list = Bookings(storage, commune), WaitingList(storage, commune)
    first, *others = waiting_list.pending("GARDERIE_MIDI", date(2014, 12, 11))
    seat = next(r for r in storage.query_index("SERVICEDAY#GARDERIE_MIDI#2014-12-11") if r["status"] == "validated")
    family = seat["pk"].removeprefix("FAMILY#")
    (result,), freed = bookings.submit(family, seat["child_id"], 1, [Item(date(2014, 12, 11), "GARDERIE_MIDI", "cancel")],
                                       GUIDE_NOW)
    assert result["status"] == "cancelled" and freed == [("GARDERIE_MIDI", date(2014, 12, 11))]
    (promoted,) = waiting_list.promote("GARDERIE_MIDI", date(2014, 12, 11), GUIDE_NOW)
    assert (promoted["family_number"], promoted["child_id"]) == (first["family"], first["child"])
    assert [(w["family"], w["position"]) for w in waiting_list.pending("GARDERIE_MIDI", date(2014, 12, 11))] == [
        (w["family"], n) for n, w in enumerate(others, start=1)]
    # A request made now comes after them all.
    (late,), _ = bookings.submit(family, seat["child_id"], 1, [Item(date(2014, 12, 11), "GARDERIE_MIDI", "reserve")],
                                 GUIDE_NOW)
    assert late["status"] == "pending"
    assert waiting_list.pending("GARDERIE_MIDI", date(2014, 12, 11))[-1]["family"] == family
