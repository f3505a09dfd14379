"""Two responsables, each with their own account (docs/family-pages.md, « Two
responsables »), in a browser on the families' shared demo portal at the guide's date:
famille05 (Madame SOPHIE ROBERT) and famille05-2 (Monsieur THOMAS ROBERT), separated
parents of JULES who has him every other week, each greeted by name, each seeing their
own invoices only, both seeing JULES's calendar; their page cookies open their own
folder only and the other's invoice PDF is not found, also when the requests go in
parallel; axe-core at 360 and 1280 px; without JavaScript the statement's year selector
stays in one's own folder.

Read only: no booking, no message opened (test_family_pages_browser opens famille05's).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
INVOICE = re.compile(r"FAC-\d{6}")

# Many requests at once from the page: (address, status) for each; a redirect (a PDF's
# presigned URL) is not followed: its status reads 302.
PARALLEL = """async (addresses) => Promise.all(addresses.map(async (address) => {
    const answer = await fetch(address, { redirect: "manual", credentials: "same-origin" });
    return [address, answer.type === "opaqueredirect" ? 302 : answer.status];
}))"""


def invoices_of(page, home: str) -> set[str]:
    page.goto(home + "factures/")
    return set(INVOICE.findall(page.locator("main").inner_text()))


def test_each_parent_sees_their_own_money_and_both_see_the_calendar(browser, portal):
    # bypass_csp: axe-core is injected as an inline script (tests/browser/test_accessibility.py).
    thomas_context = browser.new_context(base_url=portal, viewport=PHONE, has_touch=True, is_mobile=True,
                                         bypass_csp=True)
    sophie_context = browser.new_context(base_url=portal, viewport=DESKTOP, bypass_csp=True)
    try:
        thomas, sophie = thomas_context.new_page(), sophie_context.new_page()
        thomas_home, sophie_home = log_in(thomas, "famille05-2"), log_in(sophie, "famille05")
        assert thomas_home != sophie_home
        expect(thomas.get_by_text("Bienvenue THOMAS ROBERT")).to_be_visible()
        expect(sophie.get_by_text("Bienvenue SOPHIE ROBERT")).to_be_visible()
        assert "SOPHIE" not in thomas.locator("main").inner_text()
        problems = page_problems(thomas)
        his, hers = invoices_of(thomas, thomas_home), invoices_of(sophie, sophie_home)
        assert his and hers and not his & hers, (his, hers)
        problems += page_problems(thomas)
        assert "famille05@example.org" not in thomas.goto(thomas_home + "compte/").text()
        # The child's December, shared: the same days in both folders.
        for page, home in ((thomas, thomas_home), (sophie, sophie_home)):
            page.goto(home + "enfants/1/2014-12/")
            expect(page.get_by_role("heading", name="JULES ROBERT : Décembre 2014")).to_be_visible()
        # Own pages and PDF open, the other's folder 403 and their PDF 404, all at once.
        mine, theirs = sorted(his)[0], sorted(hers)[0]
        for page, own, other, own_pdf, other_pdf in ((thomas, thomas_home, sophie_home, mine, theirs),
                                                     (sophie, sophie_home, thomas_home, theirs, mine)):
            asked = {**{own + path: 200 for path in ("", "factures/", "releve/", "compte/", "enfants/")},
                     **{other + path: 403 for path in ("", "factures/", "releve/", "compte/", "enfants/")},
                     f"/api/invoices/{own_pdf}/pdf": 302, f"/api/invoices/{other_pdf}/pdf": 404}
            answers = dict(page.evaluate(PARALLEL, list(asked) * 2))
            assert answers == asked, {a: (answers.get(a), s) for a, s in asked.items() if answers.get(a) != s}
        assert not problems, "\n".join(problems)
    finally:
        thomas_context.close()
        sophie_context.close()


def test_without_javascript_the_statement_years_stay_in_his_folder(browser, portal):
    context = browser.new_context(base_url=portal, viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        home = log_in(page, "famille05-2")
        expect(page.get_by_text("Bienvenue THOMAS ROBERT")).to_be_visible()
        page.goto(home + "releve/")
        page.get_by_label("Année scolaire", exact=True).select_option("2014-2015")
        page.get_by_role("button", name="Afficher").click()
        assert page.url == f"{portal}{home}releve/2014-2015/"
        statement = page.locator("main").inner_text()
        assert "Facture" in statement and "SOPHIE" not in statement
    finally:
        context.close()
