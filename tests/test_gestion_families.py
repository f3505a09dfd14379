"""`/gestion/familles/`: the search page, a family's file and its forms, through the
function (Chalice's test client, a staff session of role agent); and what each costs in
DynamoDB round trips (docs/http-api.md, docs/data-model.md)."""

from __future__ import annotations

import pytest

from bench.round_trips import RoundTrips
from tests.conftest import GUIDE_NOW

LATE_DAY, OPEN_DAY = "2014-12-02", "2014-12-15"  # the first past its deadline at the guide's clock


@pytest.fixture
def agent(staff_client, enrolled):
    return staff_client("agent")


def text(response) -> str:
    body = response.body
    return body.decode() if isinstance(body, bytes) else body


def test_the_search_page_finds_a_family_by_its_childs_name(agent):
    empty = agent.get("/gestion/familles/")
    assert empty.status_code == 200 and 'name="q"' in text(empty) and "Résultats" not in text(empty)
    assert empty.headers["Cache-Control"] == "no-store"
    found = text(agent.get("/gestion/familles/?q=anna"))
    assert 'href="/gestion/familles/100/"' in found and "ANNA ALPHA" in found
    assert "/gestion/familles/200/" not in found
    assert "Aucune famille ne correspond à « zzz »" in text(agent.get("/gestion/familles/?q=zzz"))
    assert "au moins deux lettres" in text(agent.get("/gestion/familles/?q=a"))
    assert "&lt;script&gt;" in text(agent.get("/gestion/familles/?q=<script>"))  # escaped, never markup


def test_the_family_file_shows_contacts_children_grid_and_forms(agent):
    page = agent.get("/gestion/familles/100/?enfant=1&mois=2014-12")
    body = text(page)
    assert page.status_code == 200
    for expected in ("Famille n° 100", "alice@example.org", "ANNA", "Décembre 2014",
                     'action="/gestion/familles/100/reservations"', "Envoyer un lien de mot de passe",
                     f'value="{OPEN_DAY}|RESTAURATION|reserve"', agent.csrf_token):
        assert expected in body, expected
    # A day past its deadline is offered to staff only, named as such.
    assert f'value="{LATE_DAY}|RESTAURATION|reserve" title="Réserver RESTAURATION le mardi 2 décembre 2014 ' \
           '(après la date limite : passer outre)"' in body
    missing = agent.get("/gestion/familles/999/")
    assert missing.status_code == 404 and "Famille n° 999 introuvable" in text(missing)
    assert agent.get("/gestion/familles/abc/").status_code == 404


def test_a_staff_booking_past_the_deadline_needs_override_and_reason(agent, storage):
    form = {"child_id": "1", "item": f"{LATE_DAY}|RESTAURATION|reserve", "rank": "1", "month": "2014-12"}
    refused = agent.post("/gestion/familles/100/reservations", {**form, "override": "1", "reason": ""})
    assert refused.status_code == 400 and "Indiquez la raison" in text(refused)
    plain = agent.post("/gestion/familles/100/reservations", form)
    assert plain.status_code == 303
    assert plain.headers["Location"] == "/gestion/familles/100/?enfant=1&mois=2014-12#resultat"
    assert storage.get("FAMILY#100", f"DAY#1#{LATE_DAY}#RESTAURATION") is None
    accepted = agent.post("/gestion/familles/100/reservations", {**form, "override": "1", "reason": "Papier en retard"})
    assert accepted.status_code == 303
    day = storage.get("FAMILY#100", f"DAY#1#{LATE_DAY}#RESTAURATION")
    assert (day["status"], day["channel"], day["override_reason"], day["staff_login"]) == (
        "validated", "staff", "Papier en retard", agent.login)
    page = text(agent.get("/gestion/familles/100/?enfant=1&mois=2014-12"))
    assert "(par le service enfance)" in page and "Réservation validée" in page


