"""The back office's « Effectifs » and « Plannings papier » pages (/gestion/effectifs/,
/gestion/plannings/) through Chalice's test client: the CSV is the command's, a week
gives each service its open days, a planning is checked before anything is written and
imported only on confirmation, every line or nothing. The roles and the form token of
these routes are the role matrix's (tests/test_staff_access.py)."""

from __future__ import annotations

import base64
import html
import re
from datetime import date, datetime, timedelta

import pytest
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings

from bench.round_trips import RoundTrips
from tests.conftest import GUIDE_NOW, add_family, all_items
from tests.test_staff import ALL, COUNTER, DAY, HEADER, MIDI, SEATS, cli, reserve

NOVEMBER_19 = "2014-11-19T10:00:00+01:00"


@pytest.fixture
def kitchen(client, storage, families, frozen_clock, commune):
    """Thursday 11 December (tests/test_staff.py's): GARDERIE MIDI, 100 and 200 expected,
    full, 400 then 300 waiting; RESTAURATION: 200 expected, 100 absent."""
    add_family(storage, "300", "carol", None, last_name="CHARLIE", child="CLARA", email="carol@example.org")
    add_family(storage, "400", "dave", None, last_name="DELTA", child="DAVID", email="dave@example.org")
    for family in ("100", "200", "300", "400"):
        storage.update_attributes(st.family_pk(family), st.child_sk("1"), {"services": ALL})
    bookings = Bookings(storage, commune)
    assert reserve(bookings, "100") == reserve(bookings, "200") == "validated"
    storage.update_attributes(*COUNTER, {"validated": SEATS})
    assert reserve(bookings, "400", now=GUIDE_NOW + timedelta(minutes=1)) == "pending"
    assert reserve(bookings, "300", now=GUIDE_NOW + timedelta(minutes=2)) == "pending"
    assert reserve(bookings, "100", service="RESTAURATION") == reserve(bookings, "200", service="RESTAURATION")
    (result,), _ = bookings.submit("100", "1", 1, [Item(DAY, "RESTAURATION", "absence")],
                                   datetime.fromisoformat("2014-12-10T08:00:00+01:00"))
    assert result["status"] == "absent"
    return bookings


def words(response) -> str:
    """The page's text as read: inline tags dropped, the others a space; spaces collapsed."""
    inline_removed = re.sub(r"</?(?:a|strong|em|span|code)\b[^>]*>", "", response.body.decode())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline_removed)).split())


# --- /gestion/effectifs/ -------------------------------------------------------------------------------

def test_the_pages_csv_is_the_commands_for_the_same_day(kitchen, staff_client, capsys):
    agent = staff_client("agent")
    for query, argv in (("date=2014-12-11", ()), ("date=2014-12-11&service=GARDERIE_MIDI", ("--service", MIDI))):
        response = agent.get(f"/gestion/effectifs/?{query}&format=csv")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == 'attachment; filename="effectifs-2014-12-11.csv"'
        status, out, err = cli(capsys, "headcount", "--date", "11/12/2014", "--csv", *argv)
        assert status == 0, err
        assert response.body.decode("utf-8") == out
        assert "GARDERIE_MIDI;2014-12-11;liste d'attente;300;1;CHARLIE CLARA;Madame ANNE CHARLIE;2" in out


