"""A parent logs in through the form, with JavaScript on and off, and reaches the
dashboard; another family's page answers 403.

Real headless Chromium against `portail serve --demo` (see conftest.py): the login form,
the session and CloudFront signed cookies, the private-page gate and portail.js are
exercised together, as a parent's browser meets them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server]

PASSWORD = "portail-demo-2014"
HOME_PATH = re.compile(r"^/famille/[0-9a-f]{32}/$")
LOGIN_PAGE = re.compile(r"/connexion/(#.*)?$")
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])


def _is_login_call(response) -> bool:
    return response.request.method == "POST" and urlsplit(response.url).path == "/api/login"


def _is_home_view(response) -> bool:
    return response.request.method == "GET" and bool(HOME_PATH.match(urlsplit(response.url).path))


def log_in(page, login: str, password: str = PASSWORD) -> str:
    """Fills the login form by its labels, clicks « Connexion », waits for the dashboard.

    Returns the family's home path; fails with the cookies the browser kept when the
    dashboard does not answer 200.
    """
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_response(_is_login_call) as answer, page.expect_response(_is_home_view) as home:
        page.get_by_role("button", name="Connexion").click()
    response = home.value
    if response.status != 200:
        kept = [(c["name"], c["path"]) for c in page.context.cookies()]
        sent = [re.sub(r"=[^;]*", "=…", h["value"], count=1)  # the attributes, not the secret
                for h in answer.value.headers_array() if h["name"].lower() == "set-cookie"]
        pytest.fail(
            f"{login} : le tableau de bord {response.url} répond {response.status} juste après "
            f"la connexion.\nCookies gardés par Chromium : {kept}\nSet-Cookie de /api/login "
            "(Chromium jette un cookie dont l'Expires est passé à son horloge, la vraie) :\n"
            + "\n".join(sent)
        )
    page.wait_for_url(lambda url: bool(HOME_PATH.match(urlsplit(url).path)))
    return urlsplit(page.url).path


@JAVASCRIPT
def test_a_parent_logs_in_through_the_form_and_reaches_the_dashboard(new_context, javascript):
    page = new_context(javascript=javascript).new_page()
    home = log_in(page, "ztest")
    assert HOME_PATH.match(home)
    expect(page.get_by_text("Bienvenue PAYS ZTEST")).to_be_visible()
    expect(page.get_by_text("CONNIE").first).to_be_visible()
    names = {c["name"] for c in page.context.cookies()}
    assert {"__Host-session", "CloudFront-Policy", "CloudFront-Signature",
            "CloudFront-Key-Pair-Id"} <= names


@JAVASCRIPT
def test_a_wrong_password_is_said_on_the_login_page(new_context, javascript):
    page = new_context(javascript=javascript).new_page()
    page.goto("/connexion/")
    # The page holds the sentence twice: in the form's alert box (filled by portail.js)
    # and in a paragraph shown by CSS :target (#erreur-invalid-credentials, without JS).
    # Role queries see only what is displayed: exactly one of them, after the error.
    refused = page.get_by_role("alert").filter(has_text="Identifiant ou mot de passe incorrect.")
    expect(refused).to_have_count(0)
    page.get_by_label("Identifiant").fill("ztest")
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Connexion").click()
    expect(refused).to_be_visible()
    expect(page).to_have_url(LOGIN_PAGE)
    assert "/famille/" not in page.url
    assert not any(c["name"].startswith("CloudFront-") for c in page.context.cookies())


def test_a_family_page_answers_403_to_another_family_and_to_a_stranger(new_context):
    other_home = log_in(new_context().new_page(), "famille01")

    page = new_context().new_page()
    ztest_home = log_in(page, "ztest")
    assert ztest_home != other_home

    response = page.goto(other_home)
    assert response.status == 403
    expect(page.get_by_text("Accès réservé").first).to_be_visible()
    expect(page.get_by_text("Bienvenue")).to_have_count(0)

    stranger = new_context().new_page()
    response = stranger.goto(ztest_home)
    assert response.status == 403
    expect(stranger.get_by_text("Accès réservé").first).to_be_visible()
    expect(stranger.get_by_text("Bienvenue PAYS ZTEST")).to_have_count(0)


def test_logout_ends_on_the_login_page_and_closes_the_family_pages(new_context):
    page = new_context().new_page()
    home = log_in(page, "ztest")
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url(LOGIN_PAGE)
    assert urlsplit(page.url).path == "/connexion/"
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()

    response = page.goto(home)
    assert response.status == 403
    expect(page.get_by_text("Bienvenue PAYS ZTEST")).to_have_count(0)


def test_no_console_error_nor_csp_violation_on_the_login_page_and_the_dashboard(fresh_context):
    page = fresh_context().new_page()
    errors = []
    page.on("console", lambda message: errors.append(
        f"{page.url}: {message.text} ({message.location.get('url', '')})"
    ) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    page.goto("/connexion/")
    page.wait_for_load_state("networkidle")
    log_in(page, "ztest")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Bienvenue PAYS ZTEST")).to_be_visible()
    assert errors == [], "\n".join(errors)
