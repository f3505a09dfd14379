"""The staff login (docs/staff.md): three parts, one refusal, a code accepted once on the
real clock; staff sessions and their ends; the family and staff sessions kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from chalicelib import table
from chalicelib.staff import sessions
from chalicelib.staff.accounts import StaffAccounts, StaffError
from chalicelib.storage import Storage

from tests.conftest import GUIDE_NOW, race
from tests.staff_client import (
    STAFF_PASSWORD,
    create_account,
    form_post,
    log_in,
    staff_cookie,
    totp_code,
)
from tests.test_accounts_api import PASSWORD_A, post, session_cookie

REFUSAL = "Identifiant, mot de passe ou code incorrect."


def body(response) -> str:
    return response.body.decode()


def test_a_good_login_opens_the_day_page_with_the_roles_menu(client):
    login, secret = create_account("agent")
    response = log_in(client, login, secret)
    assert response.status_code == 303 and response.headers["Location"] == "/gestion/"
    cookie_header = response.headers["Set-Cookie"]
    assert cookie_header.startswith("__Host-gestion=")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Strict"} <= {p.strip() for p in cookie_header.split(";")}
    page = client.http.get("/gestion/", headers={"Cookie": staff_cookie(response)})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f"Bonjour {login}" in body(page)
    assert 'href="/gestion/demandes/"' in body(page) and 'href="/gestion/agents/"' not in body(page)
    assert 'action="/gestion/deconnexion"' in body(page)


def test_the_login_form_asks_for_the_one_time_code(client):
    page = body(client.http.get("/gestion/connexion/"))
    assert 'name="login"' in page and 'name="password"' in page
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert '<label for="code">' in page


def test_a_login_goes_back_to_the_page_asked_for_but_never_elsewhere(client):
    login, secret = create_account("agent")
    assert log_in(client, login, secret, suite="/gestion/effectifs/?date=2014-12-01").headers["Location"] == \
        "/gestion/effectifs/?date=2014-12-01"
    login, secret = create_account("agent")
    assert log_in(client, login, secret, suite="//evil.example/gestion/").headers["Location"] == "/gestion/"


@pytest.mark.parametrize("wrong", ["login", "password", "code", "used_code", "disabled"])
def test_every_wrong_part_gets_the_same_refusal(client, wrong):
    from chalicelib.dependencies import staff_accounts

    login, secret = create_account("agent")
    fields = {"login": login, "password": STAFF_PASSWORD, "code": totp_code(secret)}
    if wrong == "login":
        fields["login"] = "personne"
    elif wrong == "password":
        fields["password"] = "une autre phrase de passe"
    elif wrong == "code":
        fields["code"] = f"{(int(fields['code']) + 1) % 1_000_000:06d}"
    elif wrong == "used_code":
        assert form_post(client, "/gestion/connexion", fields).status_code == 303
    else:
        staff_accounts().disable(login, GUIDE_NOW)
    response = form_post(client, "/gestion/connexion", fields)
    assert response.status_code == 401
    assert REFUSAL in body(response) and "Set-Cookie" not in response.headers
    assert 'name="code"' in body(response)  # the form again


def test_a_code_of_the_portals_frozen_clock_is_refused_the_real_clocks_accepted(client, frozen_clock):
    frozen = frozen_clock(GUIDE_NOW)
    login, secret = create_account("agent")
    response = form_post(client, "/gestion/connexion", {"login": login, "password": STAFF_PASSWORD,
                                                         "code": totp_code(secret, frozen)})
    assert response.status_code == 401 and REFUSAL in body(response)
    assert log_in(client, login, secret).status_code == 303


def test_too_many_failures_answer_429_with_retry_after(client):
    login, secret = create_account("agent")
    for _ in range(5):
        response = form_post(client, "/gestion/connexion", {"login": login, "password": "pas le bon mot de passe",
                                                             "code": totp_code(secret)})
        assert response.status_code == 401
    response = log_in(client, login, secret)  # right this time, but locked for 2 minutes
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 60
    assert "Trop de tentatives de connexion : réessayez dans 2 minutes" in body(response)


def test_staff_counters_never_share_a_familys(client, families):
    """A family login and a staff login of the same name: the staff's failures lock only it."""
    from chalicelib.dependencies import staff_accounts

    staff_accounts().create("alice", "agent", GUIDE_NOW)
    for _ in range(5):
        form_post(client, "/gestion/connexion", {"login": "alice", "password": "faux", "code": "000000"})
    assert post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}).status_code == 200


def _embedded_accounts(embedded_aws, threads=2):
    client = boto3.client("dynamodb", endpoint_url=embedded_aws.endpoint_url,
                          config=Config(max_pool_connections=threads, retries={"max_attempts": 1}))
    return StaffAccounts(Storage(client, table.table_name()), secret="secret-de-test")