def test_a_day_shows_each_service_with_names_ages_absent_and_waiting(kitchen, staff_client):
    agent = staff_client("agent")
    page = agent.get("/gestion/effectifs/?date=2014-12-11")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = words(page)
    assert "Effectifs : jeudi 11 décembre 2014" in text
    assert "GARDERIE MIDI, jeudi 11 décembre 2014 2 enfants attendus sur 3 places, 2 en liste d'attente." in text
    assert "ALPHA ANNA 4 ans 100 Madame ANNE ALPHA" in text
    assert text.index("1 DELTA DAVID 4 ans 400") < text.index("2 CHARLIE CLARA 4 ans 300")
    assert "RESTAURATION, jeudi 11 décembre 2014 1 enfant attendu sur 40 places, 1 absent." in text
    assert "Absents (facturés, non attendus), RESTAURATION" in text
    body = page.body.decode()
    assert body.count('class="feuille-service"') == 4  # one printed sheet per open service
    assert 'href="/gestion/effectifs/?date=2014-12-10"' in body and 'href="/gestion/effectifs/?date=2014-12-12"' in body
    assert 'href="/gestion/effectifs/?date=2014-12-11&amp;format=csv"' in body
    assert '<input id="jour" name="date" type="date" value="2014-12-11" required>' in body
    # one service, on a day it is closed: said so
    closed = words(agent.get("/gestion/effectifs/?date=2014-12-10&service=RESTAURATION"))
    assert "RESTAURATION, mercredi 10 décembre 2014 0 enfant attendu" in closed and "Service fermé ce jour-là" in closed
    # by default, today by the portal's clock (Friday 28 November 2014)
    assert "Effectifs : vendredi 28 novembre 2014" in words(agent.get("/gestion/effectifs/"))
    assert "Aucun service n'est ouvert ce jour-là." in words(agent.get("/gestion/effectifs/?date=2014-12-13"))


@pytest.mark.parametrize(("query", "sentence"), [
    ("date=11/12/2014", "Date « 11/12/2014 » invalide"),
    ("date=2014-02-30", "Date « 2014-02-30 » invalide"),
    ("week=2014-W60", "Semaine « 2014-W60 » invalide"),
    ("date=2014-12-11&service=PISCINE", "Service « PISCINE » inconnu"),
    ("date=2014-12-11&format=pdf", "Format « pdf » inconnu"),
])
def test_a_bad_day_week_or_service_is_a_french_400(kitchen, staff_client, query, sentence):
    response = staff_client("agent").get(f"/gestion/effectifs/?{query}")
    assert response.status_code == 400
    assert sentence in words(response)


def test_a_week_gives_each_service_its_open_days(kitchen, staff_client):
    agent = staff_client("agent")
    page = agent.get("/gestion/effectifs/?week=2014-W50")
    assert page.status_code == 200
    text = words(page)
    assert "Effectifs : semaine du lundi 8 décembre 2014 au dimanche 14 décembre 2014" in text
    assert re.search(r"RESTAURATION 0 / 40 0 / 40 fermé 1 / 40 0 / 40 fermé fermé", text)
    assert re.search(r"GARDERIE MIDI 0 / 3 0 / 3 0 / 3 2 / 3 0 / 3 fermé fermé", text)
    body = page.body.decode()
    assert body.count('class="feuille-service"') == 4
    assert body.count("<h3 ") == 5 + 5 + 4 + 4  # each service's open days
    assert 'href="/gestion/effectifs/?week=2014-W49"' in body and 'href="/gestion/effectifs/?week=2014-W51"' in body
    csv = agent.get("/gestion/effectifs/?week=2014-W50&format=csv")
    assert csv.headers["Content-Disposition"] == 'attachment; filename="effectifs-2014-W50.csv"'
    assert csv.body == agent.get("/gestion/effectifs/?date=2014-12-11&format=csv").body  # children on Thursday only


def test_the_day_page_shows_today_and_tomorrow(kitchen, staff_client, frozen_clock):
    frozen_clock("2014-12-11T07:30:00+01:00")
    text = words(staff_client("agent").get("/gestion/"))
    assert ("Aujourd'hui, jeudi 11 décembre 2014 : GARDERIE MATIN 0, GARDERIE MIDI 2 / 3 (+2 en attente), "
            "GARDERIE SOIR 0, RESTAURATION 1 / 40.") in text
    assert "Demain, vendredi 12 décembre 2014 : GARDERIE MATIN 0, GARDERIE MIDI 0 / 3" in text
    assert 'href="/gestion/effectifs/"' in staff_client("agent").get("/gestion/").body.decode()


