"""A parent books from the child's month page, with JavaScript on and off.

Real headless Chromium against `portail serve --demo` at the guide's date (see
conftest.py): from the dashboard, « CONNIE », then December 2014; two canteen days are
checked and sent; the page comes back with their ✓ and words, and « Votre dernière
demande » says what became of each day.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
MONTH_PATH = re.compile(r"/famille/[0-9a-f]{32}/enfants/1/(\d{4}-\d{2})/(#resultat)?$")


def open_december(page) -> None:
    """Logs in as the guide's family, clicks « CONNIE », then the next month."""
    log_in(page, "ztest")
    page.get_by_role("link", name="CONNIE").click()
    expect(page).to_have_url(MONTH_PATH)
    assert MONTH_PATH.search(page.url).group(1) == "2014-11"  # the clock's month
    page.get_by_role("link", name="Décembre 2014").click()
    expect(page.get_by_role("region", name="Décembre 2014 – CONNIE")).to_be_visible()


def day_cell(page, label: str):
    """The day's line (a cell of the grid on a wide screen) holding the control of that label."""
    return page.locator(".jours ul > li").filter(has=page.get_by_label(label, exact=True))


def send(page, javascript: bool, form_button: str = "Envoyer ma demande") -> None:
    page.get_by_role("button", name=form_button).click()
    # The form posts as without script: the page comes back at its outcomes
    # (« Votre dernière demande »), which calendrier.js gives the focus.
    expect(page).to_have_url(re.compile(r"#resultat$"))
    if javascript:
        expect(page.locator("#resultat")).to_be_focused()


@JAVASCRIPT
def test_two_canteen_days_booked_from_the_month_page(new_context, javascript):
    days = ("jeudi 11 décembre 2014", "vendredi 12 décembre 2014") if javascript else (
        "lundi 15 décembre 2014", "mardi 16 décembre 2014")
    page = new_context(javascript=javascript).new_page()
    open_december(page)
    # Nothing checked: the function refuses the request whole and the page says so.
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("alert").filter(has_text="au moins un jour")).to_be_visible()
    for day in days:
        page.get_by_label(f"Réserver RESTAURATION le {day}", exact=True).check()
    send(page, javascript)
    result = page.locator("#resultat")
    for day in days:
        # The new state (its class draws the ✓), its words, and the control that now cancels the day.
        cell = day_cell(page, f"Annuler RESTAURATION le {day}")
        expect(cell).to_have_class(re.compile(r"\bjour-reserve\b"))
        expect(cell).to_contain_text("réservé")
        expect(result).to_contain_text(f"{day}, RESTAURATION : Réservation validée.")
    expect(page.get_by_label(f"Réserver RESTAURATION le {days[0]}", exact=True)).to_have_count(0)


def test_a_day_booked_meanwhile_in_another_tab_is_refused_with_its_reason(new_context):
    context = new_context()
    stale = context.new_page()
    open_december(stale)
    other = context.new_page()
    other.goto(stale.url)
    other.get_by_label("Réserver RESTAURATION le jeudi 18 décembre 2014", exact=True).check()
    send(other, javascript=True)
    # The first tab still offers the day: the function refuses it, saying why.
    stale.get_by_label("Réserver RESTAURATION le jeudi 18 décembre 2014", exact=True).check()
    stale.get_by_label("Réserver RESTAURATION le vendredi 19 décembre 2014", exact=True).check()
    stale.get_by_role("button", name="Envoyer ma demande").click()
    expect(stale).to_have_url(re.compile(r"#resultat$"))
    result = stale.locator("#resultat")
    expect(result).to_contain_text("(1 jour refusé sur 2)")
    expect(result).to_contain_text("jeudi 18 décembre 2014, RESTAURATION : refusée. "
                                   "Ce jour est déjà réservé : la demande n'est pas enregistrée deux fois.")
    expect(result).to_contain_text("vendredi 19 décembre 2014, RESTAURATION : Réservation validée.")


def test_a_week_pattern_with_javascript(new_context):
    page = new_context().new_page()
    open_december(page)
    page.get_by_label("mardi", exact=True).check()
    page.get_by_label("GARDERIE MATIN", exact=True).check()
    expect(page.get_by_label("Du", exact=True)).to_have_value("2014-12-05")
    expect(page.get_by_label("Au", exact=True)).to_have_value("2014-12-19")
    send(page, javascript=True, form_button="Réserver ces jours")
    for day in ("mardi 9 décembre 2014", "mardi 16 décembre 2014"):
        expect(day_cell(page, f"Annuler GARDERIE MATIN le {day}")).to_have_class(re.compile(r"\bjour-reserve\b"))


def test_the_month_page_at_360_px_without_console_error(new_context):
    page = new_context().new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 360, "height": 740})
    open_december(page)
    page.wait_for_load_state("networkidle")
    # The frozen portal clock (28 November, noon) is the script's clock too: Friday 5
    # December is still open to bookings, although the browser's own clock is years later.
    expect(page.get_by_label("Réserver RESTAURATION le vendredi 5 décembre 2014", exact=True)).to_be_enabled()
    widths = page.evaluate("""() => {
        const region = document.querySelector(".mois");
        return {page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                region: region.clientWidth, days: region.scrollWidth};
    }""")
    assert widths["page"] <= widths["viewport"] == 360, widths  # the page never scrolls sideways
    assert widths["days"] <= widths["region"], widths  # a list of days: nothing hides on the right
    assert errors == [], "\n".join(errors)


def test_an_absence_declared_after_the_deadline(new_context):
    """Today's canteen is past its deadline: its control declares an absence, not a cancellation.
    The day before was already an absence, so the function says this one is not billed
    once a certificate is given (docs/billing.md, absences)."""
    page = new_context().new_page()
    log_in(page, "ztest")
    page.get_by_role("link", name="CONNIE").click()
    expect(page).to_have_url(MONTH_PATH)
    today = "vendredi 28 novembre 2014"
    expect(page.get_by_label(f"Annuler RESTAURATION le {today}", exact=True)).to_have_count(0)
    page.get_by_label(f"Déclarer une absence : RESTAURATION le {today}", exact=True).check()
    send(page, javascript=True)
    expect(page.locator("#resultat")).to_contain_text(
        f"{today}, RESTAURATION : Absence enregistrée : ce jour n'est pas facturé sur présentation "
        "d'un certificat médical.")
    # Nothing more to do on that day: its box is gone.
    expect(page.get_by_label(f"Déclarer une absence : RESTAURATION le {today}", exact=True)).to_have_count(0)
