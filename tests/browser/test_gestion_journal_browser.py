"""The staff journal in Chromium (docs/data-model.md): an admin opens it from the menu,
filters it by an agent with the GET form, and sees that agent's login; axe-core clean at
1280 and 360 px; the same without JavaScript, and a bad filter is a French page."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import DESKTOP, page_problems

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _filter_by(page, login: str) -> None:
    page.get_by_label("Agent", exact=True).select_option(login)
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(rf"/gestion/journal/\?agent={re.escape(login)}"))


def test_an_admin_opens_the_journal_and_filters_by_an_agent(browser, portal, staff_login):
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    try:
        page = context.new_page()
        agent = staff_login(page, "agent")  # an agent's login: an entry of the journal
        context.clear_cookies()
        admin = staff_login(page, "admin")
        page.get_by_role("navigation", name="Menu de la gestion").get_by_role("link", name="Journal").click()
        page.wait_for_url("**/gestion/journal/")
        assert page.get_by_role("heading", level=1).inner_text() == "Journal des actions"
        assert page.get_by_role("link", name="Jour précédent").is_visible()
        problems = page_problems(page)

        _filter_by(page, agent)
        table = page.get_by_role("table")
        assert table.locator("caption").inner_text() == f"Actions de l'agent {agent}"
        cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
        assert cells[1:3] == [agent, "Connexion à la gestion"]
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4} à \d{2} h \d{2}", cells[0])
        assert table.locator("tbody tr").count() == 1  # that agent's, not the admin's
        problems += page_problems(page)
        assert not problems, "\n".join(problems)

        _filter_by(page, admin)
        assert page.get_by_role("table").locator("tbody tr td").nth(2).inner_text() == "Connexion à la gestion"
    finally:
        context.close()


def test_without_javascript_the_filters_work_and_a_bad_one_is_a_french_page(new_context, staff_login):
    page = new_context(javascript=False).new_page()
    admin = staff_login(page, "admin")
    page.goto("/gestion/journal/")
    _filter_by(page, admin)
    assert page.get_by_role("table").locator("tbody tr td").nth(1).inner_text() == admin
    page.get_by_label("N° famille").fill("12a")
    page.get_by_role("button", name="Filtrer").click()
    assert page.get_by_text("Numéro de famille invalide").is_visible()
    assert page.evaluate("document.documentElement.lang") == "fr"