def test_what_each_page_costs_in_round_trips(kitchen, staff_client, storage, frozen_clock, capsys):
    """The DynamoDB round trips of each page, its staff session's read (one GetItem) included."""
    from chalicelib.dependencies import storage as function_storage

    agent = staff_client("agent")
    trips = RoundTrips(function_storage().client)
    measured = {}

    def measure(name, answer):
        assert answer.status_code == 200, words(answer)
        measured[name] = dict(trips.by_operation)
        trips.reset()
        return answer

    for name, path in (("effectifs, a day", "/gestion/effectifs/?date=2014-12-11"),
                       ("effectifs, a week", "/gestion/effectifs/?week=2014-W50"),
                       ("effectifs, CSV", "/gestion/effectifs/?date=2014-12-11&format=csv"),
                       ("accueil", "/gestion/")):
        trips.reset()
        measure(name, agent.get(path))
    frozen_clock(NOVEMBER_19)
    trips.reset()
    preview = measure("plannings, preview (2 families)", upload(agent, GOOD.encode()))
    measure("plannings, confirmation (2 families)", agent.post("/gestion/plannings", confirm_fields(preview)))
    with capsys.disabled():
        print("\nDynamoDB round trips per page:", *(f"  {k}: {v}" for k, v in measured.items()), sep="\n")
    assert measured["effectifs, a day"] == {"GetItem": 1, "Query": 4, "BatchGetItem": 1}
    assert measured["effectifs, a week"] == {"GetItem": 1, "Query": 18, "BatchGetItem": 1}
    assert measured["effectifs, CSV"] == {"GetItem": 1, "Query": 4, "BatchGetItem": 1, "PutItem": 1}  # + journal
    assert measured["plannings, preview (2 families)"] == {"GetItem": 1, "BatchGetItem": 1}
    # per child: its family's Query, the transaction, the request line; per family: its
    # journal entry and the Query of its pages' export
    assert measured["plannings, confirmation (2 families)"] == {
        "GetItem": 1, "BatchGetItem": 1, "Query": 4, "TransactWriteItems": 2, "BatchWriteItem": 2, "PutItem": 2}


# --- /gestion/plannings/ ---------------------------------------------------------------------------------

GOOD = (HEADER + "100;1;08/12/2014;RESTAURATION;1\n"
                 "100;1;09/12/2014;Garderie matin;1\n"
                 "200;1;12/12/2014;RESTAURATION;\n")


def written(storage) -> list[dict]:
    return [i for i in all_items(storage) if not i["pk"].startswith(("STAFF", "AUDIT#", "SESSION", "THROTTLE",
                                                                      "SOURCE", "LOGIN"))]


def upload(agent, content: bytes, name: str = "planning.csv", **fields):
    return agent.post_multipart("/gestion/plannings", fields, {"fichier": (name, content, "text/csv")})


def confirm_fields(preview) -> dict:
    body = preview.body.decode()
    return {name: html.unescape(re.search(rf'name="{name}" value="([^"]*)"', body).group(1))
            for name in ("confirm", "nom", "contenu")}


def test_the_upload_form_says_what_to_send(client, staff_client, frozen_clock):
    frozen_clock(NOVEMBER_19)
    page = staff_client("agent").get("/gestion/plannings/")
    assert page.status_code == 200
    body = page.body.decode()
    assert 'enctype="multipart/form-data"' in body
    assert '<input id="fichier" name="fichier" type="file" accept=".csv,text/csv" required' in body
    text = words(page)
    assert "plannings papier de décembre 2014 (le mois prochain), à recevoir au plus tard le jeudi 20 novembre 2014" in text
    assert "numero_famille;numero_enfant;date;service;rang 100;1;01/12/2014;GARDERIE_MATIN;1" in text


def test_a_bad_line_is_shown_with_its_number_and_nothing_is_written(enrolled, staff_client, storage, frozen_clock):
    frozen_clock(NOVEMBER_19)
    agent = staff_client("agent")
    before = written(storage)
    bad = GOOD + "100;1;05/01/2015;RESTAURATION;1\n100;1;08/12/2014;RESTAURATION;1\n"
    preview = upload(agent, bad.encode("cp1252"))
    assert preview.status_code == 422
    text = words(preview)
    assert "2 ligne(s) à corriger : rien ne sera importé" in text
    assert "Ligne 5 : le 05/01/2015 n'est pas en décembre 2014" in text and "Ligne 6 : doublon de la ligne 2" in text
    assert 'name="confirm"' not in preview.body.decode()  # nothing to confirm
    # a confirmation forged with the same bad content is checked again: nothing written
    forged = agent.post("/gestion/plannings", {"confirm": "1", "nom": "planning.csv",
                                               "contenu": base64.urlsafe_b64encode(bad.encode()).decode()})
    assert forged.status_code == 422 and "Ligne 5 :" in words(forged)
    assert written(storage) == before


