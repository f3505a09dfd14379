"""An agent finds a family by a child's name and enters days for it through the grid of
its file (docs/http-api.md, `/gestion/familles/`): in Chromium without JavaScript, on
`portail serve --demo` at the guide's date; the search page and the file pass axe-core
at 1280 and 360 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import page_problems

pytestmark = [pytest.mark.browser, pytest.mark.server]

GUIDE_FAMILY = "381623867924"
FILE = re.compile(rf"/gestion/familles/{GUIDE_FAMILY}/")


def open_file_by_child(page) -> None:
    """« Familles » in the menu, « connie » typed (the guide's CONNIE ZTEST), its family's link."""
    page.get_by_role("navigation", name="Menu de la gestion").get_by_role("link", name="Familles").click()
    page.get_by_label("Rechercher une famille").fill("connie")
    page.get_by_role("button", name="Rechercher").click()
    results = page.get_by_role("region", name="Résultats pour « connie »")
    assert "CONNIE ZTEST" in results.inner_text()
    results.get_by_role("link", name=f"Famille n° {GUIDE_FAMILY}").click()
    page.wait_for_url(FILE)


def test_without_javascript_an_agent_finds_a_family_by_a_childs_name_and_reserves_days(new_context, staff_login):
    page = new_context(javascript=False).new_page()
    staff_login(page, "agent")
    open_file_by_child(page)
    assert page.get_by_role("heading", level=1).inner_text() == f"Famille n° {GUIDE_FAMILY}"
    assert "pays.ztest@example.org" in page.get_by_label("Adresse électronique").input_value()

    # CONNIE's December, as the parent's page shows it, chosen with the selector.
    page.get_by_label("Enfant", exact=True).select_option(label="CONNIE ZTEST")
    page.get_by_label("Mois", exact=True).select_option(label="Décembre 2014")
    page.get_by_role("button", name="Afficher").click()
    grid = page.get_by_role("table", name="Décembre 2014 – CONNIE")
    assert grid.is_visible()

    # A day still open, as the parent would; and a day past its deadline, by passing it over.
    open_day = "Réserver RESTAURATION le lundi 15 décembre 2014"
    late_day = "Réserver RESTAURATION le mardi 2 décembre 2014 (après la date limite : passer outre)"
    page.get_by_label(open_day, exact=True).check()
    page.get_by_label(late_day, exact=True).check()
    page.get_by_role("button", name="Enregistrer la demande").click()
    # Without « passer outre », the late day is refused with its reason; the other booked.
    result = page.locator("#resultat")
    assert "lundi 15 décembre 2014, RESTAURATION : validée" in result.inner_text()
    assert "mardi 2 décembre 2014, RESTAURATION : refusée. Trop tard" in result.inner_text()
    assert page.get_by_label("Annuler RESTAURATION le lundi 15 décembre 2014", exact=True).count() == 1

    page.get_by_label(late_day, exact=True).check()
    page.get_by_role("checkbox", name="Passer outre la date limite").check()
    page.get_by_role("button", name="Enregistrer la demande").click()
    # The reason is required: a French page says so, and nothing is written.
    assert page.get_by_role("alert").inner_text() == "Indiquez la raison pour passer outre la date limite."
    page.go_back()
    page.get_by_label(late_day, exact=True).check()
    page.get_by_role("checkbox", name="Passer outre la date limite").check()
    page.get_by_label("Raison (obligatoire pour passer outre la date limite)").fill("Planning papier déposé en retard")
    page.get_by_role("button", name="Enregistrer la demande").click()
    assert "mardi 2 décembre 2014, RESTAURATION : validée" in page.locator("#resultat").inner_text()
    assert "(par le service enfance)" in page.locator("#resultat").inner_text()


def test_the_search_and_the_file_pass_axe_at_1280_and_360_px(browser, portal, staff_login):
    from tests.browser.test_accessibility import DESKTOP

    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    try:
        page = context.new_page()
        staff_login(page, "agent")
        open_file_by_child(page)
        problems = page_problems(page)
        page.goto(f"/gestion/familles/{GUIDE_FAMILY}/?enfant=1&mois=2014-12#grille")
        problems += page_problems(page)
        page.goto("/gestion/familles/?q=ztést")  # the issue's own example, accent and all
        assert page.get_by_role("link", name=f"Famille n° {GUIDE_FAMILY}").count() == 1
        problems += page_problems(page)
        assert not problems, "\n".join(problems)
    finally:
        context.close()
