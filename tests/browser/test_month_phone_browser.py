"""A parent on a phone books a week, cancels and declares an absence from a child's month page.

Real headless Chromium against the shared demo portal (`family_portal`, 28 November 2014).
At 360 × 800 with touch: the month is a list of days whose every control is at least
44 × 44 px, the first one within the first screen, nothing scrolls sideways and the
family menu is one folded line; each action is its own control, tapped (Playwright's
`tap`), with JavaScript and without. axe-core finds nothing at 360 nor at 1280 px, where
the month is the guide's grid. Only famille22–famille24 are changed here (docs/family-pages.md).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import DESKTOP, page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

PHONE = {"width": 360, "height": 800}
CONTROL = ".jours label"


def phone(browser, portal, *, javascript: bool):
    context = browser.new_context(base_url=portal, viewport=PHONE, has_touch=True, is_mobile=True,
                                  java_script_enabled=javascript, bypass_csp=javascript)
    context.set_default_timeout(15_000)
    return context


def month(page, login: str, key: str) -> None:
    home = log_in(page, login)
    page.goto(f"{home}enfants/1/{key}/")


def control(page, value: str):
    return page.locator(f'label:has(input[value="{value}"])')


def send(page, javascript: bool) -> None:
    page.get_by_role("button", name="Envoyer ma demande").tap()
    expect(page).to_have_url(re.compile(r"#resultat$"))
    if javascript:
        expect(page.locator("#resultat")).to_be_focused()


def day_row(page, date: str, service: str):
    """The line of a day's service: the li whose control or words belong to it."""
    return page.locator(".jours ul > li").filter(has=page.locator(f'input[value^="{date}|{service}|"]'))


@pytest.mark.parametrize(("login", "javascript"), [("famille23", True), ("famille24", False)], ids=["js", "sans-js"])
def test_book_a_week_cancel_a_day_and_declare_an_absence_by_touch_at_360_px(browser, family_portal, login, javascript):
    context = phone(browser, family_portal, javascript=javascript)
    page = context.new_page()
    try:
        month(page, login, "2014-12")
        # The page fits the phone; every control is a thumb's target; the first is on the first screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        boxes = [c.bounding_box() for c in page.locator(CONTROL).all()]
        assert boxes, "no booking control"
        small = [b for b in boxes if b["width"] < 44 or b["height"] < 44]
        assert not small, small
        assert page.locator(CONTROL).first.bounding_box()["y"] + 44 <= 800
        # A day past its deadline says so in words.
        expect(page.locator(".jours").get_by_text(re.compile(r"réservations closes le \w+ \d+")).first).to_be_visible()
        # The menu: one folded line, opened by a tap, without script too.
        menu = page.get_by_role("navigation", name="Menu de la famille")
        assert menu.bounding_box()["height"] <= 60
        expect(page.get_by_role("link", name="Mon compte")).to_be_hidden()
        menu.get_by_text("Menu", exact=True).tap()
        expect(page.get_by_role("link", name="Mon compte")).to_be_visible()
        menu.get_by_text("Menu", exact=True).tap()

        # Book a week: « Réserver » on the first five days offered for one service, a tap each.
        offered = [c.get_attribute("value") for c in page.locator('.jours input[value$="|reserve"]').all()]
        date, service, _ = offered[0].split("|")
        week = [value for value in offered if value.split("|")[1] == service][:5]
        assert len(week) == 5, week
        for value in week:
            reserve = control(page, value)
            expect(reserve).to_contain_text("Réserver")
            reserve.tap()
            expect(reserve.locator("input")).to_be_checked()
        send(page, javascript)
        for value in week:
            row = day_row(page, value.split("|")[0], service)
            expect(row).to_have_class(re.compile(r"\bjour-reserve\b"))
            expect(row.locator(".etat")).to_have_text("réservé")
        expect(page.locator("#resultat")).to_contain_text("Réservation validée.")
        # Cancel it: a control of its own, « Annuler ».
        cancel = control(page, f"{date}|{service}|cancel")
        expect(cancel).to_contain_text("Annuler")
        expect(cancel.locator("input")).to_have_accessible_name(re.compile(r"^Annuler .+ le \w+ \d+"))
        cancel.tap()
        send(page, javascript)
        expect(day_row(page, date, service).locator(".etat")).to_have_text("annulé")
        expect(page.locator("#resultat")).to_contain_text("Réservation annulée avant la date limite")

        # Declare an absence: this month's booked days past their deadline offer « Déclarer une absence ».
        month(page, login, "2014-11")
        absence = page.locator('.jours label:has(input[value$="|absence"])').first
        value = absence.locator("input").get_attribute("value")
        expect(absence).to_contain_text("Déclarer une absence")
        assert absence.bounding_box()["width"] >= 44 and absence.bounding_box()["height"] >= 44
        absence.tap()
        send(page, javascript)
        expect(page.locator("#resultat")).to_contain_text("Absence enregistrée")
        expect(control(page, value)).to_have_count(0)
        date, service, _ = value.split("|")
        expect(page.locator(".jours li.jour-absent").filter(has_text=service.replace("_", " ")).first).to_be_visible()
    finally:
        context.close()


def test_axe_core_and_the_grid_on_a_wide_screen(browser, family_portal):
    """The same page, read only (famille22): axe-core at 360 and 1280 px; from 60em the
    guide's grid, a column per day side by side, the service rows headed, the menu a
    plain menu."""
    context = phone(browser, family_portal, javascript=True)
    page = context.new_page()
    try:
        month(page, "famille22", "2014-12")
        assert page_problems(page) == []
        page.set_viewport_size(DESKTOP)
        tops = page.locator(".jours > li").evaluate_all("(days) => days.map((d) => d.getBoundingClientRect().top)")
        assert len(tops) == 31 and len(set(tops)) == 1  # one row of 31 columns
        expect(page.locator(".structures")).to_contain_text("GARDERIE MATIN")
        # The services' column heads the rows beside the days, not above them.
        services, days = (page.locator(s).bounding_box() for s in (".structures", ".jours"))
        assert services["y"] == days["y"] and services["x"] + services["width"] <= days["x"] + 1
        expect(page.get_by_role("link", name="Mon compte")).to_be_visible()  # no fold on a wide screen
        expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        # Each control still has its whole name; its sign is a 24 px square at least (WCAG 2.5.8).
        square = page.locator(CONTROL).first.bounding_box()
        assert square["width"] >= 24 and square["height"] >= 24
        expect(page.locator(f"{CONTROL} input").first).to_have_accessible_name(
            re.compile(r"^(Réserver|Annuler|Déclarer une absence :) GARDERIE (MATIN|SOIR) le \w+ \d+"))
    finally:
        context.close()
