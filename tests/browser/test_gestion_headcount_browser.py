"""« Effectifs » and « Plannings papier » in a browser, as an agent uses them: the day's
headcount, its date form and links without JavaScript, its printed sheets (no menu, one
sheet per service); a paper planning sent through the real form, previewed, confirmed
(late: the demo's clock is past the 20th), and seen by the family on its month page.
axe-core at 1280 and 360 px on each page. One demo portal for the module (conftest.py).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

# The guide's family and its child CONNIE (enrolled in RESTAURATION); a Friday of December.
PLANNING = ("numero_famille;numero_enfant;date;service;rang\n"
            "381623867924;1;19/12/2014;RESTAURATION;1\n"
            "381623867924;1;22/12/2014;RESTAURATION;1\n").encode("cp1252")


def no_axe_violation(page) -> None:
    problems = page_problems(page, sideways=False)
    assert not problems, "\n".join(problems)


@pytest.fixture
def axe_page(browser, portal, staff_login):
    """A logged-in agent's page where axe-core may run (the CSP refuses its script)."""
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    staff_login(page, "agent")
    yield page
    context.close()


def test_the_headcount_without_javascript_and_printed(new_context, staff_login, axe_page):
    page = new_context(javascript=False).new_page()
    staff_login(page, "agent")
    page.get_by_role("link", name="Effectifs").first.click()
    page.wait_for_url("**/gestion/effectifs/")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Effectifs : vendredi 28 novembre 2014"  # the portal's clock
    sheets = page.locator("section.feuille-service")
    assert sheets.count() >= 2
    # the date form, without JavaScript: a GET with the day chosen
    page.get_by_label("Jour", exact=True).fill("2014-11-27")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(r"/gestion/effectifs/\?date=2014-11-27"))
    assert heading.inner_text() == "Effectifs : jeudi 27 novembre 2014"
    page.get_by_role("link", name=re.compile(r"^Lendemain")).click()
    assert heading.inner_text() == "Effectifs : vendredi 28 novembre 2014"
    page.get_by_role("link", name="Toute la semaine").click()
    page.wait_for_url(re.compile(r"week=2014-W48"))
    assert page.get_by_role("table", name=re.compile("Enfants attendus de la semaine")).is_visible()
    # printed: no menu, no form, each service on its own sheet
    page.goto("/gestion/effectifs/")
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Menu de la gestion").is_visible()
    assert not page.get_by_role("button", name="Afficher").is_visible()
    assert not page.get_by_role("link", name=re.compile("Télécharger")).is_visible()
    assert sheets.first.is_visible()
    breaks = sheets.evaluate_all("(all) => all.map((s) => getComputedStyle(s).breakBefore)")
    assert breaks[0] != "page" and set(breaks[1:]) == {"page"}, breaks
    # axe-core, day and week
    for address in ("/gestion/effectifs/", "/gestion/effectifs/?week=2014-W48"):
        axe_page.goto(address)
        no_axe_violation(axe_page)


def test_a_paper_planning_through_the_form_previewed_confirmed_and_seen_by_the_family(
        new_context, staff_login, axe_page, tmp_path):
    page = new_context(javascript=False).new_page()
    staff_login(page, "agent")
    page.goto("/gestion/plannings/")
    assert "décembre 2014" in page.get_by_role("main").inner_text()
    page.get_by_label(re.compile("Fichier du planning")).set_input_files(
        files=[{"name": "planning-decembre.csv", "mimeType": "text/csv", "buffer": PLANNING}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    main = page.get_by_role("main")
    assert "Vérification de « planning-decembre.csv »" in main.inner_text()
    assert "devaient être saisis au plus tard le jeudi 20 novembre 2014" in main.inner_text()
    assert page.get_by_role("table", name=re.compile("Famille 381623867924")).is_visible()
    late = page.get_by_label("Planning arrivé en retard : le saisir quand même")
    late.check()
    page.get_by_role("button", name="Confirmer l'import").click()
    result = page.get_by_role("status")
    assert re.search(r"Planning « planning-decembre\.csv » importé : \d jour\(s\) réservé\(s\)", result.inner_text())
    # the family sees the paper planning on CONNIE's December page
    family = new_context().new_page()
    home = log_in(family, "ztest")
    family.goto(home + "enfants/1/2014-12/")
    assert "(planning papier)" in family.get_by_role("main").inner_text()
    # axe-core on the form and on a preview
    axe_page.goto("/gestion/plannings/")
    no_axe_violation(axe_page)
    path = tmp_path / "planning.csv"
    path.write_bytes(PLANNING + b"381623867924;9;19/12/2014;RESTAURATION;1\n")
    axe_page.get_by_label(re.compile("Fichier du planning")).set_input_files(str(path))
    axe_page.get_by_role("button", name="Vérifier le fichier").click()
    assert "Ligne 4 : enfant 9 inconnu dans la famille 381623867924" in axe_page.get_by_role("main").inner_text()
    no_axe_violation(axe_page)
