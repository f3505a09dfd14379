"""Stolen page cookies stop working soon after logout, password change
or reset, while a parent who keeps reading keeps access (docs/accounts.md).

The CloudFront signed cookies live 5 minutes at most; the family pages renew them through
`POST /api/session/renew` (`GET` without script) while the session lives. Through the
function (Chalice's test client) and the gate CloudFront's check is reproduced by
(portail.cloudfront_gate), at the portal's clock.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from chalicelib import sessions
from chalicelib import storage as st
from chalicelib.signed_cookies import PAGE_COOKIE_LIFETIME, RETURN_MARKER_COOKIE
from chalicelib.table import TTL_ATTRIBUTE

from portail.cloudfront_gate import verify_signed_cookies
from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import (
    ORIGIN,
    PASSWORD_A,
    error_of,
    get,
    post,
    session_cookie,
    set_cookies,
)

SITE = "http://127.0.0.1:8000"  # tests/commune.toml's site_url: the address the cookies name
RENEW = "/api/session/renew"
PAGE_COOKIES = ("CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id")


def page_cookies(response) -> dict[str, str]:
    """The CloudFront cookies an answer sets: {name: value}, as the browser keeps them."""
    values = {}
    for header in set_cookies(response):
        name, _, rest = header.partition("=")
        if name in PAGE_COOKIES and "Max-Age=0" not in header:
            values[name] = rest.split(";", 1)[0]
    return values


def opens(cookies: dict[str, str], page_key: str, now, signing_keys, path: str = "") -> bool:
    """Whether CloudFront (the gate) serves the family's page with these cookies at `now`."""
    return verify_signed_cookies(cookies, f"{SITE}/famille/{page_key}/{path}", now, signing_keys.public_keys())


def log_in(client, login="alice", password=PASSWORD_A):
    response = post(client, "/api/login", {"login": login, "password": password})
    assert response.status_code == 200, response.body
    return session_cookie(response), page_cookies(response)


def renew(client, cookie, **headers):
    return client.http.post(RENEW, headers={**ORIGIN, "Content-Type": "application/json",
                                            **({"Cookie": cookie} if cookie else {}), **headers}, body="{}")


def renew_without_script(client, cookie, *, back=None, referer=None, marker=None):
    cookies = "; ".join(c for c in (cookie, f"{RETURN_MARKER_COOKIE}={marker}" if marker else None) if c)
    headers = {**({"Cookie": cookies} if cookies else {}), **({"Referer": referer} if referer else {})}
    return client.http.get(RENEW + (f"?back={quote(back, safe='')}" if back is not None else ""), headers=headers)


def test_cookies_signed_at_login_stop_opening_pages_after_5_minutes(client, families, frozen_clock, signing_keys):
    key = families["A"]["page_key"]
    _, cookies = log_in(client)
    assert PAGE_COOKIE_LIFETIME == timedelta(minutes=5)
    assert opens(cookies, key, GUIDE_NOW + timedelta(minutes=4, seconds=59), signing_keys)
    assert not opens(cookies, key, GUIDE_NOW + timedelta(minutes=5), signing_keys)
    assert not opens(cookies, key, GUIDE_NOW + timedelta(minutes=6), signing_keys)


