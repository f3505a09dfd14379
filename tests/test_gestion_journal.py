"""The staff journal's page (`GET /gestion/journal/`, admin only): the filters by agent,
family and day, « Entrées plus anciennes », a French 400 for a bad filter, the staff's
own logins and page actions in it, and its DynamoDB round trips (never a Scan)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from bench.round_trips import RoundTrips


def text(response) -> str:
    return unescape(response.body.decode())


def rows(response) -> list[list[str]]:
    """The journal table's rows, each cell's text without its tags."""
    body = text(response).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def older_link(response) -> str | None:
    found = re.search(r'<a href="([^"]+)">Entrées plus anciennes</a>', text(response))
    return found.group(1) if found else None


@pytest.fixture
def written(storage):
    """Staff entries of marie and paul over the last hour, about families 100 and 200, and a
    parent's login; newest first."""
    now = datetime.now(UTC)
    entries = []
    for n in range(30):
        when = now - timedelta(seconds=60 - n)
        actor = "marie" if n % 2 else "paul"
        family = "100" if n % 3 else "200"
        item = storage.audit_item(when, actor, "request_refused", {
            "family_number": family, "child_id": "1", "service": "RESTAURATION", "date": "2014-12-11",
            "reason": f"motif {n}"})
        storage.put(item)
        entries.append(item)
    storage.audit(now - timedelta(seconds=5), "alice", "login", {"source": "192.0.2.1"}, by_family=True)
    return entries[::-1]


def test_filters_by_agent_and_family_a_page_at_a_time(staff_client, written, monkeypatch):
    import chalicelib.staff.journal as journal

    admin = staff_client("admin")
    page = admin.get("/gestion/journal/?agent=marie")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert [r[4] for r in rows(page)] == [
        f"enfant : 1 ; service : RESTAURATION ; jour : 11/12/2014 ; motif : {e['details']['reason']}"
        for e in written if e["actor"] == "marie"]
    assert {r[1] for r in rows(page)} == {"marie"} and {r[2] for r in rows(page)} == {"Demande refusée"}

    both = admin.get("/gestion/journal/?agent=paul&famille=200")
    assert [r[4].rsplit("motif : ", 1)[1] for r in rows(both)] == [
        e["details"]["reason"] for e in written if e["actor"] == "paul" and e["details"]["family_number"] == "200"]

    # A page of 4: « Entrées plus anciennes » walks the family's entries, newest first.
    monkeypatch.setattr(journal, "PAGE", 4)
    expected = [e["details"]["reason"] for e in written if e["details"]["family_number"] == "100"]
    seen, url = [], "/gestion/journal/?famille=100"
    while url:
        page = admin.get(url)
        assert page.status_code == 200
        seen += [r[4].rsplit("motif : ", 1)[1] for r in rows(page)]
        assert {r[3] for r in rows(page)} == {"100"}
        assert 'href="/gestion/familles/100/"' in text(page)
        url = older_link(page)
        if url:
            assert "famille=100" in url and "avant=" in url
    assert seen == expected and len(seen) == 20



def test_the_day_shows_staff_actions_and_logins_never_the_familys(staff_client, written):
    admin = staff_client("admin")
    page = admin.get("/gestion/journal/")
    body = text(page)
    cells = rows(page)
    assert {r[1] for r in cells} >= {"marie", "paul", admin.login} and "alice" not in {r[1] for r in cells}
    assert any(r[1] == admin.login and r[2] == "Connexion à la gestion" for r in cells)
    assert "Jour précédent" in body and "Jour suivant" not in body  # today: nothing after
    assert re.search(r"\d{2}/\d{2}/\d{4} à \d{2} h \d{2}", cells[0][0])
    # The agent filter lists the staff accounts; an actor's name links to its filter.
    assert f'<option value="{admin.login}">' in body and f'href="/gestion/journal/?agent={admin.login}"' in body


def test_a_staff_logout_and_a_page_action_land_in_the_journal(staff_client, client):
    from chalice import Chalice
    from chalice.test import Client
    from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffRoutes

    # A page's action as every staff page writes it (StaffCall.audit), on a blueprint of its own.
    routes = StaffRoutes(__name__)

    @routes.route("/gestion/essai-journal", methods=["POST"], content_types=STAFF_BODY_TYPES)
    @routes.staff_call("familles")
    def record(call):
        call.audit("certificate_recorded", family_number=call.field("famille"), child_id="1", dates=["2014-12-08"])
        return call.redirect("/gestion/familles/")

    stub = Chalice(app_name="stub")
    stub.register_blueprint(routes)
    admin, agent = staff_client("admin"), staff_client("agent")
    with Client(stub) as stub_client:
        page_client = object.__new__(type(agent))
        page_client.__dict__.update(agent.__dict__, client=stub_client)
        assert page_client.post("/gestion/essai-journal", {"famille": "100"}).status_code == 303
    assert agent.post("/gestion/deconnexion").status_code == 303
    page = admin.get(f"/gestion/journal/?agent={agent.login}")
    assert [(r[2], r[3]) for r in rows(page)] == [("Déconnexion de la gestion", ""),
                                                  ("Certificat papier enregistré", "100"),
                                                  ("Connexion à la gestion", "")]
    family = admin.get("/gestion/journal/?famille=100")
    assert [(r[1], r[2], r[3], r[4]) for r in rows(family)] == [
        (agent.login, "Certificat papier enregistré", "100", "enfant : 1 ; jours : 08/12/2014")]
    day = admin.get("/gestion/journal/")
    assert {(agent.login, "Certificat papier enregistré")} <= {(r[1], r[2]) for r in rows(day)}


@pytest.mark.parametrize(("query", "words"), [
    ("famille=12a", "Numéro de famille invalide"),
    ("famille=1%27%20OR%201=1", "Numéro de famille invalide"),
    ("jour=2014-02-30", "Jour invalide"),
    ("jour=demain", "Jour invalide"),
    ("agent=%3Cscript%3E", "Agent invalide"),
    ("avant=2014-12-08", "entrées plus anciennes n'est pas valable"),
])
def test_a_bad_filter_is_a_french_400(staff_client, query, words):
    admin = staff_client("admin")
    page = admin.get(f"/gestion/journal/?{query}")
    assert page.status_code == 400 and words in text(page)
    assert "<script>" not in text(page)


def test_only_an_admin_opens_the_journal(staff_client):
    for role in ("agent", "regie"):
        assert staff_client(role).get("/gestion/journal/").status_code == 403


def test_round_trips_of_the_journal_page(staff_client, written, storage, capsys):
    from chalicelib.dependencies import storage as function_storage

    admin = staff_client("admin")
    trips = RoundTrips(function_storage().client)
    counts = {}
    for name, url in (("sans filtre", "/gestion/journal/"), ("par agent", "/gestion/journal/?agent=marie"),
                      ("par famille", "/gestion/journal/?famille=100")):
        trips.reset()
        assert admin.get(url).status_code == 200
        counts[name] = dict(trips.by_operation)
        assert "Scan" not in trips.by_operation
    with capsys.disabled():
        print(f"\nDynamoDB round trips of /gestion/journal/: {counts}")
    # The session (one GetItem), the staff accounts for the agent filter (one Query), the
    # journal: one Query by agent or family, one per UTC partition of the local day.
    assert counts["par agent"]["Query"] == 2 and counts["par famille"]["Query"] == 2
    assert counts["sans filtre"]["Query"] <= 3
