"""POST /api/bookings (docs/bookings.md, docs/http-api.md): every rule at its edge, with a frozen clock.

The guide's clock: Friday 28 November 2014, 12:00 in Paris. Concurrency proofs are in
test_bookings_race.py (embedded AWS)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from chalicelib import sessions
from chalicelib import storage as st

from tests.conftest import GUIDE_NOW, all_items
from tests.test_accounts_api import PASSWORD_A, PASSWORD_B, post, session_cookie

ALL = ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]


@pytest.fixture
def cookie_a(client, enrolled):
    return session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))


@pytest.fixture
def cookie_b(client, enrolled):
    return session_cookie(post(client, "/api/login", {"login": "bob", "password": PASSWORD_B}))


def login_a(client):
    """A fresh session (after the clock jumped past the idle timeout)."""
    return session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))


def book(client, cookie, items, child="1", **extra):
    items = [{"date": d, "service": s, "action": a} for d, s, a in items]
    return post(client, "/api/bookings", {"child_id": child, "items": items, **extra}, cookie=cookie)


def results(response):
    assert response.status_code == 200, response.body
    return [(r["date"], r["service"], r["status"], r["reason"]) for r in json.loads(response.body)["results"]]


def day_status(storage, family, day, service, child="1"):
    item = storage.get(st.family_pk(family), f"DAY#{child}#{day}#{service}")
    return item and item["status"]


# --- reservations -------------------------------------------------------------------------

def test_a_reservation_on_time_is_validated_and_shows_who_booked(client, cookie_a, storage):
    answer = json.loads(book(client, cookie_a, [("2014-12-05", "GARDERIE_MATIN", "reserve")]).body)
    assert answer == {"results": [{"date": "2014-12-05", "service": "GARDERIE_MATIN", "action": "reserve",
                                   "status": "validated", "reason": "", "message": "Réservation validée."}]}
    day = storage.get("FAMILY#100", "DAY#1#2014-12-05#GARDERIE_MATIN")
    assert (day["status"], day["responsable_rank"], day["channel"]) == ("validated", 1, "online")


@pytest.mark.parametrize(("instant", "status"), [
    ("2014-11-28T23:59:59+01:00", "validated"),  # the deadline's last second
    ("2014-11-29T00:00:00+01:00", "refused"),  # the next second
])
def test_the_deadline_at_23_59_59_and_the_next_second(client, cookie_a, frozen_clock, instant, status):
    frozen_clock(instant)
    (result,) = results(book(client, login_a(client), [("2014-12-05", "RESTAURATION", "reserve")]))
    assert result[2] == status


def test_the_deadline_counts_back_across_a_weekend(client, cookie_a, frozen_clock):
    # Monday 8 December: deadline Monday 1 December 23:59 (the guide's example).
    frozen_clock("2014-12-01T23:59:00+01:00")
    cookie_a = login_a(client)
    assert results(book(client, cookie_a, [("2014-12-08", "RESTAURATION", "reserve")]))[0][2] == "validated"
    frozen_clock("2014-12-02T00:00:00+01:00")
    cookie_a = login_a(client)
    answer = json.loads(book(client, cookie_a, [("2014-12-08", "GARDERIE_MATIN", "reserve"),
                                                ("2014-12-09", "GARDERIE_MATIN", "reserve")]).body)["results"]
    assert (answer[0]["status"], answer[0]["reason"]) == ("refused", "deadline_passed")
    assert answer[0]["message"] == "Trop tard : la date limite pour ce jour était le lundi 1er décembre 2014 à 23 h 59."
    assert answer[1]["status"] == "validated"  # Tuesday 9: until Tuesday 2, 23:59


def test_refusals_name_their_reason_and_never_block_the_other_days(client, cookie_a, storage):
    answer = results(book(client, cookie_a, [
        ("2014-12-25", "RESTAURATION", "reserve"),   # Noël
        ("2014-12-22", "RESTAURATION", "reserve"),   # Christmas holidays, zone C
        ("2014-12-06", "GARDERIE_MATIN", "reserve"),  # a Saturday
        ("2014-12-10", "GARDERIE_SOIR", "reserve"),  # closed on Wednesdays
        ("2015-09-07", "RESTAURATION", "reserve"),   # next school year, not open yet
        ("2014-12-01", "RESTAURATION", "reserve"),   # deadline passed (Monday 24 November)
        ("2014-12-11", "RESTAURATION", "reserve"),   # fine
    ]))
    assert [(r[0], r[2], r[3]) for r in answer] == [
        ("2014-12-25", "refused", "public_holiday"),
        ("2014-12-22", "refused", "school_holiday"),
        ("2014-12-06", "refused", "service_closed"),
        ("2014-12-10", "refused", "service_closed"),
        ("2015-09-07", "refused", "outside_school_year"),
        ("2014-12-01", "refused", "deadline_passed"),
        ("2014-12-11", "validated", ""),
    ]
    assert day_status(storage, "100", "2014-12-11", "RESTAURATION") == "validated"
    assert day_status(storage, "100", "2014-12-25", "RESTAURATION") is None  # refusals write no day


def test_a_service_the_child_is_not_enrolled_in(client, cookie_a, storage):
    storage.update_attributes("FAMILY#100", "CHILD#1", {"services": ["RESTAURATION"]})
    (result,) = results(book(client, cookie_a, [("2014-12-11", "GARDERIE_SOIR", "reserve")]))
    assert result[2:] == ("refused", "not_enrolled")


def test_a_day_already_booked_is_never_booked_twice(client, cookie_a, storage):
    book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve")])
    assert results(book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve")]))[0][2:] == (
        "refused", "already_booked")
    same_request = results(book(client, cookie_a, [("2014-12-12", "RESTAURATION", "reserve"),
                                                   ("2014-12-12", "RESTAURATION", "reserve")]))
    assert [r[2:] for r in same_request] == [("validated", ""), ("refused", "duplicate_in_request")]
    days = [i for i in all_items(storage) if i["sk"].startswith("DAY#1#2014-12-1")]
    assert len(days) == 2


# --- cancellations and absences ------------------------------------------------------------------

def test_cancel_before_the_deadline_is_free_and_after_it_is_refused(client, cookie_a, frozen_clock, storage):
    book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve"), ("2014-12-12", "RESTAURATION", "reserve")])
    assert results(book(client, cookie_a, [("2014-12-11", "RESTAURATION", "cancel")]))[0][2:] == (
        "cancelled", "cancelled_in_time")
    frozen_clock("2014-12-06T10:00:00+01:00")  # past Friday 12's deadline (Friday 5, 23:59)
    cookie_a = login_a(client)
    answer = json.loads(book(client, cookie_a, [("2014-12-12", "RESTAURATION", "cancel")]).body)["results"][0]
    assert (answer["status"], answer["reason"]) == ("refused", "deadline_passed")
    assert "déclarez plutôt une absence" in answer["message"]
    assert day_status(storage, "100", "2014-12-12", "RESTAURATION") == "validated"


def test_absences_after_the_deadline_first_day_billed_following_days_not(client, cookie_a, frozen_clock, storage):
    book(client, cookie_a, [(d, "RESTAURATION", "reserve") for d in ("2014-12-08", "2014-12-09", "2014-12-11")])
    frozen_clock("2014-12-08T08:00:00+01:00")
    cookie_a = login_a(client)
    answer = results(book(client, cookie_a, [("2014-12-08", "RESTAURATION", "absence"),
                                             ("2014-12-09", "RESTAURATION", "absence"),
                                             ("2014-12-11", "RESTAURATION", "absence")]))
    # Wednesday 10 is closed for the canteen: Thursday 11 follows Tuesday 9.
    assert [r[2:] for r in answer] == [("absent", "absence_first_day"), ("absent", "absence_following_day"),
                                       ("absent", "absence_following_day")]
    assert results(book(client, cookie_a, [("2014-12-08", "RESTAURATION", "absence")]))[0][2:] == (
        "refused", "already_absent")


def test_an_absence_older_than_the_window_is_refused_by_the_function_as_by_the_page(client, cookie_a, storage,
                                                                                       commune):
    # Booked in time long ago; on 28 November, 17 October is 42 days back, 3 November 25.
    from datetime import datetime

    from chalicelib.booking_requests import Item
    from chalicelib.bookings import Bookings

    Bookings(storage, commune).submit(
        "100", "1", 1, [Item(date.fromisoformat(d), "RESTAURATION", "reserve") for d in ("2014-10-17", "2014-11-03")],
        datetime.fromisoformat("2014-10-01T10:00:00+02:00"))
    answer = json.loads(book(client, cookie_a, [("2014-10-17", "RESTAURATION", "absence"),
                                                ("2014-11-03", "RESTAURATION", "absence")]).body)["results"]
    assert [(r["status"], r["reason"]) for r in answer] == [("refused", "absence_window_closed"),
                                                            ("absent", "absence_first_day")]
    assert answer[0]["message"] == ("Ce jour est passé depuis plus de 31 jours : l'absence ne se déclare plus "
                                    "en ligne, adressez-vous au service enfance.")
    assert day_status(storage, "100", "2014-10-17", "RESTAURATION") == "validated"  # still billed as booked


def test_an_absence_before_the_deadline_is_a_free_cancellation(client, cookie_a):
    book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve")])
    assert results(book(client, cookie_a, [("2014-12-11", "RESTAURATION", "absence")]))[0][2:] == (
        "cancelled", "cancelled_in_time")


def test_nothing_to_cancel_or_declare_on_a_day_not_booked(client, cookie_a):
    answer = results(book(client, cookie_a, [("2014-12-11", "RESTAURATION", "cancel"),
                                             ("2014-12-12", "RESTAURATION", "absence")]))
    assert [r[2:] for r in answer] == [("refused", "not_booked"), ("refused", "not_booked")]


# --- whole refusals: nothing written ---------------------------------------------------------------

def test_more_than_100_items_is_refused_whole(client, cookie_a, storage):
    before = len(all_items(storage))
    items = [("2014-12-11", "RESTAURATION", "reserve")] * 101
    response = book(client, cookie_a, items)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "too_many_items"
    assert len(all_items(storage)) == before


@pytest.mark.parametrize("bad", [
    {"date": "2014-13-01", "service": "RESTAURATION", "action": "reserve"},
    {"date": "2014-12-11", "service": "PISCINE", "action": "reserve"},
    {"date": "2014-12-11", "service": "RESTAURATION", "action": "book"},
    "2014-12-11",
])
def test_a_malformed_item_refuses_the_whole_request(client, cookie_a, storage, bad):
    before = len(all_items(storage))
    good = {"date": "2014-12-12", "service": "RESTAURATION", "action": "reserve"}
    response = post(client, "/api/bookings", {"child_id": "1", "items": [good, bad]}, cookie=cookie_a)
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["code"] == "invalid_request"
    assert len(all_items(storage)) == before


def test_a_child_of_another_family_is_404_and_changes_nothing(client, cookie_a, storage, enrolled):
    storage.put({"pk": "FAMILY#200", "sk": "CHILD#7", "kind": "child", "child_id": "7", "services": ALL,
                 "first_name": "BRUNO", "last_name": "BRAVO", "sex": "M", "birth_date": "2010-01-01"})
    before = len(all_items(storage))
    response = book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve")], child="7")
    assert response.status_code == 404
    assert len(all_items(storage)) == before


def test_no_session_no_booking(client, enrolled):
    response = book(client, None, [("2014-12-11", "RESTAURATION", "reserve")])
    assert response.status_code == 401


# --- the waiting list ------------------------------------------------------------------------------

def test_a_full_day_waits_in_line_and_a_cancellation_promotes_the_oldest(client, cookie_a, cookie_b, storage, mails,
                                                                        commune):
    day, service = "2014-12-11", "GARDERIE_MIDI"
    seats = commune.service(service).capacity
    storage.put({"pk": f"SERVICEDAY#{service}#{day}", "sk": "COUNTER", "validated": seats - 1})
    assert results(book(client, cookie_a, [(day, service, "reserve")]))[0][2] == "validated"
    waiting = json.loads(book(client, cookie_b, [(day, service, "reserve")]).body)["results"][0]
    assert (waiting["status"], waiting["reason"]) == ("pending", "waiting_list")
    assert storage.get(f"SERVICEDAY#{service}#{day}", "COUNTER")["validated"] == seats
    assert len(storage.query_partition(f"SERVICEDAY#{service}#{day}", "WAIT#")) == 1

    assert results(book(client, cookie_a, [(day, service, "cancel")]))[0][2] == "cancelled"
    promoted = storage.get("FAMILY#200", f"DAY#1#{day}#{service}")
    assert (promoted["status"], promoted["reason"]) == ("validated", "promoted_from_waiting_list")
    assert storage.get(f"SERVICEDAY#{service}#{day}", "COUNTER")["validated"] == seats
    assert storage.query_partition(f"SERVICEDAY#{service}#{day}", "WAIT#") == []
    # Family B is told: a message in its inbox and a mail that says so (no content).
    (message,) = storage.family_state("200").messages
    assert message["subject"] == "Réservation validée : GARDERIE MIDI, jeudi 11 décembre 2014"
    assert mails()[-1]["To"] == "bob@example.org" and "GARDERIE" not in mails()[-1]["Body"].split("«")[0]
    assert storage.family_state("100").messages == []


def test_cancelling_a_pending_request_leaves_the_line(client, cookie_b, storage, commune):
    day, service = "2014-12-11", "GARDERIE_MIDI"
    seats = commune.service(service).capacity
    storage.put({"pk": f"SERVICEDAY#{service}#{day}", "sk": "COUNTER", "validated": seats})
    book(client, cookie_b, [(day, service, "reserve")])
    assert results(book(client, cookie_b, [(day, service, "cancel")]))[0][2] == "cancelled"
    assert storage.query_partition(f"SERVICEDAY#{service}#{day}", "WAIT#") == []
    assert storage.get(f"SERVICEDAY#{service}#{day}", "COUNTER")["validated"] == seats


def test_a_day_staff_refused_asked_again_waits_for_staff_and_is_not_validated(client, cookie_a, storage):
    day, service = "2014-12-11", "GARDERIE_MIDI"
    storage.put({"pk": "FAMILY#100", "sk": f"DAY#1#{day}#{service}", "kind": "day", "child_id": "1", "date": day,
                 "service": service, "status": "refused", "reason": "staff_refused",
                 "message": "Refusée par le service enfance : effectif d'encadrement insuffisant ce jour-là."})
    answer = json.loads(book(client, cookie_a, [(day, service, "reserve")]).body)["results"][0]
    assert (answer["status"], answer["reason"]) == ("pending", "staff_review")
    assert answer["message"] == ("Demandée à nouveau après un refus du service enfance : en attente de sa décision, "
                                 "elle n'est pas validée d'office.")
    assert day_status(storage, "100", day, service) == "pending"
    assert storage.get(f"SERVICEDAY#{service}#{day}", "COUNTER") is None  # no seat taken
    (wait,) = storage.query_partition(f"SERVICEDAY#{service}#{day}", "WAIT#")
    assert (wait["family_number"], wait["child_id"], wait["review"]) == ("100", "1", True)


# --- idempotency, forms, requests, pages ---------------------------------------------------------------

def test_a_replayed_idempotency_key_gets_the_first_answer_and_writes_nothing(client, cookie_a, storage):
    first = book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve")], idempotency_key="k-1")
    count = len(all_items(storage))
    again = book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve")], idempotency_key="k-1")
    assert again.status_code == 200 and json.loads(again.body) == json.loads(first.body)
    assert json.loads(again.body)["results"][0]["status"] == "validated"  # not « already booked »
    assert len(all_items(storage)) == count
    other = book(client, cookie_a, [("2014-12-12", "RESTAURATION", "reserve")], idempotency_key="k-1")
    assert other.status_code == 422
    assert json.loads(other.body)["error"]["code"] == "idempotency_key_reused"


def test_the_form_books_and_answers_303_back_to_the_page(client, cookie_a, enrolled, storage):
    key = enrolled["A"]["page_key"]
    token = sessions.csrf_token("secret-de-test", key)
    from urllib.parse import urlencode

    body = urlencode([("csrf_token", token), ("child_id", "1"), ("back", f"/famille/{key}/enfants/1/2014-12/"),
                      ("item", "2014-12-11|RESTAURATION|reserve"), ("item", "2014-12-12|RESTAURATION|reserve")])
    response = client.http.post("/api/bookings", headers={
        "Origin": "http://127.0.0.1:8000", "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie_a}, body=body)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/famille/{key}/enfants/1/2014-12/#resultat"
    assert day_status(storage, "100", "2014-12-12", "RESTAURATION") == "validated"
    refused = client.http.post("/api/bookings", headers={
        "Origin": "http://127.0.0.1:8000", "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie_a}, body=urlencode([("csrf_token", "faux"), ("child_id", "1"),
                                             ("item", "2014-12-15|RESTAURATION|reserve")]))
    assert refused.status_code == 403


def test_every_submission_is_in_the_list_of_requests(client, cookie_a, storage):
    book(client, cookie_a, [("2014-12-11", "RESTAURATION", "reserve"), ("2014-12-25", "RESTAURATION", "reserve")])
    (request,) = storage.family_state("100").requests
    assert request["type"] == "booking" and request["child_id"] == "1" and request["responsable_rank"] == 1
    assert [(i["date"], i["status"]) for i in request["items"]] == [("2014-12-11", "validated"),
                                                                    ("2014-12-25", "refused")]


def test_a_week_pattern_books_its_days_one_by_one(client, cookie_a, storage):
    response = post(client, "/api/bookings", {"child_id": "1", "pattern": {
        "weekdays": ["lundi", "mardi", "jeudi", "vendredi"], "services": ["RESTAURATION"],
        "from": "2014-12-08", "to": "2014-12-19"}}, cookie=cookie_a)
    answer = results(response)
    assert [r[0] for r in answer] == ["2014-12-08", "2014-12-09", "2014-12-11", "2014-12-12",
                                      "2014-12-15", "2014-12-16", "2014-12-18", "2014-12-19"]
    assert {r[2] for r in answer} == {"validated"}
    across = post(client, "/api/bookings", {"child_id": "1", "pattern": {
        "weekdays": [0], "services": ["RESTAURATION"], "from": "2014-12-15", "to": "2015-01-12"}}, cookie=cookie_a)
    assert across.status_code == 400
    assert "entre deux vacances scolaires" in json.loads(across.body)["error"]["message"]


def test_booking_later_in_the_year_moves_nothing_else(client, cookie_a, frozen_clock):
    frozen_clock(GUIDE_NOW + timedelta(days=60))  # 27 January 2015
    cookie_a = login_a(client)
    assert results(book(client, cookie_a, [("2015-02-05", "RESTAURATION", "reserve")]))[0][2] == "validated"


# --- the absence window: one rule for the function and the month page ---------------------------------

@pytest.mark.parametrize(("back", "offered"), [(31, True), (32, False)])
def test_the_absence_window_is_one_rule_for_decide_and_the_month_page(commune, back, offered):
    from datetime import datetime

    from chalicelib.booking_requests import Item
    from chalicelib.bookings import Plan, decide
    from chalicelib.calendar_rules import CommuneCalendar
    from chalicelib.pages import allowed_action

    now = datetime.fromisoformat("2015-02-13T12:00:00+01:00")  # Friday 13 February 2015
    day = now.date() - timedelta(days=back)  # Tuesday 13 or Monday 12 January
    service, calendar, booked = commune.service("RESTAURATION"), CommuneCalendar(commune), {"status": "validated"}
    decision = decide(Item(day, "RESTAURATION", "absence"), enrolled=ALL, day_item=booked, service=service,
                      commune=commune, calendar=calendar, now=now)
    assert isinstance(decision, Plan) is offered
    assert offered or decision.reason == "absence_window_closed"
    assert (allowed_action(day, service, booked, ALL, commune, calendar, now) == "absence") is offered


def test_the_guide_states_the_absence_window_the_function_applies(commune):
    """The guide's « Déclarer une absence » names the window by its figure, filled in
    from the very rule `decide` applies (31 days, weekends included)."""
    from pathlib import Path

    from chalicelib.bookings import ABSENCE_WINDOW
    from chalicelib.site_texts import fill, rule_texts

    source = Path(__file__).resolve().parents[1] / "content" / "guide" / "declarer-une-absence.md"
    page = fill(source.read_text(encoding="utf-8"), rule_texts(commune, GUIDE_NOW), source.name)
    assert ABSENCE_WINDOW.days == 31
    assert "jusqu'à 31 jours après le jour d'absence (week-ends compris)" in " ".join(page.split())
    assert "mois qui suit" not in page


def test_a_booking_reads_the_family_once_and_its_pages_show_what_it_wrote(client, cookie_a, storage):
    """A booking's pages are rendered from the state it read with its own writes applied
    (docs/family-pages.md): 4 DynamoDB round trips (session, family, transaction, request),
    5 for a cancellation that frees a seat (the waiting list), and the month page written
    shows the day booked, then cancelled; « demandes » lists both requests."""
    from collections import Counter

    from chalicelib import dependencies
    from chalicelib.table import bucket_name

    calls: Counter = Counter()
    dependencies.storage().client.meta.events.register(
        "before-send.dynamodb", lambda request, **_: calls.update([request.headers["X-Amz-Target"].decode()
                                                                   .rsplit(".", 1)[-1]]))
    key = storage.get("FAMILY#100", "PROFILE")["page_key"]
    s3 = dependencies.family_pages().s3

    def written(path: str) -> str:
        return s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/{path}")["Body"].read().decode()

    def marks() -> tuple[int, int]:  # the grid's booked and cancelled cells (the legend's one each)
        html = written("enfants/1/2014-12/index.html")
        return html.count("jour-reserve"), html.count("jour-annule")

    assert results(book(client, cookie_a, [("2014-12-05", "GARDERIE_MIDI", "reserve")]))[0][2] == "validated"
    assert calls == {"GetItem": 1, "Query": 1, "TransactWriteItems": 1, "BatchWriteItem": 1}
    booked, cancelled = marks()
    calls.clear()
    assert results(book(client, cookie_a, [("2014-12-05", "GARDERIE_MIDI", "cancel")]))[0][2] == "cancelled"
    assert calls == {"GetItem": 1, "Query": 2, "TransactWriteItems": 1, "BatchWriteItem": 1}
    assert marks() == (booked - 1, cancelled + 1)
    assert written("demandes/index.html").count("5 décembre") >= 2
