"""Random bodies at every route of the function: whatever a logged-in
parent's browser (or anyone) sends, the answer is 2xx, 3xx or 4xx, never a 5xx, and a
4xx writes nothing.

The routes come from the Chalice app itself (`app.routes`): a route added later is
attacked without changing this file. Each call carries a valid session and the
same-origin header; form bodies carry the family's form token most of the time, so the
route's own validation is reached, not only the token check. A body is any JSON value,
or an object of the fields the routes read (`items`, `pattern`, `dates`, `back`, …)
with valid values where one or two places got an odd one (another type, an extreme
date, a CRLF, 5000 digits); form bodies likewise; some bodies are random bytes.

The named cases of the issue are tests of their own (test_bad_input.py): this one is
the net for the shapes nobody thought of (it found the form token's 500 on a
non-ASCII token)."""

from __future__ import annotations

import copy
import json
import re
import string
from datetime import UTC, datetime
from html import unescape
from urllib.parse import quote, urlencode

import pytest
from chalicelib import sessions
from chalicelib import storage as st
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as strats

from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import ORIGIN, PASSWORD_A, post, session_cookie

JSON, FORM, MULTIPART = "application/json", "application/x-www-form-urlencoded", "multipart/form-data"
# Each example reads the whole table back (nothing written on a refusal): 15 a route keeps
# the attack on every route (about 60 of them) within half a minute.
EXAMPLES_PER_ROUTE = 15


SERVICES = ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]
ACTIONS = ["reserve", "cancel", "absence"]
DAYS = ["2014-12-11", "2014-12-12", "2014-12-15", "2014-12-01", "2014-11-03", "2014-10-16", "2015-09-07"]
# Values of the wrong type, or at the edges, that a route may not expect (hypothesis
# draws the first ones of a list more often: the likeliest to break come first).
CONFUSERS = ["9999-12-31", ["RESTAURATION"], "0001-01-01", {"code": "RESTAURATION"}, [["RESTAURATION"]], None,
             "2014-W50-4", 2**63, "9" * 5000, "\r\nSet-Cookie: x=1", "²", True, 1.5, -1, 0, "", [], {}, [[]],
             "//evil.example/", "2014-02-30", "20141211", "2014-12-11T10:00:00"]

texts = strats.text(max_size=12)
leaves = strats.one_of(strats.none(), strats.booleans(), strats.integers(), strats.floats(), texts)
values = strats.recursive(leaves, lambda inner: strats.lists(inner, max_size=4)
                          | strats.dictionaries(texts, inner, max_size=4), max_leaves=10)
confusers = strats.sampled_from(CONFUSERS)
odd = strats.one_of(confusers, confusers, confusers, values)
odd_texts = strats.sampled_from([c for c in CONFUSERS if isinstance(c, str)])
odd_text = strats.one_of(odd_texts, odd_texts, texts)

# The fields the routes read, with values they accept: a body is made of these, then
# one or two places in it get an odd value, so that the checks before are passed and
# the odd value meets the check (or the lack of one) behind them.
VALID = {
    "child_id": strats.just("1"),
    "items": strats.lists(strats.fixed_dictionaries({
        "date": strats.sampled_from(DAYS), "service": strats.sampled_from(SERVICES),
        "action": strats.sampled_from(ACTIONS)}), min_size=1, max_size=4),
    "pattern": strats.fixed_dictionaries({
        "weekdays": strats.lists(strats.sampled_from([0, 3, "lundi", "3"]), min_size=1, max_size=3),
        "services": strats.lists(strats.sampled_from(SERVICES), min_size=1, max_size=2),
        "from": strats.sampled_from(DAYS), "to": strats.sampled_from(DAYS)}),
    "back": strats.sampled_from(["/famille/", "/famille/0123456789abcdef0123456789abcdef/enfants/1/2014-12/"]),
    "csrf_token": texts, "idempotency_key": texts, "login": strats.sampled_from(["bob", "ztest"]),
    "password": texts, "current_password": texts, "new_password": texts, "token": texts,
    "email": strats.just("x@example.org"), "phone": strats.just("06 12 34 56 78"),
    "dates": strats.lists(strats.sampled_from(DAYS), min_size=1, max_size=3),
    "content_type": strats.sampled_from(["application/pdf", "image/png", "text/html"]),
    "size": strats.integers(0, 6 * 1024 * 1024),
}
# The month page's forms: repeated `item` boxes, the week pattern's fields.
FORM_VALID = {
    **{name: VALID[name] for name in ("back", "csrf_token", "idempotency_key", "login", "password", "current_password",
                                      "new_password", "token", "email", "phone")},
    "child_id": strats.just("1"),
    "item": strats.tuples(strats.sampled_from(DAYS), strats.sampled_from(SERVICES),
                          strats.sampled_from(ACTIONS)).map("|".join),
    "pattern_weekdays": strats.sampled_from(["0", "3", "lundi"]), "pattern_services": strats.sampled_from(SERVICES),
    "pattern_from": strats.sampled_from(DAYS), "pattern_to": strats.sampled_from(DAYS),
}