def test_the_journal_tells_the_staffs_changes_to_a_family(agent, staff_client):
    agent.post("/gestion/familles/100/reservations", {"child_id": "1", "item": f"{LATE_DAY}|RESTAURATION|reserve",
                                                       "rank": "1", "override": "1", "reason": "Papier en retard"})
    agent.post("/gestion/familles/100/tranche", {"quotient_bracket": "D"})
    journal = text(staff_client("admin").get("/gestion/journal/?famille=100"))
    for expected in ("Jours saisis pour la famille, date limite passée outre", "motif : Papier en retard",
                     f"jours : {LATE_DAY} RESTAURATION réserver : validée", "Tranche de quotient familial modifiée",
                     "avant : B ; après : D", agent.login):
        assert expected in journal, expected


def test_contact_forms_validate_before_writing(agent, storage):
    bad = agent.post("/gestion/familles/100/coordonnees", {"rank": "1", "email": "pas une adresse", "phone": ""})
    assert bad.status_code == 400 and "invalide" in text(bad)
    assert storage.get("FAMILY#100", "RESPONSABLE#1")["email"] == "alice@example.org"
    assert agent.post("/gestion/familles/100/coordonnees", {"rank": "3", "email": "", "phone": ""}).status_code == 400
    done = agent.post("/gestion/familles/100/coordonnees", {"rank": "1", "email": "anne@example.org",
                                                            "phone": "0160440000"})
    assert (done.status_code, done.headers["Location"]) == (303, "/gestion/familles/100/#coordonnees-enregistrees")
    assert storage.get("FAMILY#100", "RESPONSABLE#1")["phone"] == "01 60 44 00 00"
    assert "/gestion/familles/100/" in text(agent.get("/gestion/familles/?q=anne@example"))
    assert agent.post("/gestion/familles/100/adresse", {"address": "1 rue", "postal_code": "7712",
                                                        "city": ""}).status_code == 400
    assert agent.post("/gestion/familles/100/tranche", {"quotient_bracket": "Z"}).status_code == 400
    assert agent.post("/gestion/familles/100/tranche", {"quotient_bracket": "D"}).status_code == 303
    assert storage.get("FAMILY#100", "PROFILE")["quotient_bracket"] == "D"
    enrol = agent.post("/gestion/familles/100/inscriptions", [("child_id", "1"), ("service", "RESTAURATION")])
    assert enrol.status_code == 303
    assert storage.get("FAMILY#100", "CHILD#1")["services"] == ["RESTAURATION"]
    assert agent.post("/gestion/familles/999/tranche", {"quotient_bracket": "D"}).status_code == 404


def test_send_a_password_link(agent, mails, storage):
    sent = agent.post("/gestion/familles/100/mot-de-passe", {"rank": "1"})
    assert (sent.status_code, sent.headers["Location"]) == (303, "/gestion/familles/100/#lien-envoye")
    assert [m["Subject"] for m in mails() if m["To"] == "alice@example.org"] == [
        "Portail Famille : choisir un nouveau mot de passe"]
    entries = storage.audit_entries(GUIDE_NOW.date()) + storage.audit_entries(__import__("datetime").date.today())
    assert any(e["action"] == "password_link_sent" and e["actor"] == agent.login for e in entries)


def test_round_trips_of_the_search_the_file_and_a_staff_booking(agent, capsys):
    from chalicelib.dependencies import storage

    trips = RoundTrips(storage().client)
    agent.get("/gestion/familles/?q=alpha anna")
    search = dict(trips.by_operation)
    trips.reset()
    agent.get("/gestion/familles/100/")
    file = dict(trips.by_operation)
    trips.reset()
    agent.post("/gestion/familles/100/reservations", {"child_id": "1", "item": f"{OPEN_DAY}|RESTAURATION|reserve",
                                                       "rank": "1"})
    booking = dict(trips.by_operation)
    with capsys.disabled():
        print(f"\nround trips: search {sum(search.values())} {search}; file {sum(file.values())} {file}; "
              f"booking {sum(booking.values())} {booking}")
    assert "Scan" not in {**search, **file, **booking}
    assert search.get("Query") == 2 and search.get("BatchGetItem") == 1  # one Query a word, one batch
    assert file.get("Query") == 1  # the family's whole file from one Query
