"""Accounts through the function (docs/http-api.md): every rule of the accounts issue, with an
injected clock. The race on a reset token is in test_accounts_race.py (embedded AWS)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, timedelta

import pytest
from chalicelib import sessions
from chalicelib import storage as st

from tests.conftest import GUIDE_NOW, all_items

PASSWORD_A = "une phrase de passe tres longue"
PASSWORD_B = "un autre secret pour la famille B"
ORIGIN = {"Origin": "http://127.0.0.1:8000"}


def post(client, path, data=None, *, cookie=None, form=False, headers=None):
    all_headers = {**ORIGIN, **(headers or {})}
    if cookie:
        all_headers["Cookie"] = cookie
    if form:
        from urllib.parse import urlencode

        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        payload = urlencode(data or {})
    else:
        all_headers["Content-Type"] = "application/json"
        payload = json.dumps(data or {})
    return client.http.post(path, headers=all_headers, body=payload)


def get(client, path, cookie=None):
    return client.http.get(path, headers={"Cookie": cookie} if cookie else {})


def set_cookies(response) -> list[str]:
    value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
    return value if isinstance(value, list) else [value]


def cookie_named(response, name: str) -> str:
    for header in set_cookies(response):
        if header.startswith(name + "=") and "Max-Age=0" not in header:
            return header.split(";")[0]
    raise AssertionError(f"no {name} cookie in {set_cookies(response)}")


def session_cookie(response) -> str:
    """The Cookie header a browser sends to the API after this login: the session and
    its CSRF cookie."""
    return f"{cookie_named(response, sessions.COOKIE_NAME)}; {cookie_named(response, sessions.CSRF_COOKIE_NAME)}"


def error_of(response):
    return json.loads(response.body)["error"]


@pytest.fixture
def login(client):
    def log_in(login="alice", password=PASSWORD_A, **options):
        return post(client, "/api/login", {"login": login, "password": password}, **options)

    return log_in


# --- login ---------------------------------------------------------------------------

def test_login_answers_home_and_sets_the_cookies(client, families, login):
    response = login()
    assert response.status_code == 200
    assert json.loads(response.body) == {"home": f"/famille/{families['A']['page_key']}/"}
    cookies = set_cookies(response)
    session = next(c for c in cookies if c.startswith("__Host-session="))
    assert session.endswith("; Path=/; Secure; HttpOnly; SameSite=Lax")
    assert len(session.split(";")[0].split("=", 1)[1]) >= 43  # 256 bits, url-safe base64
    names = sorted(c.split("=", 1)[0] for c in cookies)
    assert names == ["CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature", "__Host-csrf",
                     "__Host-portail-espace", "__Host-session"]
    csrf = next(c for c in cookies if c.startswith("__Host-csrf="))
    assert csrf.endswith("; Path=/; Secure; HttpOnly; SameSite=Strict")
    for cookie in cookies:
        if cookie.startswith("CloudFront-"):
            assert f"Path=/famille/{families['A']['page_key']}/" in cookie
            assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Cache-Control"] == "no-store"


def test_the_form_login_answers_303_to_the_dashboard(client, families, login):
    response = login(form=True)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/famille/{families['A']['page_key']}/"
    assert session_cookie(response)


def test_a_new_token_at_every_login(client, families, login):
    assert session_cookie(login()) != session_cookie(login())


def test_unknown_login_and_wrong_password_are_indistinguishable(client, families, login, monkeypatch):
    from argon2 import PasswordHasher

    hashes = []
    real = PasswordHasher.verify

    def counted(self, *args, **kwargs):
        hashes.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    unknown = login("personne", PASSWORD_A)
    unknown_hashes, hashes[:] = len(hashes), []
    wrong = login("alice", "pas le bon mot de passe")
    assert (unknown.status_code, unknown.body) == (wrong.status_code, wrong.body)
    assert unknown.status_code == 401
    assert error_of(unknown) == {"code": "invalid_credentials", "message": "Identifiant ou mot de passe incorrect."}
    assert unknown_hashes == len(hashes) == 1
    assert set_cookies(unknown) == set_cookies(wrong) == []


def test_the_form_login_failure_goes_back_to_the_login_page(client, families, login):
    response = login("alice", "faux", form=True)
    assert (response.status_code, response.headers["Location"]) == (303, "/connexion/#erreur-invalid-credentials")


def test_demo_passwords_work_only_in_demo_mode(client, families, login, monkeypatch, storage):
    storage.update_attributes(st.login_pk("alice"), st.LOGIN, {"demo_only": True})
    assert login().status_code == 401
    monkeypatch.setenv("PORTAIL_DEMO", "1")
    from app import reset_dependencies

    reset_dependencies()
    assert login().status_code == 200


# --- throttling --------------------------------------------------------------------------

def test_lockout_schedule_step_by_step(client, families, login, frozen_clock):
    for attempt in range(1, 5):
        assert login(password="faux").status_code == 401, attempt
    assert login(password="faux").status_code == 401  # the 5th failure starts the delay
    locked = login()  # even the right password waits
    assert locked.status_code == 429
    assert error_of(locked)["code"] == "too_many_attempts"
    assert locked.headers["Retry-After"] == "120"
    frozen_clock(GUIDE_NOW + timedelta(seconds=119))
    assert login().status_code == 429
    frozen_clock(GUIDE_NOW + timedelta(seconds=120))
    assert login(password="faux").status_code == 401  # 6th consecutive failure: 4 minutes
    assert login().headers["Retry-After"] == "240"
    frozen_clock(GUIDE_NOW + timedelta(seconds=360))
    assert login().status_code == 200  # success resets the count
    assert login(password="faux").status_code == 401
    assert login().status_code == 200


def test_a_forgotten_password_request_never_locks_anyone_out(client, families, login):
    answers = [post(client, "/api/password/forgot", {"login": "alice"}).status_code for _ in range(10)]
    assert answers == [202] * 3 + [429] * 7  # 3 an hour per login
    assert login().status_code == 200


def test_another_account_is_not_locked_by_failures_on_the_first(client, families, login):
    for _ in range(6):
        login(password="faux")
    assert login().status_code == 429
    assert login("bob", PASSWORD_B).status_code == 200


# --- sessions ------------------------------------------------------------------------------

def test_me_needs_a_session_and_shows_only_its_family(client, families, login):
    assert get(client, "/api/me").status_code == 401
    cookie = session_cookie(login())
    me = json.loads(get(client, "/api/me", cookie).body)
    assert me["family_number"] == "100"
    assert me["responsable"]["last_name"] == "ALPHA"
    assert [c["first_name"] for c in me["children"]] == ["ANNA"]
    # Its own pages' folder, never the other family's (page keys are random: compare keys).
    assert me["home"] == f"/famille/{families['A']['page_key']}/"
    assert "BRUNO" not in json.dumps(me) and families["B"]["page_key"] not in json.dumps(me)
    assert me["unread_messages"] == 0


def test_idle_timeout_is_30_minutes(client, families, login, frozen_clock):
    cookie = session_cookie(login())
    frozen_clock(GUIDE_NOW + timedelta(minutes=29, seconds=59))
    assert get(client, "/api/me", cookie).status_code == 200  # activity moves the idle end
    frozen_clock(GUIDE_NOW + timedelta(minutes=59, seconds=58))
    assert get(client, "/api/me", cookie).status_code == 200
    frozen_clock(GUIDE_NOW + timedelta(minutes=89, seconds=58))
    assert get(client, "/api/me", cookie).status_code == 401


def test_absolute_timeout_is_12_hours(client, families, login, frozen_clock):
    cookie = session_cookie(login())
    for minutes in range(20, 12 * 60, 20):
        frozen_clock(GUIDE_NOW + timedelta(minutes=minutes))
        assert get(client, "/api/me", cookie).status_code == 200, minutes
    frozen_clock(GUIDE_NOW + timedelta(hours=12))
    assert get(client, "/api/me", cookie).status_code == 401


def test_activity_renews_the_page_cookies(client, families, login, frozen_clock):
    cookie = session_cookie(login())
    frozen_clock(GUIDE_NOW + timedelta(minutes=5))
    response = get(client, "/api/me", cookie)
    assert sorted(c.split("=")[0] for c in set_cookies(response)) == [
        "CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature", "__Host-portail-espace"]


def test_logout_revokes_the_session_and_clears_the_cookies(client, families, login):
    cookie = session_cookie(login())
    response = post(client, "/api/logout", cookie=cookie)
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert all("Max-Age=0" in c for c in cleared) and len(cleared) == 6
    assert sorted(c.split("=", 1)[0] for c in cleared) == [
        "CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature", "__Host-csrf",
        "__Host-portail-espace", "__Host-session"]
    assert get(client, "/api/me", cookie).status_code == 401  # the replayed cookie is dead


def test_logout_form_needs_the_familys_token(client, families, login):
    cookie = session_cookie(login())
    refused = post(client, "/api/logout", {"csrf_token": "faux"}, cookie=cookie, form=True)
    assert refused.status_code == 403
    token = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    response = post(client, "/api/logout", {"csrf_token": token}, cookie=cookie, form=True)
    assert (response.status_code, response.headers["Location"]) == (303, "/connexion/#deconnexion")
    assert get(client, "/api/me", cookie).status_code == 401


# --- CSRF -----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
    {"Origin": ""},
])
def test_a_cross_site_post_is_refused(client, families, login, headers):
    cookie = session_cookie(login())
    response = client.http.post("/api/account", headers={
        "Content-Type": "application/json", "Cookie": cookie,
        **({"Origin": headers["Origin"]} if "Origin" in headers else {}),
        **({"Sec-Fetch-Site": headers["Sec-Fetch-Site"], "Origin": "http://127.0.0.1:8000"}
           if "Sec-Fetch-Site" in headers else {}),
    }, body=json.dumps({"email": "pirate@evil.example", "phone": ""}))
    assert response.status_code == 403
    assert error_of(response)["code"] == "cross_site_request"
    assert json.loads(get(client, "/api/me", cookie).body)["responsable"]["email"] == "alice@example.org"


def test_json_calls_need_the_json_content_type(client, families, login):
    response = client.http.post("/api/login", headers={**ORIGIN, "Content-Type": "text/plain"},
                                body=json.dumps({"login": "alice", "password": PASSWORD_A}))
    assert response.status_code == 415


# --- the account -----------------------------------------------------------------------------

def test_contact_details_are_validated_and_mass_assignment_ignored(client, families, login, storage):
    cookie = session_cookie(login())
    bad = post(client, "/api/account", {"email": "pas-une-adresse", "phone": ""}, cookie=cookie)
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_contact"
    assert error_of(bad)["message"] == "Adresse électronique « pas-une-adresse » invalide."
    ok = post(client, "/api/account", {"email": "Alice@Example.org", "phone": "0612345678",
                                       "family_id": "200", "family_number": "200", "status": "validated",
                                       "rank": 2, "last_name": "PIRATE"}, cookie=cookie)
    assert ok.status_code == 200
    assert json.loads(ok.body) == {"email": "alice@example.org", "phone": "06 12 34 56 78"}
    a = storage.family_state("100").responsables[0]
    assert (a["last_name"], a["email"]) == ("ALPHA", "alice@example.org")
    # The account page was re-rendered before the answer.
    import boto3

    page = boto3.client("s3").get_object(Bucket="portail-famille-pages",
                                         Key=f"famille/{families['A']['page_key']}/compte/index.html")
    html = page["Body"].read().decode()
    assert 'value="alice@example.org"' in html and 'value="06 12 34 56 78"' in html
    assert storage.family_state("200").responsables[0]["email"] == "bob@example.org"


def test_password_change_revokes_every_other_session(client, families, login, mails):
    first = session_cookie(login())
    second = session_cookie(login())
    wrong = post(client, "/api/password/change", {"current_password": "faux", "new_password": "une toute autre phrase"},
                 cookie=second)
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "invalid_credentials"
    weak = post(client, "/api/password/change", {"current_password": PASSWORD_A, "new_password": "court"}, cookie=second)
    assert weak.status_code == 400 and error_of(weak)["code"] == "weak_password"
    new = "un tout nouveau mot de passe"
    assert post(client, "/api/password/change", {"current_password": PASSWORD_A, "new_password": new},
                cookie=second).status_code == 204
    assert get(client, "/api/me", second).status_code == 200
    assert get(client, "/api/me", first).status_code == 401
    assert login().status_code == 401
    assert login(password=new).status_code == 200
    assert mails()[-1]["Subject"] == "Portail Famille : votre mot de passe a été changé"


# --- password reset ----------------------------------------------------------------------------

def reset_token_from(mail) -> str:
    link = next(line for line in mail["Body"].splitlines() if "/mot-de-passe/nouveau/#" in line)
    return link.split("#", 1)[1].strip()


def test_forgot_answers_202_whatever_the_login(client, families, mails):
    for login_name in ("alice", "personne"):
        response = post(client, "/api/password/forgot", {"login": login_name})
        assert response.status_code == 202
        assert json.loads(response.body)["message"].startswith("Si cet identifiant existe")
    assert len(mails()) == 1 and mails()[0]["To"] == "alice@example.org"


def test_the_reset_link_ignores_a_poisoned_host(client, families, mails):
    post(client, "/api/password/forgot", {"login": "alice"}, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    body = mails()[-1]["Body"]
    assert "http://127.0.0.1:8000/mot-de-passe/nouveau/#" in body and "evil" not in body


def test_reset_sets_the_password_once_revokes_sessions_and_logs_nobody_in(client, families, login, mails):
    cookie = session_cookie(login())
    post(client, "/api/password/forgot", {"login": "alice"})
    token = reset_token_from(mails()[-1])
    weak = post(client, "/api/password/reset", {"token": token, "password": "alice"})
    assert weak.status_code == 400 and error_of(weak)["code"] == "weak_password"
    new = "encore un nouveau mot de passe"
    response = post(client, "/api/password/reset", {"token": token, "password": new})
    assert response.status_code == 204
    assert set_cookies(response) == []  # not logged in
    assert get(client, "/api/me", cookie).status_code == 401
    again = post(client, "/api/password/reset", {"token": token, "password": "et encore un autre secret"})
    assert again.status_code == 400 and error_of(again)["code"] == "invalid_token"
    assert login(password=new).status_code == 200
    assert mails()[-1]["Subject"] == "Portail Famille : votre mot de passe a été changé"


def test_reset_and_change_refuse_a_password_built_on_the_familys_names(client, families, login, mails):
    from chalicelib.passwords import LIKE_LOGIN

    post(client, "/api/password/forgot", {"login": "alice"})
    token = reset_token_from(mails()[-1])
    for password in ("Anna-Alpha-2014", "alice!alice!2024", "anne alpha 1980!"):
        refused = post(client, "/api/password/reset", {"token": token, "password": password})
        assert refused.status_code == 400 and error_of(refused) == {"code": "weak_password", "message": LIKE_LOGIN}
    cookie = session_cookie(login())
    refused = post(client, "/api/password/change", {"current_password": PASSWORD_A, "new_password": "anna.alpha.2010"},
                   cookie=cookie)
    assert refused.status_code == 400 and error_of(refused) == {"code": "weak_password", "message": LIKE_LOGIN}
    assert post(client, "/api/password/reset", {"token": token, "password": "Anna aime la cantine du jeudi"}
                ).status_code == 204


def test_a_reset_token_one_second_after_expiry_is_refused(client, families, mails, frozen_clock):
    post(client, "/api/password/forgot", {"login": "alice"})
    token = reset_token_from(mails()[-1])
    frozen_clock(GUIDE_NOW + timedelta(minutes=30, seconds=1))
    response = post(client, "/api/password/reset", {"token": token, "password": "une phrase de passe neuve"})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_token"
    frozen_clock(GUIDE_NOW + timedelta(minutes=29, seconds=59))
    assert post(client, "/api/password/reset", {"token": token, "password": "une phrase de passe neuve"}).status_code == 204


def test_a_reset_unlocks_a_locked_account(client, families, login, mails):
    for _ in range(6):
        login(password="faux")
    assert login().status_code == 429
    post(client, "/api/password/forgot", {"login": "alice"})
    new = "la phrase de passe d'apres"
    assert post(client, "/api/password/reset", {"token": reset_token_from(mails()[-1]), "password": new}).status_code == 204
    assert login(password=new).status_code == 200


# --- audit and secrets ------------------------------------------------------------------------

def test_audit_records_logins_resets_and_changes_without_secrets(client, families, login, storage, mails, caplog,
                                                                frozen_clock):
    # INFO, as in production: botocore's DEBUG would print the mail it sends (the link).
    caplog.set_level(logging.INFO)
    login(password="faux")
    cookie = session_cookie(login())
    post(client, "/api/password/forgot", {"login": "alice"})
    token = reset_token_from(mails()[-1])
    new = "la toute derniere phrase secrete"
    post(client, "/api/password/reset", {"token": token, "password": new})
    cookie = session_cookie(login(password=new))
    newest = "et puis une autre phrase secrete"
    post(client, "/api/password/change", {"current_password": new, "new_password": newest}, cookie=cookie)
    entries = storage.audit_entries(GUIDE_NOW.date())
    # The frozen clock gives every entry the same instant: compare as a multiset.
    assert sorted(e["action"] for e in entries) == sorted([
        "login_failed", "login", "password_reset_requested", "password_reset", "login", "password_changed"])
    assert all(e["actor"] == "alice" and e["details"]["source"] for e in entries)
    # No password, token or cookie anywhere: not in the table, not in the logs.
    everything = json.dumps(all_items(storage), default=str) + caplog.text
    for secret in (PASSWORD_A, new, newest, token, cookie.split("=", 1)[1]):
        assert secret not in everything


def test_one_source_address_is_limited_across_accounts(client, families, login, monkeypatch):
    monkeypatch.setenv("PORTAIL_ORIGIN_SECRET", "de-cloudfront")
    here = {"CloudFront-Viewer-Address": "203.0.113.7:50000", "X-Portail-Origin": "de-cloudfront"}
    for n in range(50):
        assert login(f"inconnu{n:02d}", "faux", headers=here).status_code == 401
    refused = login(headers=here)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # Another address is not concerned.
    assert login(headers={**here, "CloudFront-Viewer-Address": "198.51.100.9:40000"}).status_code == 200
    # Without CloudFront's secret, the header is ignored: the request's own address counts.
    forged = login(headers={"CloudFront-Viewer-Address": "203.0.113.7:50000"})
    assert forged.status_code == 200


def test_failures_that_left_the_window_are_pruned_and_no_longer_count(client, families, login, storage, frozen_clock):
    for n in range(3):
        assert login(f"inconnu{n}", "faux").status_code == 401
    [source] = [i for i in all_items(storage) if i["pk"].startswith("SOURCE#")]
    assert len(source["recent"]) == 3
    frozen_clock(GUIDE_NOW + timedelta(minutes=61))
    assert login("inconnu9", "faux").status_code == 401
    source = storage.get(source["pk"], source["sk"])
    assert [m.split("#")[0] for m in source["recent"]] == [(GUIDE_NOW + timedelta(minutes=61)).astimezone(
        UTC).isoformat()]


def test_every_api_answer_has_the_security_headers_and_no_store(client, families, login):
    from chalicelib.http_headers import current_security_headers

    for response in (login(), login(password="faux"), get(client, "/api/me"),
                     post(client, "/api/password/forgot", {"login": "x"}, headers={"Origin": "https://evil.example"})):
        for name, value in current_security_headers().items():
            assert response.headers[name] == value
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_an_ipv6_source_counts_by_its_64(client, families, login, monkeypatch):
    monkeypatch.setenv("PORTAIL_ORIGIN_SECRET", "de-cloudfront")
    for n in range(50):  # one home network handing out a new address each time
        viewer = {"CloudFront-Viewer-Address": f"[2001:db8:1:2::{n + 1:x}]:443", "X-Portail-Origin": "de-cloudfront"}
        assert login(f"inconnu{n:02d}", "faux", headers=viewer).status_code == 401
    same_network = {"CloudFront-Viewer-Address": "[2001:db8:1:2:ffff::9]:443", "X-Portail-Origin": "de-cloudfront"}
    assert login(headers=same_network).status_code == 429
    other_network = {"CloudFront-Viewer-Address": "[2001:db8:1:3::9]:443", "X-Portail-Origin": "de-cloudfront"}
    assert login(headers=other_network).status_code == 200


def test_a_hash_made_with_weaker_parameters_is_renewed_at_login(client, families, login, storage):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD_A)
    storage.update_attributes(st.login_pk("alice"), st.LOGIN, {"password_hash": weak})
    assert login().status_code == 200
    renewed = storage.login("alice")["password_hash"]
    assert renewed.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and renewed != weak
    assert login().status_code == 200


# --- changing the e-mail needs the current password ---------------------

def test_a_new_email_needs_the_current_password_and_the_previous_address_is_told(client, families, login, storage,
                                                                                 mails):
    cookie = session_cookie(login())
    new = {"email": "pirate@evil.example", "phone": ""}
    missing = post(client, "/api/account", new, cookie=cookie)
    assert missing.status_code == 400
    assert error_of(missing) == {"code": "current_password_required",
                                 "message": "Saisissez votre mot de passe actuel pour changer d'adresse électronique."}
    wrong = post(client, "/api/account", {**new, "current_password": "pas le bon"}, cookie=cookie)
    assert wrong.status_code == 400
    assert error_of(wrong) == {"code": "invalid_credentials", "message": "Le mot de passe actuel est incorrect."}
    assert storage.family_state("100").responsables[0]["email"] == "alice@example.org"
    assert mails() == []

    ok = post(client, "/api/account", {"email": "alice.nouvelle@example.org", "phone": "",
                                       "current_password": PASSWORD_A}, cookie=cookie)
    assert ok.status_code == 200
    assert storage.family_state("100").responsables[0]["email"] == "alice.nouvelle@example.org"
    [told] = mails()
    assert told["To"] == "alice@example.org"
    assert told["Subject"] == "Portail Famille : votre adresse électronique a été changée"
    assert "Si vous n'êtes pas à l'origine de ce changement, contactez sans attendre le service Enfance" in told["Body"]
    assert "enfance@cregylesmeaux.fr" in told["Body"] and "01 60 44 00 00" in told["Body"]
    assert "alice.nouvelle" not in told["Body"]
    # A reset link now goes to the new address only.
    post(client, "/api/password/forgot", {"login": "alice"})
    assert mails()[-1]["To"] == "alice.nouvelle@example.org"


def test_a_phone_change_alone_needs_no_password(client, families, login, storage, mails):
    cookie = session_cookie(login())
    ok = post(client, "/api/account", {"email": "alice@example.org", "phone": "0612345678"}, cookie=cookie)
    assert ok.status_code == 200
    assert storage.family_state("100").responsables[0]["phone"] == "06 12 34 56 78"
    assert mails() == []


def test_the_account_form_asks_for_the_current_password(client, families, login, storage):
    cookie = session_cookie(login())
    token = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    home = f"/famille/{families['A']['page_key']}/"
    response = post(client, "/api/account", {"csrf_token": token, "email": "autre@example.org", "phone": ""},
                    cookie=cookie, form=True)
    assert (response.status_code, response.headers["Location"]) == (
        303, home + "compte/#erreur-current-password-required")
    response = post(client, "/api/account", {"csrf_token": token, "email": "autre@example.org", "phone": "",
                                             "current_password": PASSWORD_A}, cookie=cookie, form=True)
    assert (response.status_code, response.headers["Location"]) == (303, home + "compte/#coordonnees-enregistrees")
    import boto3

    html = boto3.client("s3").get_object(Bucket="portail-famille-pages", Key=f"famille/{families['A']['page_key']}"
                                         "/compte/index.html")["Body"].read().decode()
    contact_form = html.split('action="/api/account"', 1)[1].split("</form>", 1)[0]
    assert 'name="current_password" type="password" autocomplete="current-password"' in contact_form
    for code in ("current-password-required", "invalid-credentials", "too-many-attempts"):
        assert f'id="erreur-{code}"' in html, code


@pytest.mark.parametrize("path, fields", [
    ("/api/account", {"email": "pirate@evil.example", "phone": ""}),
    ("/api/password/change", {"new_password": "une toute nouvelle phrase"}),
])
def test_wrong_current_passwords_count_as_login_failures(client, families, login, path, fields):
    cookie = session_cookie(login())
    for attempt in range(5):
        wrong = post(client, path, {**fields, "current_password": f"faux {attempt}"}, cookie=cookie)
        assert error_of(wrong)["code"] == "invalid_credentials", attempt
    # The 5th wrong password locked the login: the right one waits, here and at login.
    locked = post(client, path, {**fields, "current_password": PASSWORD_A}, cookie=cookie)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "120"
    assert error_of(locked)["code"] == "too_many_attempts"
    assert login().status_code == 429


# --- « Mot de passe oublié » reveals nothing ---------------------------

def test_forgot_answers_the_same_for_a_known_and_an_unknown_login(client, families, mails):
    known = post(client, "/api/password/forgot", {"login": "alice"})
    unknown = post(client, "/api/password/forgot", {"login": "personne"})
    assert (known.status_code, known.body, dict(known.headers)) == (
        unknown.status_code, unknown.body, dict(unknown.headers))
    assert known.status_code == 202
    for attempt in range(3):  # 3 an hour per login, whether it exists or not
        known = post(client, "/api/password/forgot", {"login": "alice"})
        unknown = post(client, "/api/password/forgot", {"login": "personne"})
        assert (known.status_code, known.body, dict(known.headers)) == (
            unknown.status_code, unknown.body, dict(unknown.headers)), attempt
    assert known.status_code == 429 and int(known.headers["Retry-After"]) > 0
    assert error_of(known)["code"] == "too_many_requests"
    assert [m["To"] for m in mails()] == ["alice@example.org"] * 3


def test_the_reset_mail_leaves_outside_the_request(client, families, mails, monkeypatch):
    import threading

    from chalicelib.mail import Mailer

    release, sent = threading.Event(), []
    real = Mailer.send

    def held(self, *args):
        release.wait(10)
        sent.append(args)
        real(self, *args)

    monkeypatch.setattr(Mailer, "send", held)
    response = post(client, "/api/password/forgot", {"login": "alice"})
    assert response.status_code == 202
    assert sent == []  # answered while the mail still waits
    release.set()
    assert [m["To"] for m in mails()] == ["alice@example.org"]


def test_forgot_is_limited_per_source_whatever_the_logins(client, families, mails, monkeypatch, frozen_clock):
    # One instant for both answers: their Retry-After must be equal to the second.
    monkeypatch.setenv("PORTAIL_ORIGIN_SECRET", "de-cloudfront")
    here = {"CloudFront-Viewer-Address": "203.0.113.7:50000", "X-Portail-Origin": "de-cloudfront"}
    for n in range(20):
        assert post(client, "/api/password/forgot", {"login": f"inconnu{n:02d}"}, headers=here).status_code == 202
    known = post(client, "/api/password/forgot", {"login": "alice"}, headers=here)
    unknown = post(client, "/api/password/forgot", {"login": "personne"}, headers=here)
    assert known.status_code == 429 and int(known.headers["Retry-After"]) > 0
    assert (known.status_code, known.body, dict(known.headers)) == (
        unknown.status_code, unknown.body, dict(unknown.headers))
    assert mails() == []
    other = {**here, "CloudFront-Viewer-Address": "198.51.100.9:40000"}
    assert post(client, "/api/password/forgot", {"login": "alice"}, headers=other).status_code == 202
    assert len(mails()) == 1


def test_a_limited_forgot_form_goes_back_to_its_page(client, families):
    for _ in range(3):
        post(client, "/api/password/forgot", {"login": "alice"}, form=True)
    response = post(client, "/api/password/forgot", {"login": "alice"}, form=True)
    assert (response.status_code, response.headers["Location"]) == (
        303, "/mot-de-passe/oublie/#erreur-too-many-requests")


# --- the form token is bound to the session ------------------------------

def test_every_session_gets_its_own_csrf_cookie(client, families, login):
    first, second = login(), login()
    assert cookie_named(first, "__Host-csrf") != cookie_named(second, "__Host-csrf")


def test_a_post_with_an_ended_sessions_csrf_cookie_is_refused(client, families, login, storage):
    token = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    first = login()
    old_csrf = cookie_named(first, "__Host-csrf")
    assert post(client, "/api/logout", {"csrf_token": token}, cookie=session_cookie(first), form=True).status_code == 303
    second = login()
    new_session = cookie_named(second, "__Host-session")
    change = {"csrf_token": token, "email": "alice@example.org", "phone": "0611223344"}
    for cookie in (f"{new_session}; {old_csrf}", new_session):
        refused = post(client, "/api/account", change, cookie=cookie, form=True)
        assert refused.status_code == 403
        assert error_of(refused) == {"code": "invalid_form", "message": "Ce formulaire ne correspond pas à votre "
                                                                        "connexion : rechargez la page et recommencez."}
        refused = post(client, "/api/account", {k: v for k, v in change.items() if k != "csrf_token"}, cookie=cookie)
        assert refused.status_code == 403  # a JSON call too
    assert storage.family_state("100").responsables[0].get("phone", "") == ""
    ok = post(client, "/api/account", change, cookie=session_cookie(second), form=True)
    assert ok.status_code == 303 and storage.family_state("100").responsables[0]["phone"] == "06 11 22 33 44"


# --- the audit keeps no typed secret -------------------------------------

def test_a_password_typed_in_the_login_field_is_stored_nowhere(client, families, login, storage, frozen_clock):
    typed = "Ma Phrase Secrete Tapee Trop Tot"
    assert login(typed, "peu importe").status_code == 401
    assert post(client, "/api/password/forgot", {"login": typed}).status_code == 202
    everything = json.dumps(all_items(storage), default=str).lower()
    assert typed.lower() not in everything
    actors = {e["actor"] for e in storage.audit_entries(GUIDE_NOW.date())}
    assert len(actors) == 1 and actors.pop().startswith("inconnu:")
    # A known login is audited by its login.
    login(password="faux")
    assert "alice" in {e["actor"] for e in storage.audit_entries(GUIDE_NOW.date())}
