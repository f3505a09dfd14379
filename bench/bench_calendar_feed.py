"""The calendar feed (docs/family-pages.md « The calendar feed »): its bytes for the demo's
busiest family, and the files a booking re-renders before and after a responsable
subscribes (the feed joins the month page and « Liste des demandes »).

The demo is seeded in the embedded AWS at the guide's date (28 November 2014), as
`portail serve --demo` seeds it. The busiest family is the one with the most days shown in
a feed (validated, pending, absent) in December 2014. Prints the whole feed's bytes (every
day from 1 October on), December's share (the feed of December's days alone), raw and
gzipped (as CloudFront compresses it), the time to render it, then the files one booking
writes without and with a subscriber, and, last, the ratio of files per booking after /
before.

    .venv/bin/python bench/bench_calendar_feed.py
"""

from __future__ import annotations

import gzip
import sys
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from portail.embedded_aws import EmbeddedAWS  # noqa: E402

GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
DECEMBER = "2014-12"


def main() -> None:
    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        import boto3
        from chalicelib import agenda_store, table
        from chalicelib.calendar_feed import SHOWN_STATUSES, render_feed
        from chalicelib.config import get_commune
        from chalicelib.pages import FamilyPages, pages_showing_days
        from chalicelib.storage import Storage

        from portail.demo import seed_demo
        from portail.family_export import family_states

        commune = get_commune()
        storage = Storage(boto3.client("dynamodb"), table.table_name())
        seed_demo(storage, commune, GUIDE_NOW)
        states = family_states(storage)

        def month_days(state, month: str = DECEMBER) -> list[dict]:
            return [d for d in state.days if str(d.get("date", "")).startswith(month)
                    and d.get("status") in SHOWN_STATUSES]

        def month_feed(state, month: str) -> bytes:
            return render_feed(replace(state, days=month_days(state, month)), commune, today, commune.commune.site_url)

        today = GUIDE_NOW.astimezone(commune.tz).date()
        started = time.perf_counter()
        import icalendar  # noqa: F401 - what the first feed of a Lambda container pays once
        imported = time.perf_counter() - started
        # The busiest month of any feed (November, at the guide's date: a whole month booked).
        busiest = max((len(month_days(s, m)), n, m) for n, s in states.items() for m in ("2014-11", DECEMBER))
        feed = month_feed(states[busiest[1]], busiest[2])
        print(f"busiest month of a feed: {busiest[2]} of family {busiest[1]}: {feed.count(b'BEGIN:VEVENT')} events, "
              f"{len(feed)} bytes, {len(gzip.compress(feed, 9))} gzipped")
        number, state = max(sorted(states.items()), key=lambda pair: len(month_days(pair[1])))
        started = time.perf_counter()
        whole = render_feed(state, commune, today, commune.commune.site_url)
        elapsed = time.perf_counter() - started
        month = month_feed(state, DECEMBER)
        events = month.count(b"BEGIN:VEVENT")
        print(f"busiest family in December 2014: {number} ({len(month_days(state))} booked days × services, "
              f"{events} events: one per child and day)")
        print(f"  whole feed (from 1 October on: the previous month's first day): {len(whole)} bytes, {len(gzip.compress(whole, 9))} gzipped, "
              f"rendered in {elapsed * 1000:.0f} ms "
              f"(importing icalendar, once per container: {imported * 1000:.0f} ms)")
        print(f"  December's feed: {len(month)} bytes, {len(gzip.compress(month, 9))} gzipped, "
              f"{len(month) // max(events, 1)} bytes an event")

        # One booking's files: its month page and « Liste des demandes », then the feed too.
        pages = FamilyPages(boto3.client("s3"), table.bucket_name("pages"), commune, "bench-secret", frozen=True)
        child = next(c["child_id"] for c in state.children if c.get("services"))
        only = pages_showing_days(child, [date(2014, 12, 15)])
        before = pages.export(storage, number, GUIDE_NOW, only=only)
        responsable = state.responsables[0]
        agenda_store.replace_feed_key(storage, number, int(responsable["rank"]), responsable.get("login", ""),
                                      "0" * 32, None, GUIDE_NOW)
        after = pages.export(storage, number, GUIDE_NOW, only=only)
    print(f"files written per booking: {before} before the feed, {after} with one subscribed responsable "
          f"({after + 1} with two: each has their own address)")
    print(f"ratio files per booking after / before: {after / before:.2f}")


if __name__ == "__main__":
    main()