def places(value):
    """Every (container, key) of a JSON value: where an odd value may go."""
    keys = list(value) if isinstance(value, dict) else range(len(value)) if isinstance(value, list) else []
    for key in keys:
        yield value, key
        yield from places(value[key])


@strats.composite
def json_bodies(draw) -> str:
    if draw(strats.integers(0, 5), label="any JSON") == 0:
        return json.dumps(draw(values))  # a list, a string, a number, an object of anything
    # A copy: the valid values are shared objects, and mutating them would change what
    # the next examples draw (Hypothesis then reports an inconsistent strategy).
    body = copy.deepcopy(draw(strats.fixed_dictionaries(
        {"child_id": VALID["child_id"]}, optional={k: v for k, v in VALID.items() if k != "child_id"}), label="fields"))
    for _ in range(draw(strats.sampled_from([0, 1, 1, 2]), label="odd values")):
        where = list(places(body))
        if where:
            container, key = draw(strats.sampled_from(where))
            container[key] = copy.deepcopy(draw(odd, label=f"odd {key}"))  # never a shared object
    return json.dumps(body)


@strats.composite
def form_bodies(draw, token: str) -> str:
    names = ["child_id", *draw(strats.lists(strats.sampled_from(sorted(FORM_VALID)), max_size=8), label="fields")]
    pairs = [[name, draw(FORM_VALID[name])] for name in names]
    for _ in range(draw(strats.sampled_from([0, 1, 1, 2]), label="odd values")):
        if pairs:
            draw(strats.sampled_from(pairs))[1] = draw(odd_text, label="odd value")
    if draw(strats.integers(0, 4), label="token") > 0:  # the family's token, most of the time
        pairs.insert(0, ["csrf_token", token])
    return urlencode([tuple(pair) for pair in pairs])


# A message and an invoice of family A, so that their routes are reached with a real id too.
MESSAGE_ID, INVOICE = "0123456789abcdef", "F-2014-1000"
path_values = strats.sampled_from([MESSAGE_ID, INVOICE, "1", "0", "x" * 40]) | strats.text(
    alphabet=string.ascii_letters + string.digits + "-_.~%é", min_size=1, max_size=12)

# Items a refused request may still write: the security record of the attempt (audit,
# failure counters) and the sessions' last-seen instants (a family's, a staff member's).
RECORDS = ("AUDIT#", "SESSION#", "STAFFSESSION#")


def _staff_gates() -> dict[str, str]:
    from chalicelib.routes.staff_calls import EXPIRED_FORM, NOT_LOGGED_IN

    return {EXPIRED_FORM: "invalid_form", NOT_LOGGED_IN: "not_authenticated"}


STAFF_GATES = _staff_gates()  # the staff pages' gates, by their sentence


