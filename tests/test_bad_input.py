"""Bad input and cross-site calls: a clear French 4xx, never a
500, and nothing written; the same-origin check against the stage's own address.

The property test over every route is in test_routes_fuzz.py."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from chalicelib import sessions

from tests.conftest import all_items
from tests.test_accounts_api import ORIGIN, PASSWORD_A, error_of, post, session_cookie

FORM = "application/x-www-form-urlencoded"
GOOD = {"date": "2014-12-12", "service": "RESTAURATION", "action": "reserve"}


@pytest.fixture
def cookie_a(client, enrolled):
    return session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))


def lasting(storage) -> list[dict]:
    """The table but the sessions (their last-seen instant may move on any call)."""
    return sorted((i for i in all_items(storage) if not i["pk"].startswith("SESSION#")),
                  key=lambda i: (i["pk"], i["sk"]))


def assert_french_400(response, code="invalid_request", status=400):
    assert response.status_code == status, response.body
    error = error_of(response)
    assert error["code"] == code
    assert error["message"].endswith(".") and " " in error["message"]  # a sentence, not a traceback
    assert "Traceback" not in error["message"] and "Error" not in error["message"]


# --- item 10: malformed bookings -----------------------------------------------------------------

def test_json_nested_20000_deep_is_a_400_and_writes_nothing(client, cookie_a, storage):
    before = lasting(storage)
    deep = '{"child_id": "1", "items": ' + "[" * 20_000 + "]" * 20_000 + "}"
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": "application/json",
                                                          "Cookie": cookie_a}, body=deep)
    assert_french_400(response)
    assert error_of(response)["message"] == "La demande est illisible : données JSON ou formulaire attendues."
    assert lasting(storage) == before


def test_a_body_bigger_than_any_request_is_a_413(client, cookie_a, storage):
    before = lasting(storage)
    huge = json.dumps({"child_id": "1", "items": [GOOD], "padding": "x" * 100_000})
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": "application/json",
                                                          "Cookie": cookie_a}, body=huge)
    assert_french_400(response, "request_too_large", 413)
    assert lasting(storage) == before


@pytest.mark.parametrize("bad", [
    {"items": [GOOD, {**GOOD, "date": "2014-12-15", "service": ["RESTAURATION"]}]},
    {"items": [GOOD, {**GOOD, "date": "2014-12-15", "service": {"code": "RESTAURATION"}}]},
    {"items": [GOOD, {**GOOD, "action": ["reserve"]}]},
    {"items": [GOOD, {**GOOD, "date": "0001-01-01"}]},
    {"items": [GOOD, {**GOOD, "date": "9999-12-31"}]},
    {"items": [GOOD, {**GOOD, "date": "2014-W50-4"}]},  # ISO, but not AAAA-MM-JJ
    {"items": [GOOD, {**GOOD, "date": 20141215}]},
    {"pattern": {"weekdays": [0], "services": [["RESTAURATION"]], "from": "2014-12-08", "to": "2014-12-19"}},
    {"pattern": {"weekdays": [0], "services": [{"a": 1}], "from": "2014-12-08", "to": "2014-12-19"}},
    {"pattern": {"weekdays": [0], "services": ["RESTAURATION"], "from": "0001-01-01", "to": "0001-01-05"}},
    {"pattern": {"weekdays": [0], "services": ["RESTAURATION"], "from": "9999-12-31", "to": "9999-12-31"}},
    {"pattern": {"weekdays": 3, "services": ["RESTAURATION"], "from": "2014-12-08", "to": "2014-12-19"}},
    {"pattern": {"weekdays": [True], "services": "RESTAURATION", "from": "2014-12-08", "to": "2014-12-19"}},
    {"pattern": {"weekdays": [0], "services": ["RESTAURATION"], "from": ["2014-12-08"], "to": "2014-12-19"}},
])
def test_a_malformed_booking_is_a_french_400_and_writes_nothing(client, cookie_a, storage, bad):
    before = lasting(storage)
    response = post(client, "/api/bookings", {"child_id": "1", **bad}, cookie=cookie_a)
    assert_french_400(response)
    assert lasting(storage) == before


@pytest.mark.parametrize("value", [
    "2014-12-0²|RESTAURATION|reserve",  # a digit Python's int() reads, no date
    "9999-12-31|RESTAURATION|reserve",
])
def test_a_malformed_form_item_is_refused_whole(client, cookie_a, enrolled, storage, value):
    key = enrolled["A"]["page_key"]
    before = lasting(storage)
    body = urlencode([("csrf_token", sessions.csrf_token("secret-de-test", key)), ("child_id", "1"),
                      ("back", f"/famille/{key}/enfants/1/2014-12/"), ("item", "2014-12-12|RESTAURATION|reserve"),
                      ("item", value)])
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": FORM, "Cookie": cookie_a},
                                body=body)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/famille/{key}/enfants/1/2014-12/#erreur-invalid-request"
    assert lasting(storage) == before


def test_a_week_pattern_form_with_odd_weekdays_is_refused_whole(client, cookie_a, enrolled, storage):
    key = enrolled["A"]["page_key"]
    before = lasting(storage)
    body = urlencode([("csrf_token", sessions.csrf_token("secret-de-test", key)), ("child_id", "1"),
                      ("pattern_weekdays", "0"), ("pattern_weekdays", "²"), ("pattern_weekdays", "9" * 5000),
                      ("pattern_services", "RESTAURATION"), ("pattern_from", "2014-12-08"), ("pattern_to", "2014-12-19")])
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": FORM, "Cookie": cookie_a},
                                body=body)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/famille/{key}/#erreur-invalid-request"
    assert lasting(storage) == before


@pytest.mark.parametrize("back", [
    "{home}enfants/1/2014-12/\r\nSet-Cookie: pirate=1",
    "{home}enfants/1/2014-12/\n",
    "{home}../0123456789abcdef0123456789abcdef/",
    "{home}/evil.example/",
    "{home}enfants/1/2014-12/?x=1",
    "//evil.example/{home}",
    "https://evil.example{home}",
])
def test_a_back_that_is_no_page_of_the_family_is_ignored(client, cookie_a, enrolled, storage, back):
    key = enrolled["A"]["page_key"]
    home = f"/famille/{key}/"
    body = urlencode([("csrf_token", sessions.csrf_token("secret-de-test", key)), ("child_id", "1"),
                      ("back", back.format(home=home)), ("item", "2014-12-12|RESTAURATION|reserve")])
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": FORM, "Cookie": cookie_a},
                                body=body)
    assert response.status_code == 303
    assert response.headers["Location"] == home + "#resultat"
    assert storage.get("FAMILY#100", "DAY#1#2014-12-12#RESTAURATION")["status"] == "validated"


def test_a_back_under_the_family_pages_is_kept(client, cookie_a, enrolled):
    key = enrolled["A"]["page_key"]
    back = f"/famille/{key}/enfants/1/2014-12/"
    body = urlencode([("csrf_token", sessions.csrf_token("secret-de-test", key)), ("child_id", "1"),
                      ("back", back), ("item", "2014-12-12|RESTAURATION|reserve")])
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": FORM, "Cookie": cookie_a},
                                body=body)
    assert (response.status_code, response.headers["Location"]) == (303, back + "#resultat")


# --- item 9: the same-origin check -----------------------------------------------------------------

def logout(client, headers: dict):
    """POST /api/logout without a session: 204 when the same-origin check lets it through."""
    return client.http.post("/api/logout", headers={"Content-Type": "application/json", **headers}, body="{}")


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example", "Host": "evil.example"},  # the request's own Host is no reference
    {"Origin": "http://127.0.0.1:9999", "Host": "127.0.0.1:9999"},  # another port
    {"Origin": "https://127.0.0.1:8000"},  # another scheme
    {"Origin": "http://127.0.0.1"},  # the default port is not 8000
    {"Origin": "http://127.0.0.1:8000.evil.example"},
    {"Origin": "http://127.0.0.1:8000@evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-site"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"},
    {},
])
def test_a_post_from_any_other_origin_is_refused(client, headers):
    response = logout(client, headers)
    assert response.status_code == 403
    assert error_of(response) == {"code": "cross_site_request", "message":
                                  "Requête refusée : elle ne provient pas d'une page du Portail Famille."}


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:8000"},
    {"Origin": "HTTP://127.0.0.1:8000"},  # scheme and host compared in lower case
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8000"},
])
def test_a_post_from_the_site_itself_passes(client, headers):
    assert logout(client, headers).status_code == 204


def test_the_reference_is_the_stages_address_with_its_default_port(client, monkeypatch):
    monkeypatch.setenv("PORTAIL_SITE_URL", "https://portail.example.fr")
    assert logout(client, {"Origin": "https://portail.example.fr"}).status_code == 204
    assert logout(client, {"Origin": "https://portail.example.fr:443"}).status_code == 204
    assert logout(client, {"Origin": "http://portail.example.fr"}).status_code == 403
    assert logout(client, {"Origin": "http://127.0.0.1:8000"}).status_code == 403  # commune.toml's, not the stage's


def test_a_form_token_with_non_ascii_characters_is_refused_not_a_500(client, cookie_a, storage):
    before = lasting(storage)
    response = client.http.post("/api/bookings", headers={**ORIGIN, "Content-Type": FORM, "Cookie": cookie_a},
                                body=urlencode([("csrf_token", "\x80é"), ("child_id", "1"),
                                                ("item", "2014-12-12|RESTAURATION|reserve")]))
    assert_french_400(response, "invalid_form", 403)
    assert lasting(storage) == before
