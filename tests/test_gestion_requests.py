"""/gestion/demandes/ and /gestion/certificats/ through the function (Chalice's test
client, in-process moto): the list, bulk decisions within the capacity, refusals before
any write, what the family then sees, certificates and billing, the round trips."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.table import bucket_name

from bench.round_trips import RoundTrips
from tests.conftest import GUIDE_NOW, add_family, all_items
from tests.test_certificates import (  # noqa: F401 - fixtures
    ABSENT,
    EXCUSED,
    absent,
    cookie,
    deductions,
    hand_out,
    s3,
    upload_file,
)

ALL = ("GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION")
MIDI, DAY, NEXT = "GARDERIE_MIDI", date(2014, 12, 11), date(2014, 12, 12)
SEATS = 3


@pytest.fixture
def waiting(client, storage, families, commune, frozen_clock):
    """GARDERIE MIDI of the 11th and 12th December full; families 100, 200, 300 wait for
    the 11th (in that order), 100 for the 12th too."""
    add_family(storage, "300", "carol", None, last_name="CHARLIE", child="CLARA", email="carol@example.org",
               services=ALL)
    for family in ("100", "200"):
        storage.update_attributes(st.family_pk(family), st.child_sk("1"), {"services": list(ALL)})
    for day in (DAY, NEXT):
        storage.put({"pk": st.service_day_pk(MIDI, day), "sk": "COUNTER", "validated": SEATS})
    bookings = Bookings(storage, commune)
    for minute, (family, day) in enumerate((("100", DAY), ("200", DAY), ("300", DAY), ("100", NEXT))):
        (result,), _ = bookings.submit(family, "1", 1, [Item(day, MIDI, "reserve")], GUIDE_NOW + timedelta(minutes=minute))
        assert result["status"] == "pending"
    return bookings


def value(family, day=DAY):
    return f"{family}/1/{MIDI}/{day.isoformat()}"


def text(response) -> str:
    """What the page says, without its tags."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.body.decode()))).replace(" ,", ",")


def status_of(storage, family, day=DAY):
    return storage.get(st.family_pk(family), st.day_sk("1", day, MIDI))["status"]


def counted():
    from chalicelib.dependencies import storage

    return RoundTrips(storage().client)


def family_page(families, key: str, path: str) -> str:
    import boto3

    page = boto3.client("s3", region_name="eu-west-3").get_object(
        Bucket=bucket_name("pages"), Key=f"famille/{families[key]['page_key']}/{path}")
    return html.unescape(page["Body"].read().decode())


# --- the list -------------------------------------------------------------------------------

