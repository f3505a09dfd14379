"""« Ajouter à mon agenda » (docs/family-pages.md « The calendar feed »): the feed lists
exactly the family's booked days, follows each booking, and a revoked address is gone."""

from __future__ import annotations

import json

import pytest
from chalicelib import sessions
from chalicelib import storage as st

from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import PASSWORD_A, post, session_cookie
from tests.test_bookings_api import book


@pytest.fixture
def cookie_a(client, enrolled):
    return session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))


def s3_object(key: str):
    import boto3
    from chalicelib.table import bucket_name

    try:
        return boto3.client("s3").get_object(Bucket=bucket_name("pages"), Key=key)
    except boto3.client("s3").exceptions.NoSuchKey:
        return None


def feed_events(feed_url: str) -> dict:
    """{(date, child's first name): (summary, status)} of the feed at `feed_url`, parsed by icalendar."""
    from icalendar import Calendar

    stored = s3_object(feed_url.split("/", 3)[3])
    assert stored is not None, feed_url
    assert stored["ContentType"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(stored["Body"].read())
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = {}
    for event in calendar.walk("VEVENT"):
        start = event.decoded("DTSTART")
        assert event.decoded("DTEND") - start == __import__("datetime").timedelta(days=1)  # all-day
        events[(start.isoformat(), str(event["SUMMARY"]).split(" : ")[0])] = (str(event["SUMMARY"]),
                                                                             str(event["STATUS"]))
    return events


def put_day(storage, family: str, day: str, service: str, status: str) -> None:
    storage.put({"pk": st.family_pk(family), "sk": f"DAY#1#{day}#{service}", "kind": "day", "child_id": "1",
                 "date": day, "service": service, "status": status, "responsable_rank": 1,
                 "updated_at": "2014-11-20T10:00:00+00:00"})


def test_the_feed_lists_exactly_the_familys_booked_days(client, cookie_a, storage):
    # Days of every state, written as staff or a decision leave them; and family B's.
    put_day(storage, "100", "2014-12-09", "GARDERIE_MIDI", "pending")
    put_day(storage, "100", "2014-12-04", "RESTAURATION", "absent")
    put_day(storage, "100", "2014-12-15", "RESTAURATION", "refused")
    put_day(storage, "100", "2014-12-16", "RESTAURATION", "cancelled")
    put_day(storage, "100", "2014-09-15", "RESTAURATION", "validated")  # before the previous month
    put_day(storage, "200", "2014-12-12", "RESTAURATION", "validated")

    subscribed = post(client, "/api/agenda", cookie=cookie_a)
    assert subscribed.status_code == 200, subscribed.body
    feed = json.loads(subscribed.body)
    assert feed["feed_url"].startswith("http://127.0.0.1:8000/agenda/") and feed["feed_url"].endswith(".ics")
    assert feed["webcal_url"] == "webcal://" + feed["feed_url"].split("://")[1]
    # Subscribing again gives the same address (a phone already holds it).
    assert json.loads(post(client, "/api/agenda", cookie=cookie_a).body)["feed_url"] == feed["feed_url"]

    # A booking re-renders the feed with the month page: the new days are in it at once.
    book(client, cookie_a, [("2014-12-08", "RESTAURATION", "reserve"), ("2014-12-08", "GARDERIE_SOIR", "reserve"),
                            ("2014-12-11", "GARDERIE_MATIN", "reserve")])
    assert ("2014-12-11", "ANNA") in feed_events(feed["feed_url"])
    book(client, cookie_a, [("2014-12-11", "GARDERIE_MATIN", "cancel")])  # and a cancellation too
    events = feed_events(feed["feed_url"])
    assert events == {
        ("2014-12-04", "ANNA"): ("ANNA : RESTAURATION (absent)", "CONFIRMED"),
        ("2014-12-08", "ANNA"): ("ANNA : GARDERIE SOIR, RESTAURATION", "CONFIRMED"),
        ("2014-12-09", "ANNA"): ("ANNA : GARDERIE MIDI (en attente)", "TENTATIVE"),
    }
    # « Mon compte » gives the address, and a way to change it.
    compte = s3_object(f"famille/{storage.get('FAMILY#100', 'PROFILE')['page_key']}/compte/index.html")
    html = compte["Body"].read().decode()
    assert feed["feed_url"] in html and "Changer l'adresse de mon agenda" in html


def test_a_revoked_feed_is_gone_and_the_new_one_follows_the_bookings(client, cookie_a, storage, families):
    token = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    # Revoking before subscribing: a French 409, nothing written.
    refused = post(client, "/api/agenda/revoke", {"csrf_token": token}, cookie=cookie_a, form=True)
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/compte/#erreur-no-feed")

    # Without script: the form posts and comes back to « Mon compte ».
    created = post(client, "/api/agenda", {"csrf_token": token}, cookie=cookie_a, form=True)
    assert created.status_code == 303 and created.headers["Location"].endswith("/compte/#agenda-ajoute")
    old_key = storage.get("FAMILY#100", "AGENDA#1")["feed_key"]
    assert s3_object(f"agenda/{old_key}.ics") is not None

    revoked = post(client, "/api/agenda/revoke", {"csrf_token": token}, cookie=cookie_a, form=True)
    assert revoked.status_code == 303 and revoked.headers["Location"].endswith("/compte/#agenda-renouvele")
    new_key = storage.get("FAMILY#100", "AGENDA#1")["feed_key"]
    assert new_key != old_key and len(new_key) == 32
    assert s3_object(f"agenda/{old_key}.ics") is None
    book(client, cookie_a, [("2014-12-08", "RESTAURATION", "reserve")])
    assert set(feed_events(f"http://x/agenda/{new_key}.ics")) == {("2014-12-08", "ANNA")}
    assert s3_object(f"agenda/{old_key}.ics") is None  # not brought back by the booking
    # A form from another page (no token) changes nothing.
    forged = post(client, "/api/agenda/revoke", {}, cookie=cookie_a, form=True)
    assert forged.status_code == 403 and storage.get("FAMILY#100", "AGENDA#1")["feed_key"] == new_key


def test_reminders_are_chosen_on_the_account_page(client, cookie_a, storage, families):
    token = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    on = post(client, "/api/agenda/reminders", {"csrf_token": token, "reminders": "oui"}, cookie=cookie_a, form=True)
    assert on.headers["Location"].endswith("/compte/#rappels-actives")
    assert storage.get("FAMILY#100", "AGENDA#1")["reminders"] is True
    html = s3_object(f"famille/{families['A']['page_key']}/compte/index.html")["Body"].read().decode()
    assert 'name="reminders" type="checkbox" value="oui" checked' in html
    # The box unticked sends no field: off.
    off = post(client, "/api/agenda/reminders", {"csrf_token": token}, cookie=cookie_a, form=True)
    assert off.headers["Location"].endswith("/compte/#rappels-desactives")
    assert storage.get("FAMILY#100", "AGENDA#1")["reminders"] is False
    bad = post(client, "/api/agenda/reminders", {"reminders": ["oui"]}, cookie=cookie_a)
    assert (bad.status_code, json.loads(bad.body)["error"]["code"]) == (400, "invalid_reminders")
    assert storage.get("FAMILY#100", "AGENDA#1")["reminders"] is False
    # Without a session: 401, nothing written.
    assert post(client, "/api/agenda", {}).status_code == 401


def test_no_feed_is_rendered_for_a_family_without_subscriber(storage, enrolled, commune):
    import boto3
    from chalicelib.pages import FamilyPages

    pages = FamilyPages(boto3.client("s3"), "pages", commune, "secret-de-test")
    assert pages.feeds(storage.family_state("100"), GUIDE_NOW) == {}
