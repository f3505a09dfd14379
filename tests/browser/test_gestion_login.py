"""The staff login in Chromium (docs/staff.md): the form with a code of the app, the
role's menu, logout; axe-core clean at 1280 and 360 px; all of it without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import STAFF_PASSWORD
from tests.browser.test_accessibility import DESKTOP, page_problems

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_an_agent_logs_in_sees_the_menu_of_the_role_and_the_pages_pass_axe(browser, portal, staff_login):
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/gestion/connexion/")
        problems = page_problems(page)
        code = page.get_by_label("Code à 6 chiffres")
        assert code.get_attribute("autocomplete") == "one-time-code" and code.get_attribute("inputmode") == "numeric"

        login = staff_login(page, "agent")
        assert page.get_by_role("heading", level=1).inner_text() == f"Bonjour {login}"
        menu = page.get_by_role("navigation", name="Menu de la gestion")
        assert menu.get_by_role("link").all_inner_texts() == [
            "Accueil", "Demandes", "Certificats", "Documents", "Effectifs", "Familles", "Plannings papier", "Messages"]
        assert menu.get_by_role("link", name="Accueil").get_attribute("aria-current") == "page"
        problems += page_problems(page)
        assert not problems, "\n".join(problems)

        page.get_by_role("button", name=f"Déconnexion ({login})").click()
        page.wait_for_url("**/gestion/connexion/#deconnexion")
        assert page.get_by_text("Vous êtes déconnecté.").is_visible()
        assert page.goto("/gestion/").status == 401  # the session ended on the server
    finally:
        context.close()


def test_without_javascript_an_admin_logs_in_and_a_wrong_code_is_refused(new_context, staff_account, staff_login):
    page = new_context(javascript=False).new_page()
    # A wrong code: the same sentence as any wrong part, the form again.
    login, _ = staff_account("admin")
    page.goto("/gestion/connexion/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Connexion").click()
    assert page.get_by_role("alert").inner_text() == "Identifiant, mot de passe ou code incorrect."

    # A page asked for before logging in is where the login leads.
    asked = page.goto("/gestion/?vue=jour")
    assert asked.status == 401 and page.get_by_label("Code à 6 chiffres").is_visible()
    admin = staff_login(page, "admin")
    menu = page.get_by_role("navigation", name="Menu de la gestion")
    assert {"Agents", "Journal"} <= set(menu.get_by_role("link").all_inner_texts())
    assert f"Bonjour {admin}" in page.content()
