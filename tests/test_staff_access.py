"""Who opens which staff page (chalicelib/staff/roles.py), walked over EVERY route of the
app under /gestion/: a page added later is in the matrix by its `staff_page`. And what
`staff_call` hands a view (chalicelib/routes/staff_calls.py): form fields, uploads,
refusals as French pages."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from chalice import Chalice, Response
from chalice.test import Client
from chalicelib.booking_requests import BookingRequestError
from chalicelib.routes.staff_calls import (
    EXPIRED_FORM,
    FORBIDDEN,
    MAX_FORM_BYTES,
    MULTIPART,
    NOT_LOGGED_IN,
    STAFF_BODY_TYPES,
    StaffRoutes,
)
from chalicelib.staff.roles import PAGES, ROLES, allowed, menu

from tests.staff_client import ORIGIN, StaffClient
from tests.test_accounts_api import PASSWORD_A, post, session_cookie


def gestion_routes() -> list[tuple[str, str, object]]:
    from app import app

    return [(method, path, entry.view_function) for path, methods in app.routes.items()
            if path == "/gestion" or path.startswith("/gestion/") for method, entry in methods.items()]


def url_of(path: str) -> str:
    # Any value for a parameter: the role is checked before the view reads it.
    return re.sub(r"\{[^}]+\}", "0", path) + ("/" if "{" not in path else "")


def text(response) -> str:
    return unescape(response.body.decode())


def test_every_gestion_route_is_a_page_of_the_registry_or_public():
    for method, path, view in gestion_routes():
        page = getattr(view, "staff_page", None)
        assert page in PAGES or getattr(view, "staff_public", False), (method, path)
        assert not path.endswith("/"), path  # API Gateway drops a trailing slash: Chalice refuses one
    assert any(getattr(view, "staff_page", None) == "accueil" for _, _, view in gestion_routes())


def test_the_menu_lists_exactly_the_pages_a_role_may_open():
    assert [name for name, _, _ in menu("agent")] == ["accueil", "demandes", "certificats", "documents", "effectifs", "familles",
                                                      "plannings", "messages"]
    assert [name for name, _, _ in menu("regie")] == [name for name, _, _ in menu("agent")] + [
        "facturation", "factures", "reglements"]
    assert not allowed("agent", "facturation") and not allowed("agent", "factures") and allowed("admin", "factures")
    assert [name for name, _, _ in menu("admin")] == list(PAGES)
    assert not allowed("agent", "agents") and not allowed("regie", "journal") and allowed("admin", "journal")
    assert not allowed("admin", "inconnue") and not allowed("inconnu", "accueil")


def test_the_role_matrix_every_role_on_every_staff_page(staff_client, families, client):
    staff = {role: staff_client(role) for role in ROLES}
    family = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    pages = [(m, p, v.staff_page) for m, p, v in gestion_routes() if getattr(v, "staff_page", None)]
    checked = 0
    for method, path, page in pages:
        url = url_of(path)
        for role, user in staff.items():
            response = user.get(url) if method == "GET" else user.post(url, {})
            if allowed(role, page):
                assert FORBIDDEN not in text(response), (role, method, path)
                if method != "GET":  # and a post without the session's form token is refused
                    refused = user.post(url, {}, csrf=False)
                    assert refused.status_code == 403 and EXPIRED_FORM in text(refused), (role, method, path)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
                assert FORBIDDEN in text(response), (role, method, path)
            checked += 1
        # A family session gets the staff login page (GET) or a 401 (POST), never data.
        if method == "GET":
            answer = client.http.get(url, headers={"Cookie": family})
            assert answer.status_code == 401 and 'action="/gestion/connexion"' in text(answer), path
        else:
            answer = client.http.post(url, body="csrf_token=x", headers={
                "Cookie": family, "Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 401 and NOT_LOGGED_IN in text(answer), path
        assert "ALPHA" not in text(answer) and "alice" not in text(answer)
    assert checked == len(pages) * len(ROLES) > 0


def test_a_page_asked_for_without_a_session_is_the_login_form_that_comes_back_to_it(client):
    page = client.http.get("/gestion/?jour=2014-12-01")
    assert page.status_code == 401 and page.headers["Cache-Control"] == "no-store"
    assert '<input type="hidden" name="suite" value="/gestion/?jour=2014-12-01">' in text(page)


# --- what staff_call hands a view, on a blueprint of its own --------------------------------

@pytest.fixture
def stub(client):
    """An app with one staff page (`plannings`) that echoes what its view received."""
    routes = StaffRoutes(__name__)
    received = []

    @routes.route("/gestion/essai", methods=["POST"], content_types=STAFF_BODY_TYPES)
    @routes.staff_call("plannings")
    def essai(call):
        if call.field("refuser"):
            raise BookingRequestError(409, "full", "Ce jour est complet : il reste en attente.")
        upload = call.upload("fichier")
        call.audit("essai", family_number="100", items=len(call.fields("item")))
        received.append(call)
        return Response(body=json.dumps({
            "items": call.fields("item"), "note": call.field("note"), "query": call.query("q"),
            "upload": [upload[0], upload[1].decode("utf-8")] if upload else None}),
            headers={"Content-Type": "application/json"})

    @routes.route("/gestion/journal-essai", methods=["GET"])
    @routes.staff_call("journal")
    def admin_only(call):
        return call.render("gestion/erreur.html", message="réservé")

    app = Chalice(app_name="stub")
    app.api.binary_types.append(MULTIPART)
    app.register_blueprint(routes)
    with Client(app) as stub_client:
        yield stub_client, received


def _as(stub_client, user: StaffClient) -> StaffClient:
    clone = object.__new__(StaffClient)
    clone.__dict__.update(user.__dict__, client=stub_client)
    return clone


def test_a_view_gets_repeated_fields_uploads_and_the_query(stub, staff_client, storage):
    stub_client, received = stub
    agent = _as(stub_client, staff_client("agent"))
    response = agent.post("/gestion/essai?q=ztest", [("item", "100/1/RESTAURATION/2014-12-01"),
                                                      ("item", "100/1/GARDERIE_SOIR/2014-12-02"), ("note", "é")])
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"items": ["100/1/RESTAURATION/2014-12-01", "100/1/GARDERIE_SOIR/2014-12-02"],
                                         "note": "é", "query": "ztest", "upload": None}
    content = b"numero_famille;numero_enfant;date;service\r\n100;1;01/12/2014;RESTAURATION\r\n"
    response = agent.post_multipart("/gestion/essai", {"note": "Plannings de décembre"},
                                    {"fichier": ("plannings décembre.csv", content, "text/csv")})
    assert json.loads(response.body) == {"items": [], "note": "Plannings de décembre", "query": "",
                                         "upload": ["plannings décembre.csv", content.decode()]}
    call = received[-1]
    assert (call.staff.login, call.staff.role) == (agent.login, "agent")
    entries = [e for e in storage.all_items() if e.get("action") == "essai"]
    assert {(e["actor"], e["details"]["family_number"]) for e in entries} == {(agent.login, "100")}


def test_a_page_outside_the_role_is_a_french_403_page(stub, staff_client):
    stub_client, _ = stub
    agent, admin = (_as(stub_client, staff_client(role)) for role in ("agent", "admin"))
    refused = agent.get("/gestion/journal-essai/")
    assert refused.status_code == 403 and FORBIDDEN in text(refused) and "réservé" not in text(refused)
    assert 'href="/gestion/journal/"' not in text(refused)  # nor in its menu
    opened = admin.get("/gestion/journal-essai/")
    assert opened.status_code == 200 and 'href="/gestion/journal/"' in text(opened)


def test_a_bad_body_or_a_domain_refusal_is_a_french_page_and_writes_nothing(stub, staff_client, storage):
    stub_client, _ = stub
    agent = _as(stub_client, staff_client("agent"))
    refused = agent.post("/gestion/essai", {"refuser": "1"})
    assert refused.status_code == 409 and "Ce jour est complet : il reste en attente." in text(refused)
    assert "<h1>" in text(refused) and refused.headers["Content-Type"].startswith("text/html")
    broken = stub_client.http.post("/gestion/essai", body=b"--x\r\nnot a part", headers={
        "Origin": ORIGIN, "Cookie": agent.cookie, "Content-Type": "multipart/form-data; boundary=zzz"})
    assert broken.status_code == 400 and "Le formulaire envoyé est illisible" in text(broken)
    huge = agent.post("/gestion/essai", {"note": "x" * (MAX_FORM_BYTES + 1)})
    assert huge.status_code == 413 and "trop volumineux" in text(huge)
    assert not [e for e in storage.all_items() if e.get("action") == "essai"]


def test_the_real_app_reads_a_multipart_form(staff_client):
    """The logout form posted as multipart/form-data (binary_types) is read, its token checked."""
    agent = staff_client("agent")
    assert agent.post_multipart("/gestion/deconnexion").status_code == 303
    assert agent.get("/gestion/").status_code == 401
