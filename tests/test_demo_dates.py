"""The demo moves with the portal's clock (its own module: it seeds its own table)."""

from __future__ import annotations

from datetime import date, datetime

from chalicelib.calendar_rules import CommuneCalendar
from chalicelib.config import load_commune

from portail.demo import GUIDE_FAMILY, seed_demo
from tests.conftest import ROOT


def test_on_another_date_the_children_keep_the_guides_ages(storage):
    commune = load_commune(ROOT / "content" / "commune.toml")
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