def test_the_renewal_gives_fresh_cookies_for_the_familys_pages_only(client, families, frozen_clock, signing_keys):
    key, other = families["A"]["page_key"], families["B"]["page_key"]
    cookie, _ = log_in(client)
    later = frozen_clock(GUIDE_NOW + timedelta(minutes=4))
    response = renew(client, cookie)
    assert (response.status_code, json.loads(response.body)) == (200, {"home": f"/famille/{key}/"})
    fresh = page_cookies(response)
    assert sorted(fresh) == sorted(PAGE_COOKIES)
    assert len([c for c in set_cookies(response) if c.startswith("CloudFront-Policy=")]) == 1
    assert opens(fresh, key, later + timedelta(minutes=4, seconds=59), signing_keys, "enfants/")
    assert not opens(fresh, key, later + timedelta(minutes=5), signing_keys)
    assert not opens(fresh, other, later, signing_keys)  # another family's pages: nothing
    # Like every call that changes something, only the portal's own pages may ask.
    refused = renew(client, cookie, **{"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and page_cookies(refused) == {}


def test_a_session_that_only_reads_keeps_access_by_renewing(client, families, frozen_clock, signing_keys):
    """Every 2 minutes (the pages' rhythm) for an hour, past the 30 minutes' idle timeout:
    each renewal is activity, and its cookies still open the pages at the next one."""
    key = families["A"]["page_key"]
    cookie, cookies = log_in(client)
    for minutes in range(2, 62, 2):
        now = frozen_clock(GUIDE_NOW + timedelta(minutes=minutes))
        assert opens(cookies, key, now, signing_keys), minutes
        response = renew(client, cookie)
        assert response.status_code == 200, minutes
        cookies = page_cookies(response)
    assert not opens(cookies, key, now + PAGE_COOKIE_LIFETIME, signing_keys)


def test_after_logout_nothing_renews_and_the_old_cookies_die_within_5_minutes(
        client, families, frozen_clock, signing_keys):
    key = families["A"]["page_key"]
    cookie, at_login = log_in(client)
    frozen_clock(GUIDE_NOW + timedelta(minutes=2))
    renewed = page_cookies(renew(client, cookie))
    logout = frozen_clock(GUIDE_NOW + timedelta(minutes=2, seconds=30))
    assert post(client, "/api/logout", cookie=cookie).status_code == 204
    # The cookies were saved before the logout: the session cookie renews nothing now.
    refused = renew(client, cookie)
    assert refused.status_code == 401 and page_cookies(refused) == {}
    assert error_of(refused) == {"code": "not_authenticated", "message":
                                 "Votre session a pris fin : connectez-vous pour retrouver votre espace famille."}
    back = renew_without_script(client, cookie, referer=f"{SITE}/famille/{key}/enfants/")
    assert (back.status_code, back.headers["Location"]) == (303, "/connexion/#session-expiree")
    assert page_cookies(back) == {}
    assert opens(renewed, key, logout, signing_keys)  # still, for a while
    for cookies in (at_login, renewed):
        assert not opens(cookies, key, logout + timedelta(minutes=5), signing_keys)


def test_after_a_password_change_the_other_sessions_renew_nothing(client, families, frozen_clock, signing_keys):
    key = families["A"]["page_key"]
    stolen, stolen_cookies = log_in(client)
    own, _ = log_in(client)
    change = frozen_clock(GUIDE_NOW + timedelta(minutes=1))
    stolen_cookies = page_cookies(renew(client, stolen))
    assert post(client, "/api/password/change", {"current_password": PASSWORD_A,
                                                 "new_password": "un tout nouveau mot de passe"},
                cookie=own).status_code == 204
    assert renew(client, stolen).status_code == 401
    assert renew_without_script(client, stolen).headers["Location"] == "/connexion/#session-expiree"
    assert not opens(stolen_cookies, key, change + PAGE_COOKIE_LIFETIME, signing_keys)
    # The parent who changed it keeps reading.
    frozen_clock(change + timedelta(minutes=4))
    kept = renew(client, own)
    assert kept.status_code == 200
    assert opens(page_cookies(kept), key, change + timedelta(minutes=8), signing_keys)


def test_after_a_reset_no_session_renews_anything(client, families, storage, frozen_clock, signing_keys):
    key = families["A"]["page_key"]
    first, _ = log_in(client)
    second, second_cookies = log_in(client)
    # The link « Mot de passe oublié ? » mails: its token, as password_reset.send_reset_link stores it.
    token = "jeton-de-reinitialisation-pour-le-test-0123456789"
    storage.put({"pk": st.reset_token_pk(sessions.token_hash(token)), "sk": st.RESET, "kind": "reset_token",
                 "login": "alice", "created_at": GUIDE_NOW,
                 TTL_ATTRIBUTE: int((GUIDE_NOW + timedelta(minutes=30)).timestamp())})
    reset = frozen_clock(GUIDE_NOW + timedelta(minutes=1))
    assert post(client, "/api/password/reset", {"token": token, "password": "encore un nouveau mot de passe"}
                ).status_code == 204
    for cookie in (first, second):
        assert renew(client, cookie).status_code == 401
    assert not opens(second_cookies, key, reset + PAGE_COOKIE_LIFETIME, signing_keys)


@pytest.mark.parametrize(("back", "referer", "expected"), [
    ("{A}enfants/1/2014-12/", None, "{A}enfants/1/2014-12/"),
    ("{A}", None, "{A}"),
    (None, "{site}{A}messages/0123abcd/", "{A}messages/0123abcd/"),
    (None, None, "{A}"),
    ("{B}", None, "{A}"),  # another family's pages
    (None, "{site}{B}factures/", "{A}"),
    ("https://evil.example/", None, "{A}"),
    ("//evil.example/{A}", None, "{A}"),
    ("/\\evil.example/", None, "{A}"),
    ("{A}../{B_key}/", None, "{A}"),
    ("{A}./factures/", None, "{A}"),
    ("{A}factures//", None, "{A}"),
    ("{A}\r\nSet-Cookie: pirate=1", None, "{A}"),
    ("{A}%0d%0aSet-Cookie:%20pirate=1", None, "{A}"),
    ("{A}factures/?x=1", None, "{A}"),
    ("{A}factures/#x", None, "{A}"),
    ("{A}" + "a" * 400, None, "{A}"),
    (None, "https://evil.example{A}factures/", "{A}"),  # the portal's pages only
    (None, "{site}{A}factures/?x=1", "{A}"),
    (None, "{site}{A}\r\nfactures/", "{A}"),
    ("", "{site}{A}releve/", "{A}releve/"),  # an empty back: the page it came from
])
def test_the_renewal_without_script_goes_back_to_the_familys_pages_only(
        client, families, frozen_clock, signing_keys, back, referer, expected):
    key, other = families["A"]["page_key"], families["B"]["page_key"]

    def fill(text):
        return None if text is None else text.format(A=f"/famille/{key}/", B=f"/famille/{other}/", B_key=other,
                                                     site=SITE)

    cookie, _ = log_in(client)
    now = frozen_clock(GUIDE_NOW + timedelta(minutes=4, seconds=30))
    response = renew_without_script(client, cookie, back=fill(back), referer=fill(referer))
    assert response.status_code == 303
    assert response.headers["Location"] == fill(expected)
    assert response.headers["Cache-Control"] == "no-store"
    cookies = page_cookies(response)
    assert opens(cookies, key, now + timedelta(minutes=4, seconds=59), signing_keys)
    assert not opens(cookies, other, now, signing_keys)
    assert all("\r" not in c and "\n" not in c and "pirate" not in c for c in set_cookies(response))


def test_the_renewal_without_script_goes_round_once_at_most(client, families, frozen_clock):
    """A page that still answers 403 right after a renewal (CloudFront answers 403 for a
    missing page too) sends the browser home, then to the login page: no endless round."""
    home = f"/famille/{families['A']['page_key']}/"
    cookie, _ = log_in(client)
    first = renew_without_script(client, cookie, back=home + "enfants/9/")
    assert first.headers["Location"] == home + "enfants/9/"
    marker = next(c for c in set_cookies(first) if c.startswith(RETURN_MARKER_COOKIE + "="))
    assert marker == (f"{RETURN_MARKER_COOKIE}={home}enfants/9/; Path=/api/session/renew; Max-Age=30; "
                      "Secure; HttpOnly; SameSite=Lax")
    again = renew_without_script(client, cookie, back=home + "enfants/9/", marker=home + "enfants/9/")
    assert again.headers["Location"] == home and page_cookies(again)
    last = renew_without_script(client, cookie, back=home, marker=home)
    assert last.headers["Location"] == "/connexion/#acces-impossible"
    assert any(c.startswith(RETURN_MARKER_COOKIE + "=;") and "Max-Age=0" in c for c in set_cookies(last))
    # A marker names a page: anything else in it changes nothing.
    other = renew_without_script(client, cookie, back=home + "factures/", marker="/connexion/")
    assert other.headers["Location"] == home + "factures/"


def test_activity_re_signs_short_cookies(client, families, frozen_clock, signing_keys):
    """Any call that moves the session on (once a minute) re-signs the page cookies, for
    5 minutes too: a write never hands out longer-lived cookies."""
    key = families["A"]["page_key"]
    cookie, _ = log_in(client)
    now = frozen_clock(GUIDE_NOW + timedelta(minutes=3))
    response = get(client, "/api/me", cookie)
    assert response.status_code == 200 and json.loads(response.body)["family_number"] == "100"
    cookies = page_cookies(response)
    assert opens(cookies, key, now + timedelta(minutes=4, seconds=59), signing_keys)
    assert not opens(cookies, key, now + PAGE_COOKIE_LIFETIME, signing_keys)


def espace_hint(response) -> str | None:
    """The « Mon espace » hint an answer sets: its header, or None when it sets none."""
    return next((c for c in set_cookies(response) if c.startswith(sessions.ESPACE_HINT_COOKIE + "=")), None)


def test_the_public_pages_hint_follows_the_session_and_goes_at_logout(client, families, frozen_clock):
    """Login sets a readable hint naming the family's home, for the public pages' script;
    it ends with the session, moves on with it, and logout or an ended session clear it
    (docs/accounts.md). The login page's link without script leads home, each click."""
    key = families["A"]["page_key"]
    login = post(client, "/api/login", {"login": "alice", "password": PASSWORD_A})
    hint = espace_hint(login)
    assert hint == f"__Host-portail-espace=/famille/{key}/; Path=/; Max-Age=1800; Secure; SameSite=Lax"
    assert "HttpOnly" not in hint  # the script reads it; the session cookie stays HttpOnly
    assert "HttpOnly" in next(c for c in set_cookies(login) if c.startswith(sessions.COOKIE_NAME))
    cookie = session_cookie(login)
    frozen_clock(GUIDE_NOW + timedelta(minutes=10))
    assert "Max-Age=1800;" in espace_hint(renew(client, cookie))  # the session's idle end moved on
    for _ in range(2):  # twice in a row: a click is no refresh going round
        home = client.http.get(RENEW + "?depuis=connexion", headers={"Cookie": cookie})
        assert (home.status_code, home.headers["Location"]) == (303, f"/famille/{key}/")
        assert espace_hint(home) is not None
    logout = post(client, "/api/logout", cookie=cookie)
    assert espace_hint(logout) == "__Host-portail-espace=; Path=/; Max-Age=0; Secure; SameSite=Lax"
    # The hint of a session ended elsewhere goes as soon as a page finds it so.
    assert "Max-Age=0" in espace_hint(renew(client, cookie))
    ended = client.http.get(RENEW + "?depuis=connexion", headers={"Cookie": cookie})
    assert ended.headers["Location"] == "/connexion/#session-expiree" and "Max-Age=0" in espace_hint(ended)
