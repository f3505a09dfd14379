"""An agent decides the demo's pending requests in bulk and opens the certificates to
review, in a real headless Chromium against `portail serve --demo` (conftest.py):
without JavaScript, through the forms; axe-core at 1280 and 360 px; nothing scrolls
sideways at 360 px (the list's table scrolls inside its own region)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import AXE, DESKTOP, PHONE, _axe_violations, _report

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _checked_axe_and_width(page) -> list[str]:
    """axe-core's violations at both widths, and a sideways scroll at 360 px, as French lines."""
    assert AXE.exists()
    reports = []
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        violations = _axe_violations(page)
        if violations:
            reports.append(_report(page.url, viewport["width"], violations))
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        reports.append(f"{page.url} défile horizontalement à 360 px ({width} px)")
    return reports


def test_an_agent_decides_pending_days_in_bulk_without_javascript(new_context, staff_login):
    page = new_context(javascript=False).new_page()
    staff_login(page, "agent")
    # The day page counts them and links to the list.
    summary = page.get_by_role("region", name="Demandes en attente")
    expect(summary).to_contain_text(re.compile(r"\d+ jours? en attente de décision"))
    summary.get_by_role("link", name="Voir les demandes").click()
    expect(page.get_by_role("heading", level=1, name="Demandes en attente")).to_be_visible()
    boxes = page.locator('input[name="item"]')
    count = boxes.count()
    assert count >= 2
    first, second = boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")
    # Each box has its visible label: the child, the service, the day.
    label = page.locator(f'label[for="{boxes.nth(0).get_attribute("id")}"]').inner_text()
    assert re.search(r"\(famille \d+\) – .+, \w+ \d+ \w+ 20\d\d$", label), label
    # Refusing without a reason: a French refusal, nothing decided.
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Refuser les jours cochés").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez le motif du refus")
    page.go_back()
    page.goto("/gestion/demandes/")
    expect(page.locator('input[name="item"]')).to_have_count(count)
    page.locator(f'input[value="{first}"]').check()
    page.locator(f'input[value="{second}"]').check()
    page.get_by_label("Motif du refus").fill("Effectif d'encadrement insuffisant")
    page.get_by_role("button", name="Refuser les jours cochés").click()
    expect(page.get_by_role("heading", level=1, name="Décision enregistrée")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("2 jours refusés")
    expect(page.locator(".resultats li")).to_have_count(2)
    expect(page.locator(".resultats")).to_contain_text("Refusée par le service enfance : Effectif d'encadrement")
    page.get_by_role("link", name="Retour à la liste des demandes").click()
    expect(page.locator('input[name="item"]')).to_have_count(count - 2)
    assert page.locator(f'input[value="{first}"]').count() == 0
    # « Tout cocher » works without JavaScript; accepting all never exceeds a capacity.
    page.get_by_role("link", name="Tout cocher").click()
    expect(page.locator('input[name="item"]:checked')).to_have_count(count - 2)
    page.get_by_role("button", name="Accepter les jours cochés").click()
    expect(page.get_by_role("heading", level=1, name="Décision enregistrée")).to_be_visible()
    expect(page.locator(".resultats li")).to_have_count(count - 2)
    expect(page.locator(".resultats")).to_contain_text("Complet : reste en attente")  # the demo's full day


def test_the_pages_pass_axe_core_at_1280_and_360_px(browser, portal, staff_login):
    context = browser.new_context(base_url=portal, bypass_csp=True, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        staff_login(page, "agent")
        reports = []
        for address in ("/gestion/", "/gestion/demandes/", "/gestion/demandes/?cocher=tout",
                        "/gestion/certificats/"):
            page.goto(address)
            reports += _checked_axe_and_width(page)
        page.goto("/gestion/demandes/")
        # The decision's answer too (a refusal of one day).
        page.locator('input[name="item"]').first.check()
        page.get_by_label("Motif du refus").fill("Complet")
        page.get_by_role("button", name="Refuser les jours cochés").click()
        expect(page.get_by_role("heading", level=1, name="Décision enregistrée")).to_be_visible()
        reports += _checked_axe_and_width(page)
        assert not reports, "\n".join(reports)
    finally:
        context.close()
