"""The family's pages brought up to the day at its first login of a day
(chalicelib/page_freshness.py): once a day, tried again after a failure, never failing
the login."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from chalicelib.page_freshness import PAGES_DAY, refresh_if_stale
from chalicelib.pages import ExportReport

from tests.conftest import GUIDE_NOW, add_family

PARIS = ZoneInfo("Europe/Paris")


class Pages:
    def __init__(self, failing=False):
        self.failing, self.exports = failing, []

    def export_all(self, storage, now, states):
        self.exports.append((now, [s.profile["family_number"] for s in states]))
        if self.failing == "raise":
            raise OSError("S3 indisponible")
        return ExportReport(families=1, pages=4, failed=["100"] if self.failing else [])


def test_once_a_day_and_again_after_a_failure(storage):
    add_family(storage, "100", "alice", None, last_name="ALPHA", child="ANNA", email="alice@example.org")
    made = []

    def factory():
        made.append(1)
        return pages

    pages = Pages(failing="raise")
    assert refresh_if_stale(storage, factory, "100", GUIDE_NOW, PARIS) is None  # logged, the login goes on
    assert PAGES_DAY not in storage.get("FAMILY#100", "PROFILE")
    pages.failing = True  # a family export_all reports failed: the day is not set
    assert refresh_if_stale(storage, factory, "100", GUIDE_NOW, PARIS) == 4
    assert PAGES_DAY not in storage.get("FAMILY#100", "PROFILE")
    pages.failing = False
    assert refresh_if_stale(storage, factory, "100", GUIDE_NOW, PARIS) == 4
    assert storage.get("FAMILY#100", "PROFILE")[PAGES_DAY] == "2014-11-28"
    # The same day in Paris (22:00), nothing more; from midnight there, again.
    assert refresh_if_stale(storage, factory, "100", GUIDE_NOW + timedelta(hours=10), PARIS) is None
    assert len(pages.exports) == 3 and len(made) == 3
    assert refresh_if_stale(storage, factory, "100", GUIDE_NOW + timedelta(hours=12), PARIS) == 4
    assert storage.get("FAMILY#100", "PROFILE")[PAGES_DAY] == "2014-11-29"
    assert refresh_if_stale(storage, factory, "999", GUIDE_NOW, PARIS) is None  # no such family