def lasting(storage) -> dict:
    """The table as moto holds it (read in place: a Scan through botocore costs 50 ms
    an example, most of the attack's time), but the records above."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-3"].get_table(storage.table_name)
    items = (st.deserialise(item.to_json()["Attributes"]) for item in table.all_items())
    return {(i["pk"], i["sk"]): i for i in items if not i["pk"].startswith(RECORDS) and i["sk"] != st.THROTTLE}


def route_list() -> list[tuple[str, str, list[str], list[str]]]:
    from app import app

    return sorted((path, method, list(entry.content_types), list(entry.view_args))
                  for path, methods in app.routes.items() for method, entry in methods.items())


@pytest.fixture
def documents_bucket(client):
    import boto3
    from chalicelib.table import bucket_name

    boto3.client("s3", region_name="eu-west-3").create_bucket(
        Bucket=bucket_name("documents"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})


def test_no_route_answers_5xx_and_a_refusal_writes_nothing(client, enrolled, storage, documents_bucket):
    from app import accounts
    from chalicelib import jobs
    from chalicelib.accounts import AccountError, login_digest

    routes = route_list()
    assert len(routes) >= 11
    key = enrolled["A"]["page_key"]
    storage.batch_write([
        {"pk": "FAMILY#100", "sk": f"MESSAGE#2014-11-27T09:00:00+00:00#{MESSAGE_ID}", "kind": "message",
         "message_id": MESSAGE_ID, "sent_at": "2014-11-27T09:00:00+00:00", "subject": "Menus",
         "body_markdown": "Les menus.", "sender": "Service enfance"},
        {"pk": "FAMILY#100", "sk": st.invoice_sk(INVOICE), "kind": "invoice", "number": INVOICE,
         "pdf_key": f"factures/100/{INVOICE}.pdf", "total": 10},
    ])
    cookie = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    session = {"cookie": cookie, "token": cookie.split(";")[0].split("=", 1)[1]}
    sources = iter(range(10**6))

    def logged_in() -> str:
        """The session's cookie; a new session when a call ended it (logout, password)."""
        if storage.session(sessions.token_hash(session["token"])):
            return session["cookie"]
        try:  # a source of its own: the attacks' failed logins lock theirs out
            token, _ = accounts().login("alice", PASSWORD_A, f"10.0.{next(sources)}.1", GUIDE_NOW)
        except AccountError:  # locked out by the attacks' wrong current passwords: as a reset does
            digest = login_digest("secret-de-test", "alice")
            storage.batch_write([], [(st.login_throttle_pk(digest), st.THROTTLE)])
            token, _ = accounts().login("alice", PASSWORD_A, f"10.1.{next(sources)}.1", GUIDE_NOW)
        # The session's own CSRF cookie too: without it every write would stop at 403.
        csrf = sessions.session_csrf_token("secret-de-test", sessions.token_hash(token))
        session.update(token=token, cookie=f"{sessions.COOKIE_NAME}={token}; {sessions.CSRF_COOKIE_NAME}={csrf}")
        snapshot["table"] = lasting(storage)  # the login's list of sessions changed
        return session["cookie"]

    staff = {}

    def staff_logged_in():
        """A staff session for the /gestion/ routes; a fresh account's when a call ended it
        (a code is accepted once per account and step)."""
        from chalicelib.dependencies import staff_accounts

        from tests.staff_client import StaffClient

        current = staff.get("client")
        if current is None or staff_accounts().current_session(current.cookie.split("=", 1)[1], datetime.now(UTC)) \
                is None:
            staff["client"] = StaffClient(client, "admin")
            snapshot["table"] = lasting(storage)  # the new account
        return staff["client"]

    snapshot = {"table": lasting(storage)}

    # No shrinking: an example costs milliseconds, shrinking one through the app minutes;
    # the failed assertion shows the request as sent.
    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None,
              phases=[Phase.explicit, Phase.reuse, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(data=strats.data())
    def attack(route, data):
        path, method, content_types, parameters = route
        url = path
        for name in parameters:
            url = url.replace("{" + name + "}", quote(data.draw(path_values, label=name), safe=""))
        staff_route = path.startswith("/gestion")
        headers = {**ORIGIN, "Cookie": logged_in()}
        token = sessions.csrf_token("secret-de-test", key)
        if staff_route:  # the family's cookies and a staff session's: only the staff's opens these
            staff_client = staff_logged_in()
            headers["Cookie"] += "; " + staff_client.cookie
            token = staff_client.csrf_token
        content_type = data.draw(strats.sampled_from(content_types), label="content type")
        if data.draw(strats.integers(0, 9), label="raw bytes") == 0:
            payload = data.draw(strats.binary(max_size=40), label="body")
        elif content_type in (FORM, MULTIPART):
            payload = data.draw(form_bodies(token), label="body")
        else:
            payload = data.draw(json_bodies(), label="body")
        headers["Content-Type"] = content_type
        before = snapshot["table"]
        response = (client.http.get(url, headers=headers) if method == "GET"
                    else client.http.request(method, url, headers=headers, body=payload))
        assert jobs.drain()  # a deferred job (the reset mail) writes what its request decided
        after = snapshot["table"] = lasting(storage)
        status = response.status_code
        assert status < 500, (method, url, payload, response.body)
        location = response.headers.get("Location", "")
        assert "\r" not in location and "\n" not in location
        # A staff route's answer is a French page (docs/staff.md), and so is the family's
        # certificate form page (docs/billing.md): the sentence is in its alert.
        if staff_route or response.headers.get("Content-Type", "").startswith("text/html"):
            if staff_route and status != 303:
                assert response.headers["Content-Type"].startswith("text/html"), (method, url, response.headers)
            alert = re.search(r'role="alert">([^<]*)<', response.body.decode())
            sentence = unescape(alert.group(1)) if alert else ""
            outcome = STAFF_GATES.get(sentence, sentence) if status >= 400 else status
            error = {"code": outcome, "message": sentence}
        else:
            outcome = json.loads(response.body)["error"]["code"] if status >= 400 else status
            error = json.loads(response.body)["error"] if status >= 400 else None
        outcomes.setdefault((path, method), set()).add(outcome)
        if status >= 400:
            assert error["code"] and error["message"].endswith((".", "?", "»")), error
            changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
            assert not changed, (status, error, changed)

    outcomes: dict = {}
    for route in routes:  # each route its own examples: none is left out by chance
        attack(route)
    # The attack reached the routes' own checks, not only the session and CSRF gates.
    for (path, method), seen in outcomes.items():
        assert seen - {"invalid_form", "not_authenticated", "cross_site_request"}, (path, method, seen)