@pytest.mark.server
def test_two_logins_racing_with_one_code_open_one_session(embedded_aws, embedded_resources):
    accounts = _embedded_accounts(embedded_aws)
    now = datetime.now(UTC)
    _, secret = accounts.create("agent-course", "agent", now)
    accounts.set_password("agent-course", STAFF_PASSWORD, now)
    code = totp_code(secret, now)
    answers = race(2, lambda n: accounts.login("agent-course", STAFF_PASSWORD, code, "127.0.0.1", now),
                   expected=StaffError)
    won = [a for a in answers if isinstance(a, tuple)]
    lost = [a for a in answers if isinstance(a, StaffError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].message == REFUSAL
    # The next step's code opens a session: the step stored is the one used, no later.
    later = now + timedelta(seconds=30)
    assert accounts.login("agent-course", STAFF_PASSWORD, totp_code(secret, later), "127.0.0.1", later)


def test_a_session_ends_after_30_idle_minutes_and_after_10_hours(client):
    from chalicelib.dependencies import staff_accounts

    accounts = staff_accounts()
    now = datetime.now(UTC)
    login, secret = create_account("agent")
    token, session = accounts.login(login, STAFF_PASSWORD, totp_code(secret, now), "127.0.0.1", now)
    assert accounts.current_session(token, now + timedelta(minutes=29)) is not None  # moves it on
    assert accounts.current_session(token, now + timedelta(minutes=58)) is not None
    assert accounts.current_session(token, now + timedelta(minutes=58 + 31)) is None
    item = accounts.storage.get(f"STAFFSESSION#{session.token_hash}", "STAFFSESSION")
    assert item["expires_at"] == int((now + timedelta(minutes=58 + 30)).timestamp())  # DynamoDB's TTL too
    # Active all day long, it still ends after 10 hours.
    moment = now
    while moment < now + timedelta(hours=9, minutes=50):
        moment += timedelta(minutes=20)
        assert accounts.current_session(token, moment) is not None or moment >= now + timedelta(hours=10)
    assert accounts.current_session(token, now + timedelta(hours=10)) is None


def test_logout_revokes_the_session_on_the_server(staff_client):
    agent = staff_client("agent")
    response = agent.post("/gestion/deconnexion")
    assert response.status_code == 303 and response.headers["Location"] == "/gestion/connexion/#deconnexion"
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    # The old cookie, sent again (a copy kept somewhere), opens nothing.
    page = agent.get("/gestion/")
    assert page.status_code == 401 and 'action="/gestion/connexion"' in body(page)
    assert "Votre session a pris fin" in body(page)


def test_disabling_an_account_or_changing_its_role_ends_its_sessions(staff_client):
    from chalicelib.dependencies import staff_accounts

    agent, other = staff_client("agent"), staff_client("agent")
    staff_accounts().disable(agent.login, GUIDE_NOW)
    staff_accounts().set_role(other.login, "admin", GUIDE_NOW)
    for staff in (agent, other):
        assert staff.get("/gestion/").status_code == 401, staff.login


def test_a_family_session_opens_no_staff_page(client, families):
    cookie = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    page = client.http.get("/gestion/", headers={"Cookie": cookie})
    assert page.status_code == 401 and 'action="/gestion/connexion"' in body(page)
    assert "alice" not in body(page) and "ALPHA" not in body(page)
    assert "Votre session a pris fin" not in body(page)  # there was no staff session to end
    refused = form_post(client, "/gestion/deconnexion", {}, cookie=cookie)
    assert refused.status_code == 303  # nothing to end; the family session is untouched
    assert client.http.get("/api/me", headers={"Cookie": cookie}).status_code == 200


def test_a_staff_session_is_no_family_session(staff_client):
    admin = staff_client("admin")
    assert admin.get("/api/me").status_code == 401
    assert admin.client.http.post("/api/bookings", body="{}", headers={
        "Cookie": admin.cookie, "Origin": "http://127.0.0.1:8000", "Content-Type": "application/json"}
    ).status_code == 401


def test_a_staff_post_needs_the_sessions_form_token(staff_client):
    agent = staff_client("agent")
    for fields in ({}, {"csrf_token": "0" * 40}, {"csrf_token": staff_client("agent").csrf_token}):
        response = agent.post("/gestion/deconnexion", fields, csrf=False)
        assert response.status_code == 403
        assert "Ce formulaire a expiré : rechargez la page et recommencez." in body(response)
    assert agent.get("/gestion/").status_code == 200  # still logged in


def test_the_staff_cookie_alone_is_the_session(client):
    """A forged or unknown cookie is no session; a post from another site is refused first."""
    page = client.http.get("/gestion/", headers={"Cookie": f"{sessions.COOKIE_NAME}=inconnu"})
    assert page.status_code == 401
    login, secret = create_account("agent")
    response = client.http.post("/gestion/connexion", body=f"login={login}&password=x&code=000000", headers={
        "Origin": "https://ailleurs.example", "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403


def test_the_demo_accounts_open_in_demo_mode_only(client, storage, monkeypatch):
    from chalicelib.dependencies import reset_dependencies, staff_accounts
    from chalicelib.staff.accounts import DEMO_PASSWORD, DEMO_TOTP_SECRET

    from portail.demo_staff import seed_staff

    seed_staff(storage, GUIDE_NOW, "http://127.0.0.1:8000")
    now = datetime.now(UTC)
    refused = form_post(client, "/gestion/connexion", {"login": "agent", "password": DEMO_PASSWORD,
                                                        "code": totp_code(DEMO_TOTP_SECRET, now)})
    assert refused.status_code == 401 and REFUSAL in body(refused)
    # Nor can an administrator give the demo's password to a real account.
    login, _ = create_account("agent")
    with pytest.raises(StaffError, match="celui de la démonstration"):
        staff_accounts().set_password(login, DEMO_PASSWORD, GUIDE_NOW)
    monkeypatch.setenv("PORTAIL_DEMO", "1")
    reset_dependencies()
    accepted = staff_accounts().login("regie", DEMO_PASSWORD, totp_code(DEMO_TOTP_SECRET, now), "127.0.0.1", now)
    assert accepted[1].role == "regie"
