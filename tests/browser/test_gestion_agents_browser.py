"""The staff accounts in Chromium (docs/staff.md): an admin creates an account in
`/gestion/agents/`, the new agent opens the enrolment link in a browser of their own,
sees the QR code (an inline SVG the page's Content-Security-Policy lets through) and the
key as text, enrols with the code of an app (pyotp) and logs in. axe-core clean at 1280
and 360 px; the same pages without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import STAFF_PASSWORD
from tests.browser.test_accessibility import DESKTOP, page_problems

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _code(secret: str, seconds: int = 0) -> str:
    """The code an authenticator app shows, `seconds` from now (real clock)."""
    from chalicelib.staff.accounts import totp

    return totp(secret).at(datetime.now(UTC) + timedelta(seconds=seconds))


def _create(page, login: str, role: str = "Agent") -> str:
    """Creates an account in the agents' page; the enrolment link shown."""
    page.goto("/gestion/agents/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Rôle", exact=True).select_option(label=role)
    page.get_by_role("button", name="Créer le compte").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Lien d'inscription de « {login} »"
    return page.locator("#lien-inscription").get_attribute("href")


def _enrol(page, secret: str, code: str) -> None:
    page.get_by_label("Mot de passe", exact=True).fill(STAFF_PASSWORD)
    page.get_by_label("Le même mot de passe, encore une fois").fill(STAFF_PASSWORD)
    page.get_by_label("Code à 6 chiffres affiché par l'application").fill(code)
    page.get_by_role("button", name="Terminer l'inscription").click()


def _log_in(page, login: str, secret: str) -> None:
    page.goto("/gestion/connexion/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_label("Code à 6 chiffres").fill(_code(secret, 30))  # the enrolment took this step's code
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/gestion/")


def test_an_admin_creates_an_agent_who_enrols_with_the_qr_code_and_logs_in(browser, portal, new_context,
                                                                            staff_login):
    admin_context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)  # axe is a script
    agent_context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    try:
        admin = admin_context.new_page()
        me = staff_login(admin, "admin")
        admin.get_by_role("navigation", name="Menu de la gestion").get_by_role("link", name="Agents").click()
        assert admin.get_by_role("heading", level=1).inner_text() == "Comptes des agents"
        problems = page_problems(admin)
        link = _create(admin, "martine.durand", "Régie")
        assert link.startswith(f"{portal}/gestion/inscription/")
        assert "ne sert qu'une fois" in admin.content()
        problems += page_problems(admin)

        # The agent's own browser: the QR code and the key, under the real CSP too.
        strict = new_context().new_page()
        errors = []
        strict.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        strict.goto(link)
        qr = strict.locator("svg[role=img]")
        assert qr.is_visible() and qr.bounding_box()["width"] >= 150, "le QR code n'est pas affiché"
        assert not [e for e in errors if "Content Security Policy" in e or "securitypolicyviolation" in e], errors

        agent = agent_context.new_page()
        agent.goto(link)
        assert agent.get_by_role("heading", level=1).inner_text() == "Gestion : inscription de « martine.durand »"
        assert agent.get_by_role("img", name="QR code du secret de votre compte").is_visible()
        key = agent.locator("#cle-secrete").inner_text()
        assert [len(group) for group in key.split(" ")] == [4] * 8
        secret = key.replace(" ", "")
        problems += page_problems(agent)
        assert not problems, "\n".join(problems)

        _enrol(agent, secret, _code(secret))
        agent.wait_for_url("**/gestion/connexion/#inscription")
        assert agent.get_by_text("Inscription terminée").is_visible()
        _log_in(agent, "martine.durand", secret)
        assert agent.get_by_role("heading", level=1).inner_text() == "Bonjour martine.durand"
        assert agent.goto(link).status == 404  # the link served once

        admin.goto("/gestion/agents/")
        role, state, last_login, app = admin.locator("#agent-martine\\.durand").get_by_role("cell").all_inner_texts()[:4]
        assert (role, state, app) == ("Régie", "Actif", "Configurée") and last_login != "Jamais"
        assert f"{me} (vous)" in admin.locator("tbody").inner_text()
    finally:
        admin_context.close()
        agent_context.close()


def test_without_javascript_an_admin_disables_an_agent_and_a_new_agent_enrols(new_context, staff_login):
    admin = new_context(javascript=False).new_page()
    agent = new_context(javascript=False).new_page()
    me = staff_login(admin, "admin")
    other = staff_login(agent, "agent")

    admin.goto("/gestion/agents/")
    assert admin.get_by_role("button", name=f"Désactiver {me}").count() == 0  # not one's own account
    admin.get_by_role("button", name=f"Désactiver {other}").click()
    assert admin.get_by_role("status").inner_text() == f"Le compte « {other} » est désactivé : ses sessions ont pris fin."
    assert admin.locator(f"#agent-{other}").get_by_role("cell").nth(1).inner_text() == "Désactivé"
    assert agent.goto("/gestion/").status == 401  # its session ended at once
    admin.get_by_role("button", name=f"Réactiver {other}").click()
    assert "est de nouveau actif" in admin.get_by_role("status").inner_text()

    link = _create(admin, "paul.martin")
    newcomer = new_context(javascript=False).new_page()
    newcomer.goto(link)
    assert newcomer.get_by_role("img", name="QR code du secret de votre compte").is_visible()
    secret = newcomer.locator("#cle-secrete").inner_text().replace(" ", "")
    _enrol(newcomer, secret, "000000")
    assert "Ce code ne correspond pas" in newcomer.get_by_role("alert").inner_text()
    _enrol(newcomer, secret, _code(secret))
    newcomer.wait_for_url("**/gestion/connexion/#inscription")
    assert newcomer.get_by_text("Inscription terminée").is_visible()  # :target, no script
    _log_in(newcomer, "paul.martin", secret)
    assert newcomer.get_by_role("heading", level=1).inner_text() == "Bonjour paul.martin"
