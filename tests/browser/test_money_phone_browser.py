"""Money on a phone (docs/family-pages.md), in a browser on the families' shared demo
portal at the guide's date: at 360 × 800 every amount of the dashboard, « Mes
factures », « Mes règlements » and the « Relevé de compte » lies within the screen; the
dashboard's children fit and both their names lead to the month; the statement's
« Année scolaire » selector, with and without JavaScript; axe-core at 360 and 1280 px.

Read only but for family 30 of the demo, which no other module uses: the régie records
at the desk a cheque dated June 2013, so that its statement spans three school years,
one of them (2013-2014) without operation.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_accessibility import page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

PHONE = {"width": 360, "height": 800}
# Separated parents (docs/family-pages.md « Two responsables »): its first responsable's own
# money, two unpaid invoices among their invoices, one payment; three children.
BUSY = "famille20"
CHANGED = "381600000030"  # famille30: the cheque of June 2013

# Every amount and every value of the money tables: its box within the screen.
OUTSIDE = """() => [...document.querySelectorAll('.montant, main td, main th')]
    .filter((e) => e.getClientRects().length)
    .map((e) => [e.textContent.trim().slice(0, 40), e.getBoundingClientRect()])
    .filter(([, box]) => box.left < 0 || box.right > window.innerWidth)
    .map(([text, box]) => `${text}: ${Math.round(box.left)}–${Math.round(box.right)} px`)"""


def said(locator) -> str:
    return locator.inner_text().replace("\u00a0", " ")


def test_every_amount_and_the_children_fit_a_phone(browser, portal):
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=PHONE, has_touch=True,
                                  is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    home = log_in(page, BUSY)
    problems = []
    for path in ("", "factures/", "reglements/", "releve/"):
        page.set_viewport_size(PHONE)
        page.goto(home + path)
        amounts = page.locator("main .montant")
        assert amounts.count() >= 1, path  # the page shows money
        problems += [f"{path or 'accueil'}: {box}" for box in page.evaluate(OUTSIDE)]
        if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            problems.append(f"{path or 'accueil'} défile horizontalement")
        # Each amount says what it is: its column's label shown before it (or its row's header).
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('main td.montant')]
            .filter((td) => td.dataset.label
                ? getComputedStyle(td, '::before').content === 'none' : !td.parentElement.querySelector('th'))
            .map((td) => td.textContent.trim())""")
        assert not unlabelled, (path, unlabelled)
        problems += page_problems(page)
    assert not problems, "\n".join(problems)

    # The dashboard's children: both names lead to the child's month, within the screen.
    page.set_viewport_size(PHONE)
    page.goto(home)
    # A screen reader still reads a table, each amount with its column's label.
    unpaid = page.get_by_role("table", name=re.compile("Vos factures impayées")).aria_snapshot()
    assert '- columnheader "Montant"' in unpaid and re.search(r'cell "Reste à payer : [\d,]+.€"', unpaid), unpaid
    children = page.get_by_role("table", name="Les informations relatives à vos enfants")
    last_name = children.get_by_role("link", name="GIRARD").first
    first_name = children.get_by_role("link", name="JADE")
    assert last_name.get_attribute("href") == first_name.get_attribute("href") == home + "enfants/1/2014-11/"
    assert "cliquez sur le nom ou le prénom" in said(page.locator("#aide-enfants"))
    last_name.tap()
    page.wait_for_url(f"**{home}enfants/1/2014-11/")
    context.close()


@pytest.fixture
def three_years(new_context, staff_login):
    """Family 30 paid a cheque at the desk in June 2013: its statement has 2012-2013, an
    empty 2013-2014 and 2014-2015 (the desk re-renders its pages before answering)."""
    page = new_context(javascript=False).new_page()
    staff_login(page, "regie")
    page.goto("/gestion/reglements/")
    page.get_by_label("N° famille").fill(CHANGED)
    page.get_by_label("Montant en euros").fill("12,34")
    page.get_by_label("Mode de règlement").select_option("chèque")
    page.get_by_label("Date du règlement").fill("2013-06-28")
    page.get_by_role("button", name="Enregistrer le règlement").click()
    page.wait_for_url(re.compile(r"/gestion/reglements/recus/REC-\d{6}/"))


def test_the_statements_years_with_and_without_javascript(three_years, browser, portal, new_context):
    for javascript in (True, False):
        page = new_context(javascript=javascript).new_page()
        page.set_viewport_size(PHONE)
        home = log_in(page, "famille30")
        page.goto(home + "releve/")
        selector = page.get_by_label("Année scolaire", exact=True)
        assert selector.locator("option").all_inner_texts() == ["2012-2013", "2013-2014", "2014-2015"]
        assert selector.input_value() == "2014-2015"
        selector.select_option("2012-2013")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url(f"**{home}releve/2012-2013/")
        statement = page.get_by_role("table", name="Relevé des opérations, année scolaire 2012-2013")
        assert "Règlement : chèque" in said(statement) and "12,34 €" in said(statement)
        assert page.get_by_label("Année scolaire", exact=True).input_value() == "2012-2013"
        page.get_by_label("Année scolaire", exact=True).select_option("2013-2014")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url(f"**{home}releve/2013-2014/")
        words = " ".join(said(page.locator("main")).split())
        assert "Aucune opération sur l'année scolaire 2013-2014." in words, javascript
        assert "Solde du compte pour l'année scolaire 2013-2014 12,34 €" in words
        # A year typed by hand: a French page, not « Page introuvable ».
        answer = page.goto("/api/releve?annee=2009-2010")
        assert answer.status == 404
        assert "Aucune opération sur l'année scolaire 2009-2010" in said(page.locator("main"))
        page.get_by_role("link", name="Retour au relevé de compte").click()
        page.wait_for_url(f"**{home}releve/")
        assert page.goto("/api/releve?annee=2014-2016").status == 400

    # axe-core on the selector's page and on the empty year's, at 360 and 1280 px.
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    home = log_in(page, "famille30")
    problems = []
    for path in ("releve/", "releve/2013-2014/"):
        page.goto(home + path)
        problems += page_problems(page)
    context.close()
    assert not problems, "\n".join(problems)