def test_the_list_shows_each_pending_day_oldest_first_with_its_check_box(waiting, staff_client):
    agent = staff_client("agent")
    calls = counted()
    response = agent.get("/gestion/demandes/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    print(f"GET /gestion/demandes/ (4 pending days): {dict(calls.by_operation)}")
    assert "Scan" not in calls.by_operation and calls.by_operation["Query"] == 1
    page = text(response)
    values = re.findall(r'name="item" value="([^"]+)"', response.body.decode())
    assert values == [value("100"), value("200"), value("300"), value("100", NEXT)]
    assert "ALPHA ANNA (famille 100) – GARDERIE MIDI, jeudi 11 décembre 2014" in page  # the box's visible label
    assert "28/11/2014 à 12:01" in page and "Madame ANNE BRAVO" in page
    body = response.body.decode()
    assert 'name="decision" value="accept"' in body and 'name="decision" value="refuse"' in body
    assert f'name="csrf_token" value="{agent.csrf_token}"' in body
    # Filters: a service, a date range (GET form); « tout cocher » without JavaScript.
    assert re.findall(r'value="([^"]+)"', agent.get("/gestion/demandes/?du=2014-12-12").body.decode()).count(
        value("100", NEXT)) == 1
    assert value("200") not in agent.get("/gestion/demandes/?du=2014-12-12").body.decode()
    assert "Aucune demande en attente pour ces critères" in text(agent.get("/gestion/demandes/?service=RESTAURATION"))
    assert agent.get("/gestion/demandes/?cocher=tout").body.decode().count(" checked>") == 4
    for bad in ("?du=2014-13-01", "?service=PISCINE", "?du=2014-12-12&au=2014-12-11", "?apres=x"):
        refused = agent.get("/gestion/demandes/" + bad)
        assert refused.status_code == 400 and "alerte-erreur" in refused.body.decode(), bad


def test_a_long_list_is_paged_at_the_end_of_a_day(waiting, staff_client, monkeypatch):
    from chalicelib.staff import requests

    monkeypatch.setattr(requests, "PAGE_SIZE", 2)
    agent = staff_client("agent")
    first = agent.get("/gestion/demandes/").body.decode()
    assert len(re.findall(r'name="item"', first)) == 3  # the 11th's whole line, though the page holds 2
    link = html.unescape(re.search(r'href="([^"]+)">Jours suivants', first)[1])
    second = agent.get(link).body.decode()
    assert re.findall(r'name="item" value="([^"]+)"', second) == [value("100", NEXT)]
    assert "Jours suivants" not in second and parse_qs(urlparse(link).query)["apres"]


# --- bulk decisions -----------------------------------------------------------------------------

def test_bulk_accept_within_the_capacity_leaves_the_full_days_pending_and_says_so(waiting, staff_client, storage,
                                                                                  mails):
    storage.put({"pk": st.service_day_pk(MIDI, DAY), "sk": "COUNTER", "validated": SEATS - 1})  # one seat
    agent = staff_client("agent")
    calls = counted()
    response = agent.post("/gestion/demandes", [("decision", "accept"), ("reason", ""),
                                                *(("item", v) for v in (value("100"), value("200"), value("300")))])
    print(f"POST /gestion/demandes (3 items, 1 accepted): {dict(calls.by_operation)}")
    assert response.status_code == 200, response.body
    page = text(response)
    assert "1 jour accepté, 2 complets (toujours en attente)" in page
    assert "Famille 200, enfant 1 – GARDERIE MIDI, jeudi 11 décembre 2014 : Complet : reste en attente" in page
    assert "Service complet ce jour-là" in page
    assert [status_of(storage, f) for f in ("100", "200", "300")] == ["validated", "pending", "pending"]
    assert storage.get(st.service_day_pk(MIDI, DAY), "COUNTER")["validated"] == SEATS
    assert [m["To"] for m in mails()] == ["alice@example.org"]  # only the family decided
    audit = [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "request_accepted"]
    assert [(e["actor"], e["details"]["family_number"]) for e in audit] == [(agent.login, "100")]


def test_a_staff_decision_is_seen_by_the_family_on_its_pages_and_in_its_inbox(waiting, staff_client, storage,
                                                                              families):
    agent = staff_client("agent")
    response = agent.post("/gestion/demandes", [("decision", "refuse"), ("reason", "sortie scolaire"),
                                                ("item", value("100")), ("item", value("100", NEXT))])
    assert response.status_code == 200, response.body
    assert "2 jours refusés" in text(response)
    requests_page = family_page(families, "A", "demandes/index.html")
    assert requests_page.count("Refusée par le service enfance. Motif : sortie scolaire") == 2
    month = family_page(families, "A", "enfants/1/2014-12/index.html")
    assert "Refusée par le service enfance. Motif : sortie scolaire" in month
    inbox = family_page(families, "A", "messages/index.html")
    assert "Demandes refusées : 2 jours" in inbox  # one message for the two days
    assert len(storage.family_state("100").messages) == 1


@pytest.mark.parametrize("fields, status, words", [
    ([("decision", "refuse"), ("reason", "  "), ("item", value("100"))], 400, "Indiquez le motif du refus"),
    ([("decision", "accept"), ("item", value("100")), ("item", "100/1/GARDERIE_MIDI/2014-02-30")], 400,
     "Demande illisible"),
    ([("decision", "accept"), ("item", "100/1/PISCINE/2014-12-11")], 400, "Demande illisible"),
    ([("decision", "accept")], 400, "Cochez au moins une demande"),
    ([("decision", "peut-être"), ("item", value("100"))], 400, "Choisissez"),
    ([("decision", "accept"), *[("item", value("100"))] * 501], 413, "Trop de demandes"),
])
def test_a_bad_post_is_refused_in_french_and_writes_nothing(waiting, staff_client, storage, mails, fields, status,
                                                            words):
    agent = staff_client("agent")
    before = sorted(all_items(storage), key=lambda i: (i["pk"], i["sk"]))
    response = agent.post("/gestion/demandes", fields)
    assert response.status_code == status and words in text(response)
    after = [i for i in all_items(storage) if not i["pk"].startswith(("STAFF", "AUDIT", "THROTTLE", "SOURCE"))]
    assert sorted(after, key=lambda i: (i["pk"], i["sk"])) == [
        i for i in before if not i["pk"].startswith(("STAFF", "AUDIT", "THROTTLE", "SOURCE"))]
    assert mails() == []


def test_round_trips_of_a_bulk_decision_grow_with_the_days_not_more(waiting, staff_client, storage):
    agent = staff_client("agent")
    calls = counted()
    agent.post("/gestion/demandes", [("decision", "refuse"), ("reason", "complet"),
                                     *(("item", v) for v in (value("100"), value("200"), value("300"),
                                                             value("100", NEXT)))])
    by = dict(calls.by_operation)
    print(f"POST /gestion/demandes (4 items refused, 3 families): {by}")
    assert by["BatchGetItem"] == 1 and by["TransactWriteItems"] == 4 and "Scan" not in by


# --- certificates ---------------------------------------------------------------------------------

def test_certificates_to_review_open_their_file_for_five_minutes_and_acceptance_changes_billing(
        client, absent, storage, commune, s3, families, staff_client, mails):  # noqa: F811 - fixtures
    upload_file(hand_out(client, absent))
    agent = staff_client("agent")
    calls = counted()
    response = agent.get("/gestion/certificats/")
    print(f"GET /gestion/certificats/ (1 certificate): {dict(calls.by_operation)}")
    assert response.status_code == 200 and "Scan" not in calls.by_operation
    page = text(response)
    assert "ALPHA ANNA (famille 100)" in page and "06/10/2014, 07/10/2014, 09/10/2014" in page
    link = html.unescape(re.search(r'href="([^"]+)"[^>]*>Ouvrir le fichier', response.body.decode())[1])
    query = parse_qs(urlparse(link).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    import requests as http

    assert http.get(link, timeout=10).content.startswith(b"%PDF")
    value_ = re.search(r'name="certificate" value="([^"]+)"', response.body.decode())[1]
    # Refusing needs a reason: nothing written.
    refused = agent.post("/gestion/certificats", {"certificate": value_, "decision": "refuse", "reason": ""})
    assert refused.status_code == 400 and storage.family_state("100").certificates[0]["state"] == "to_review"
    accepted = agent.post("/gestion/certificats", {"certificate": value_, "decision": "accept", "reason": ""})
    assert accepted.status_code == 200, accepted.body
    assert "Certificat accepté : famille 100" in text(accepted) and "Aucun certificat médical à examiner" in text(
        accepted)
    assert deductions(storage, commune, s3) == EXCUSED
    [message] = storage.family_state("100").messages
    assert message["subject"] == "Certificat médical accepté : ANNA"
    assert "Accepté" in family_page(families, "A", "demandes/index.html")
    audit = [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "certificate_accepted"]
    assert [(e["actor"], e["details"]["family_number"]) for e in audit] == [(agent.login, "100")]


def test_a_refused_certificate_changes_no_billing(client, absent, storage, commune, s3, families,  # noqa: F811
                                                  staff_client):
    upload_file(hand_out(client, absent))
    agent = staff_client("agent")
    value_ = re.search(r'name="certificate" value="([^"]+)"', agent.get("/gestion/certificats/").body.decode())[1]
    response = agent.post("/gestion/certificats", {"certificate": value_, "decision": "refuse",
                                                   "reason": "certificat illisible"})
    assert response.status_code == 200 and "Certificat refusé" in text(response)
    assert deductions(storage, commune, s3) == []
    assert "Refusé : certificat illisible" in family_page(families, "A", "demandes/index.html")
    bad = agent.post("/gestion/certificats", {"certificate": "100/../x", "decision": "accept"})
    assert bad.status_code == 400 and "Certificat illisible" in text(bad)


def test_the_day_page_counts_pending_requests_and_certificates(waiting, staff_client):
    agent = staff_client("agent")
    response = agent.get("/gestion/")
    page, body = text(response), response.body.decode()
    assert "4 jours en attente de décision." in page and 'href="/gestion/demandes/"' in body
    assert "Aucun certificat médical à examiner." in page and 'href="/gestion/certificats/"' in body
