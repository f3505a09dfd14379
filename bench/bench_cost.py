"""The monthly AWS cost of a commune of 3,000 families (docs/deployment.md, « Monthly
cost »), from requests counted on the code, in USD and in euros; its ratio to 5 € last.

    .venv/bin/python bench/bench_cost.py [--quick]

What the code decides is counted here, over the embedded AWS, on the demo (51 families at
the guide's date, as `portail serve --demo` seeds them):
- a family's first login of a day brings its pages up to the day
  (chalicelib/page_freshness.py): the S3 requests and DynamoDB reads of that refresh after a week (4
  logins a month), one of the four weeks crossing a month's end; the CPU time of
  rendering a family's pages (Lambda's duration is estimated from it);
- the pages each write re-renders (the `pages_showing_*` the routes pass: a booking, a
  message sent or read, an invoice or a payment);
- the nights the nightly run reads the families (`reminders.reminder_night`), over the
  school year.
The usage (logins, bookings, messages, mails…) is `ASSUMPTIONS`, the prices `PRICES`
(eu-west-3, USD, on-demand) and the exchange rate `USD_TO_EUR`: each stated in
docs/deployment.md, whose tables this bench prints. `--quick`: two refreshes instead of four.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402

GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
# A parent's logins, a week apart (4 a month): the first crosses the end of November.
LOGINS = ["2014-12-05", "2014-12-12", "2014-12-19", "2014-12-26"]
# 1 € = 1 / 1.16 USD: the ECB's reference rate of late 2025 (about 1.16 USD per euro),
# not re-read on the day (no network here): 1 USD = 0.862 €.
USD_TO_EUR = 1 / 1.16
TARGET_EUR = 5.0

# Usage of a school month (holiday months cost less). Every figure is in docs/deployment.md.
ASSUMPTIONS = {
    "families": 3000,
    "responsables": 3600,
    "children": 6019,
    "logins": 12000,  # 4 per family; each counted as its family's first of the day (an upper bound)
    "family_page_views": 72000,  # 6 per login, from S3 through CloudFront
    "public_page_views": 36000,  # 3 per login, all counted as CloudFront misses (upper bound)
    "theme_files": 24000,  # CSS + JS, 2 per login (browsers keep them an hour)
    "other_calls": 18000,  # 6 per family: messages read (2 of them), PDFs, account, logout, renewals
    "message_reads": 6000,  # 2 per family: each re-renders the dashboard, the inbox, the message
    "month_bookings": 6019,  # 1 per child: 20 days × 2 services
    "small_bookings": 9000,  # 3 per family: one day, a cancellation, an absence
    "invoices": 3600,  # 1 per responsable: its PDF, its mail; the family's billing pages once
    "payments": 3000,  # 1 per family (bank file or desk): the family's billing pages
    "messages_to_all": 2,  # each: an inbox item per family, a notice mail per responsable
    "reset_mails": 150,
    "waiting_list_mails": 100,
    "feed_subscribers": 1000,  # 1 family in 3 has one responsable subscribed to the calendar feed
    "feed_polls_per_day": 4,  # a phone's calendar every 6 hours (REFRESH-INTERVAL)
    "reminder_subscribers": 720,  # 1 responsable in 5 asked for reminder mails, 1 mail a month each
    "publications": 120,  # the public site's files written by the publishing function
    "cold_starts": 2000,  # of 1 s each
    "family_kb": 150,  # a family's partition at mid-year (two children, 14 KB a child and month booked)
}
LAMBDA_VCPU_AT_1GB = 0.58  # Lambda's CPU share at 1,024 MB (a full vCPU at 1,769 MB)
API_SECONDS = {"login": 0.15, "other": 0.05, "month_booking": 0.6, "small_booking": 0.3, "job": 0.1}
# The I/O of a refresh not overlapped with the rendering: GetItem, Query, notices, LIST,
# the PUTs (8 threads), UpdateItem.
REFRESH_IO_SECONDS = 0.08

PRICES = {  # eu-west-3 (Paris), USD, on-demand, as published in 2025 (docs/deployment.md)
    "cloudfront_request": 0.0120 / 10000,
    "cloudfront_gb": 0.085,
    "cloudfront_function": 0.10 / 1e6,
    "api_gateway": 3.50 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s": 0.0000166667,  # x86_64
    "rru": 0.1485 / 1e6,
    "wru": 0.7423 / 1e6,
    "dynamodb_gb": 0.2975,
    "pitr_gb": 0.2380,
    "s3_put": 0.0053 / 1000,  # PUT, COPY, POST, LIST
    "s3_get": 0.00042 / 1000,  # GET, HEAD
    "s3_gb": 0.024,
    "ses_mail": 0.10 / 1000,
    "logs_gb": 0.57,
}


@dataclass
class Counted:
    """What the code does, counted on the demo (defaults: the figures of the last run)."""
    refresh_puts: float = 1286 / 204  # pages written by a login's refresh after a week
    refresh_lists: float = 244 / 204  # a family with two folders lists both
    refresh_render_cpu: float = 0.042  # seconds of one core to render a family's pages
    refresh_round_trips: float = 4.0  # GetItem (profile), Query, GetItem (notices), UpdateItem
    month_booking_pages: float = 2.39  # month page + « Liste des demandes » (+ the feeds), per folder
    small_booking_pages: float = 2.39
    message_pages: float = 3.59  # dashboard, inbox, the message, per folder
    billing_pages: float = 5.98  # dashboard, factures, règlements, relevé/ and its year, per folder
    reminder_nights: float = 4.3  # nights a month the nightly run reads the families
    # The design before: no refresh at login, every family re-exported every night (one
    # LIST, 3.52 pages written, 0.75 s of Lambda each, as bench_nightly.py counted before this bench replaced it), every
    # message's page written again by a message sent or read (8 at mid-year).
    login_refresh: bool = True
    nightly_exports: int = 0
    nightly_puts: float = 3.52
    nightly_seconds: float = 0.75


BEFORE = Counted(refresh_puts=0, refresh_lists=0, refresh_render_cpu=0, refresh_round_trips=0,
                 month_booking_pages=2, small_booking_pages=2, message_pages=2 + 8, billing_pages=5,
                 login_refresh=False, nightly_exports=30, reminder_nights=0)


def count(quick: bool) -> Counted:
    """Runs the code on the demo over the embedded AWS and counts."""
    from portail.embedded_aws import EmbeddedAWS

    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        import boto3
        from chalicelib import table
        from chalicelib.calendar_rules import CommuneCalendar, month_end, month_start
        from chalicelib.config import get_commune
        from chalicelib.page_freshness import refresh_if_stale
        from chalicelib.pages import (
            FamilyPages,
            pages_showing_billing,
            pages_showing_days,
            pages_showing_messages,
        )
        from chalicelib.reminders import reminder_night
        from chalicelib.storage import Storage

        from portail.demo import seed_demo

        commune = get_commune()
        calendar = CommuneCalendar(commune)
        storage = Storage(boto3.client("dynamodb"), table.table_name())
        seed_demo(storage, commune, GUIDE_NOW)
        s3 = boto3.client("s3")
        operations: Counter[str] = Counter()
        s3.meta.events.register("before-send.s3", lambda **kw: operations.update([kw["event_name"].rsplit(".", 1)[-1]]))
        pages = FamilyPages(s3, table.bucket_name("pages"), commune, "bench-secret")
        numbers = storage.family_numbers()
        for number in numbers:  # the pages as the import's export left them, then a first login
            refresh_if_stale(storage, pages, number, GUIDE_NOW, commune.tz)
        trips = RoundTrips(storage.client)
        operations.clear()
        refreshes, refresh_trips, cpu = 0, 0, 0.0
        for day in LOGINS[:2] if quick else LOGINS:
            now = datetime.fromisoformat(f"{day}T18:00:00+01:00")
            before = trips.total
            for number in numbers:
                refresh_if_stale(storage, pages, number, now, commune.tz)
                refreshes += 1
            refresh_trips += trips.total - before
            notices = pages.notices(storage, now)
            states = [s for s in map(storage.family_state, numbers) if s.profile is not None]
            start = time.process_time()  # the rendering alone, not the embedded AWS's answers
            for state in states:
                pages.render_views(state, now, None, notices)
            cpu += time.process_time() - start
            print(f"  logins of {day}: {operations['PutObject']} pages written so far, "
                  f"{operations['ListObjectsV2']} LIST, {operations['HeadObject']} HEAD")
        # The files each write writes (every folder of the family: one, or one per
        # responsable with separate accounts), averaged over the demo's families.
        first = month_start(GUIDE_NOW.date(), 1)
        month_days = [first + timedelta(days=k) for k in range((month_end(first) - first).days + 1)]
        states = [s for s in map(storage.family_state, numbers) if s.profile is not None and s.children]
        folders = sum(len(pages.render_views(s, GUIDE_NOW, ["compte"], [])) for s in states)
        print(f"  {len(states)} families with children, {folders - len(states)} of them with two folders")

        def rendered(only_of) -> float:
            return sum(sum(map(len, pages.render_views(s, GUIDE_NOW, only_of(s), []).values()))
                       for s in states) / len(states)

        def child(state) -> str:
            return next((c["child_id"] for c in state.children if c.get("services")), state.children[0]["child_id"])

        def message(state) -> str:
            return state.messages[0]["message_id"] if state.messages else "m"

        # Reminder nights: every night of the school year 2014-2015 (September to June).
        nights, day = 0, date(2014, 9, 1)
        while day <= date(2015, 6, 30):
            nights += reminder_night(commune, calendar, datetime(day.year, day.month, day.day, 2, tzinfo=commune.tz))
            day += timedelta(days=1)
        return Counted(
            refresh_puts=operations["PutObject"] / refreshes,
            refresh_lists=operations["ListObjectsV2"] / refreshes,
            refresh_render_cpu=cpu / refreshes,
            refresh_round_trips=refresh_trips / refreshes,
            month_booking_pages=rendered(lambda s: pages_showing_days(child(s), month_days)),
            small_booking_pages=rendered(lambda s: pages_showing_days(child(s), month_days[:1])),
            message_pages=rendered(lambda s: pages_showing_messages(message(s))),
            billing_pages=rendered(lambda _: pages_showing_billing()),
            reminder_nights=nights / 10,
        )


def lines(c: Counted, a: dict = ASSUMPTIONS, p: dict = PRICES) -> list[tuple[str, str, float]]:
    """(line, quantity × price, USD) of a month, from what was counted and the assumptions."""
    families, kb = a["families"], a["family_kb"]
    query_rru = kb / 4  # a strongly consistent Query: 1 RRU per 4 KB read
    feed_share = a["feed_subscribers"] / families  # feeds written per booking, on average
    feed_polls = a["feed_subscribers"] * a["feed_polls_per_day"] * 30
    reminder_reads = c.reminder_nights * families
    nightly = c.nightly_exports * families  # family exports of the nightly runs (the design before)
    refreshes = a["logins"] if c.login_refresh else 0
    api_calls = a["logins"] + a["other_calls"] + a["month_bookings"] + a["small_bookings"]
    nightly_invocations = 30 * 12
    invocations = api_calls + nightly_invocations + a["reset_mails"]
    refresh_seconds = c.refresh_render_cpu / LAMBDA_VCPU_AT_1GB + REFRESH_IO_SECONDS
    gb_s = (a["logins"] * API_SECONDS["login"] + refreshes * refresh_seconds + nightly * c.nightly_seconds + a["other_calls"] * API_SECONDS["other"]
            + a["month_bookings"] * API_SECONDS["month_booking"] + a["small_bookings"] * API_SECONDS["small_booking"]
            + a["cold_starts"] * 1.0 + nightly_invocations * 0.1 + reminder_reads * 0.02
            + a["reset_mails"] * API_SECONDS["job"])
    rru = (a["logins"] * 3 + refreshes * (1 + query_rru + 1) + nightly * query_rru + a["other_calls"] * (1 + query_rru)
           + (a["month_bookings"] + a["small_bookings"]) * (1 + 2 * query_rru)
           + a["invoices"] * query_rru + reminder_reads * query_rru + c.reminder_nights * 12 * 75)
    wru = (a["logins"] * 16 + refreshes + a["other_calls"] * 1 + a["month_bookings"] * 110 + a["small_bookings"] * 5
           + a["invoices"] * 10 + a["messages_to_all"] * families * 2)
    puts = (refreshes * (c.refresh_lists + c.refresh_puts) + nightly * (1 + c.nightly_puts)
            + a["month_bookings"] * (c.month_booking_pages + feed_share)
            + a["small_bookings"] * (c.small_booking_pages + feed_share)
            + a["message_reads"] * c.message_pages
            + a["messages_to_all"] * families * c.message_pages
            + a["invoices"] + families * c.billing_pages  # the PDFs, the pages once per family
            + a["payments"] * c.billing_pages
            + a["publications"])
    # A refresh (or a night) reads the stored feed's ETag (a HEAD) of each subscriber.
    gets = a["family_page_views"] + a["public_page_views"] + feed_polls + (refreshes + nightly) * feed_share
    cf_requests = a["family_page_views"] + a["public_page_views"] + a["theme_files"] + api_calls + feed_polls
    cf_functions = a["family_page_views"] + a["public_page_views"] + a["theme_files"]
    # KB served, compressed: a page 6, the theme's files 10 each, an API answer 1, a feed 1.
    views = a["family_page_views"] + a["public_page_views"]
    cf_gb = (views * 6 + a["theme_files"] * 10 + api_calls * 1 + feed_polls * 1) / 1e6
    mails = (a["invoices"] + a["messages_to_all"] * a["responsables"] + a["reset_mails"] + a["waiting_list_mails"]
             + a["reminder_subscribers"])
    table_gb = families * kb * 2 / 1e6  # the items and their index
    logs_gb = (invocations * 1000 + (reminder_reads + nightly) * 100) / 1e9
    return [
        ("CloudFront requests", f"{cf_requests:,.0f} × {p['cloudfront_request'] * 1e4:.4f} / 10,000",
         cf_requests * p["cloudfront_request"]),
        ("CloudFront data out", f"{cf_gb:.2f} GB × {p['cloudfront_gb']}", cf_gb * p["cloudfront_gb"]),
        ("CloudFront functions", f"{cf_functions:,.0f} × 0.10 / 1e6", cf_functions * p["cloudfront_function"]),
        ("API Gateway", f"{api_calls:,.0f} × 3.50 / 1e6", api_calls * p["api_gateway"]),
        ("Lambda requests", f"{invocations:,.0f} × 0.20 / 1e6", invocations * p["lambda_request"]),
        ("Lambda compute (1 GB, x86)", f"{gb_s:,.0f} GB-s × {p['lambda_gb_s']}", gb_s * p["lambda_gb_s"]),
        ("DynamoDB reads", f"{rru:,.0f} RRU × 0.1485 / 1e6", rru * p["rru"]),
        ("DynamoDB writes", f"{wru:,.0f} WRU × 0.7423 / 1e6", wru * p["wru"]),
        ("DynamoDB storage", f"{table_gb:.1f} GB × {p['dynamodb_gb']}", table_gb * p["dynamodb_gb"]),
        ("DynamoDB PITR", f"{table_gb:.1f} GB × {p['pitr_gb']}", table_gb * p["pitr_gb"]),
        ("S3 PUT and LIST", f"{puts:,.0f} × 0.0053 / 1,000", puts * p["s3_put"]),
        ("S3 GET and HEAD", f"{gets:,.0f} × 0.00042 / 1,000", gets * p["s3_get"]),
        ("S3 storage", f"3 GB × {p['s3_gb']}", 3 * p["s3_gb"]),
        ("SES", f"{mails:,.0f} mails × 0.10 / 1,000", mails * p["ses_mail"]),
        ("CloudWatch Logs", f"{logs_gb:.3f} GB × {p['logs_gb']}", logs_gb * p["logs_gb"]),
    ]


# Covered by AWS's permanent free allowances (CloudFront: 10 million requests and 1 TB a
# month; Lambda: 1 million requests and 400,000 GB-s; DynamoDB: 25 GB stored).
FREE = {"CloudFront requests", "CloudFront data out", "CloudFront functions", "Lambda requests",
        "Lambda compute (1 GB, x86)", "DynamoDB storage"}


def report(c: Counted, before: bool = True) -> float:
    if before:
        rows = lines(BEFORE)
        total = sum(usd for _, _, usd in rows)
        print(f"before (a nightly re-export of every family, every message's page written again): "
              f"{total:.2f} USD, {total * USD_TO_EUR:.2f} € — "
              + ", ".join(f"{name} {usd:.2f}" for name, _, usd in rows if usd >= 0.1))
    rows = lines(c)
    total = sum(usd for _, _, usd in rows)
    free = total - sum(usd for name, _, usd in rows if name in FREE)
    print(f"counted: a login's refresh after a week writes {c.refresh_puts:.2f} pages ({c.refresh_lists:.2f} LIST, "
          f"{c.refresh_round_trips:.1f} DynamoDB round trips, {c.refresh_render_cpu * 1000:.0f} ms of CPU to render); "
          f"a month's booking {c.month_booking_pages:.2f} files, a small one {c.small_booking_pages:.2f}, "
          f"a message {c.message_pages:.2f}, billing {c.billing_pages:.2f}; {c.reminder_nights:.1f} reminder nights a month")
    print(f"{'line':28} {'quantity × price':44} {'USD':>6} {'EUR':>6}")
    for name, formula, usd in rows:
        print(f"{name:28} {formula:44} {usd:6.2f} {usd * USD_TO_EUR:6.2f}")
    print(f"{'total':28} {'':44} {total:6.2f} {total * USD_TO_EUR:6.2f}")
    print(f"with AWS's permanent free allowances: {free:.2f} USD, {free * USD_TO_EUR:.2f} € "
          f"(1 USD = {USD_TO_EUR:.3f} €)")
    euros = total * USD_TO_EUR
    print(f"ratio monthly cost / {TARGET_EUR:.0f} €: {euros / TARGET_EUR:.2f} ({euros:.2f} €)")
    return euros


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="two refreshes instead of four")
    arguments.add_argument("--no-count", action="store_true", help="the model only, with the last run's counts")
    options = arguments.parse_args()
    report(Counted() if options.no_count else count(options.quick))


if __name__ == "__main__":
    main()
