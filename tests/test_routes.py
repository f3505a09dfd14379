"""The routes' shape (chalicelib/routes/): whatever blueprint a route is on (a staff one
added later too), an AWS failure behind it answers the French 503, never a bare 500;
and under `portail serve`'s threads, a blueprint's calls each see their own request."""

from __future__ import annotations

import json
import threading
import urllib.request

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from chalice import Chalice
from chalicelib.accounts import Accounts
from chalicelib.routes.calls import Routes, context
from chalicelib.web import FORM

from portail.devserver import DevServer, serve_in_thread
from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import ORIGIN, PASSWORD_A, post, session_cookie

# One body every route reads what it needs from, valid enough to pass its checks.
BODY = {"login": "alice", "password": PASSWORD_A, "current_password": PASSWORD_A,
        "new_password": "une toute nouvelle phrase de passe", "email": "alice@example.org", "phone": "",
        "token": "t" * 43, "child_id": "1", "items": [{"date": "2014-12-11", "service": "RESTAURATION",
                                                        "action": "reserve"}],
        "dates": ["2014-12-11"], "content_type": "application/pdf", "size": 1000,
        "code": "QUOTIENT"}
PARAMETERS = {"number": "F-2014-1000", "message_id": "0123456789abcdef", "certificate_id": "0123456789abcdef",
              "document_id": "0123456789abcdef", "family_number": "100", "month": "2014-10",
              "token": "A" * 43, "slug": "regles"}
# A GET route's query, where it needs one to reach the table (a bad one is refused before).
QUERIES = {"/api/releve": "?annee=2014-2015"}


def test_every_route_answers_an_aws_failure_with_the_french_503(client, enrolled, monkeypatch):
    from urllib.parse import urlencode

    from app import accounts, app

    from tests.staff_client import StaffClient

    # A family's cookies and a staff session's: every route, a family's or the staff's, gets its own.
    staff = StaffClient(client, "admin")
    cookie = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    cookie += "; " + staff.cookie
    form = urlencode({**{k: v for k, v in BODY.items() if isinstance(v, str)}, "code": "000000",
                      "csrf_token": staff.csrf_token})
    token = cookie.split(";")[0].split("=", 1)[1]
    session, _ = accounts().current_session(token, GUIDE_NOW)
    # A family's form (the certificate's, without script) carries the family's token.
    from chalicelib import sessions
    from chalicelib.dependencies import secret

    family_form = urlencode({**{k: v for k, v in BODY.items() if isinstance(v, str)},
                             "csrf_token": sessions.csrf_token(secret(), session.page_key)})
    # The middleware still finds the session: AWS fails behind it, in the routes.
    monkeypatch.setattr(Accounts, "current_session", lambda self, token, now: (session, False))
    aws_calls = []

    def unavailable(self, operation, parameters):
        aws_calls.append(operation)
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "panne"}}, operation)

    monkeypatch.setattr(BaseClient, "_make_api_call", unavailable)
    reached = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            url = path.format(**PARAMETERS) + QUERIES.get(path, "")
            aws_calls.clear()
            if method == "GET":
                response = client.http.get(url, headers={"Cookie": cookie})
            else:
                content_type = entry.content_types[0]
                response = client.http.request(method, url, headers={**ORIGIN, "Cookie": cookie,
                                                                     "Content-Type": content_type},
                                               body=(family_form if url.startswith("/api/") else form)
                                               if content_type == FORM else json.dumps(BODY))
            assert response.status_code != 500, (method, path, response.body)
            if aws_calls:
                reached.append((method, path))
                assert response.status_code == 503, (method, path, response.body)
                assert json.loads(response.body)["error"] == {
                    "code": "service_unavailable",
                    "message": "Le service est momentanément indisponible : réessayez dans un instant."}
                assert response.headers["Retry-After"] == "5"
    # Every route but the page cookies' renewals (signed without AWS) reads or writes.
    renewals = {("POST", "/api/session/renew"), ("GET", "/api/session/renew")}
    assert set(reached) == {(m, p) for p, methods in app.routes.items() for m in methods} - renewals


def test_a_blueprints_calls_each_see_their_own_request_under_portail_serve(tmp_path):
    stub = Chalice(app_name="stub")
    routes = Routes(__name__)
    both_in = threading.Barrier(2, timeout=10)

    @stub.middleware("http")
    def instant(event, get_response):
        context(event)["now"] = GUIDE_NOW  # what app.py's middleware sets
        return get_response(event)

    @routes.route("/api/echo", methods=["POST"], content_types=["application/json"])
    @routes.public_call()
    def echo(call):
        both_in.wait()  # both calls are inside their views at once
        return {"handed": call.data["n"], "current": json.loads(routes.current_request.raw_body)["n"]}

    stub.register_blueprint(routes)
    server, thread = serve_in_thread(DevServer(tmp_path, chalice_app=stub))
    answers = {}

    def call(n: int) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/echo", data=json.dumps({"n": n}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            answers[n] = json.loads(response.read())

    try:
        callers = [threading.Thread(target=call, args=(n,)) for n in (1, 2)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=30)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    assert answers == {1: {"handed": 1, "current": 1}, 2: {"handed": 2, "current": 2}}