def test_a_good_planning_previewed_writes_nothing_confirmed_books_and_the_family_sees_it(
        enrolled, staff_client, storage, frozen_clock):
    frozen_clock(NOVEMBER_19)
    agent = staff_client("agent")
    before = all_items(storage)
    preview = upload(agent, GOOD.encode("cp1252"), name="décembre.csv")
    assert preview.status_code == 200
    assert all_items(storage) == before  # not even a journal entry
    text = words(preview)
    assert "Vérification de « décembre.csv »" in text
    assert "3 ligne(s) : 3 jour(s) à réserver, 0 doublon(s)" in text
    assert "Famille 100 (Madame ANNE ALPHA)" in text and "2 ALPHA ANNA lundi 8 décembre 2014 RESTAURATION réservé" in text
    fields = confirm_fields(preview)
    assert fields["confirm"] == "1"
    done = agent.post("/gestion/plannings", fields)
    assert done.status_code == 200
    assert "Planning « décembre.csv » importé : 3 jour(s) réservé(s), 0 doublon(s)" in words(done)
    day = storage.get(st.family_pk("100"), st.day_sk("1", date(2014, 12, 9), "GARDERIE_MATIN"))
    assert (day["status"], day["channel"]) == ("validated", "paper")
    journal = [e for e in storage.audit_entries(datetime.fromisoformat(NOVEMBER_19).date())
               if e["action"] == "plannings_imported"]
    assert sorted((e["actor"], e["details"]["family_number"], e["details"]["booked"]) for e in journal) == [
        (agent.login, "100", 2), (agent.login, "200", 1)]
    # the family's December page says the paper planning's days are booked
    import boto3
    from chalicelib.table import bucket_name

    key = storage.get(st.family_pk("100"), st.PROFILE)["page_key"]
    month = boto3.client("s3", region_name="eu-west-3").get_object(
        Bucket=bucket_name("pages"), Key=f"famille/{key}/enfants/1/2014-12/index.html")["Body"].read().decode()
    assert "(planning papier)" in month
    # the same file again: duplicates, nothing booked twice
    again = agent.post("/gestion/plannings", fields)
    assert "0 jour(s) réservé(s), 3 doublon(s)" in words(again)


def test_after_the_20th_staff_confirm_the_lateness(enrolled, staff_client, storage, frozen_clock):
    frozen_clock("2014-11-21T09:00:00+01:00")
    agent = staff_client("agent")
    preview = upload(agent, GOOD.encode())
    assert preview.status_code == 200
    assert "devaient être saisis au plus tard le jeudi 20 novembre 2014" in words(preview)
    assert '<input id="retard" name="late" type="checkbox" value="1" required>' in preview.body.decode()
    fields = confirm_fields(preview)
    before = written(storage)
    refused = agent.post("/gestion/plannings", fields)
    assert refused.status_code == 409 and "Cochez « planning arrivé en retard »" in words(refused)
    assert written(storage) == before
    assert agent.post("/gestion/plannings", {**fields, "late": "1"}).status_code == 200
    assert storage.get(st.family_pk("200"), st.day_sk("1", date(2014, 12, 12), "RESTAURATION"))["channel"] == "paper"


def test_no_file_a_file_too_large_or_unreadable_is_a_french_4xx(enrolled, staff_client, storage, frozen_clock):
    frozen_clock(NOVEMBER_19)
    agent = staff_client("agent")
    before = written(storage)
    missing = agent.post_multipart("/gestion/plannings", {}, {})
    assert missing.status_code == 400 and "Choisissez le fichier du planning" in words(missing)
    large = upload(agent, GOOD.encode() + b"100;1;08/12/2014;RESTAURATION;1\n" * 20_000)
    assert large.status_code == 413 and "Le fichier dépasse 512 Ko" in words(large)
    garbled = agent.post("/gestion/plannings", {"confirm": "1", "nom": "x.csv", "contenu": "%%%"})
    assert garbled.status_code == 400 and "illisible" in words(garbled)
    assert written(storage) == before
