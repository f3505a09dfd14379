"""« Ajouter à mon agenda » and « Rappels par courriel » on « Mon compte »
(docs/family-pages.md « The calendar feed », « Reminders »), with JavaScript and without.

Real headless Chromium against the shared demo portal at the guide's date. Only famille36
(CLARA, child 1, every service) and famille37 are changed: the demo gives them no day in
December 2014. The feed is fetched as a calendar application would: no cookie at all.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import page_problems
from tests.browser.test_login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]

FEED_PATH = re.compile(r"^/agenda/[0-9a-f]{32}\.ics$")
PHONE = {"viewport": {"width": 360, "height": 800}, "has_touch": True, "is_mobile": True}
DAYS = ("lundi 15 décembre 2014", "mardi 16 décembre 2014")


def feed(new_context, url: str):
    """The feed at `url` as a calendar application fetches it (a context without cookies):
    (status, its December 2014 events {(date, summary)} parsed by icalendar, or None). The
    demo's October and November days are in it too: December is the month changed here."""
    from icalendar import Calendar

    path = urlsplit(url).path
    assert FEED_PATH.match(path), url
    answer = new_context().request.get(path)
    if answer.status != 200:
        return answer.status, None
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(answer.body())
    events = {(e.decoded("DTSTART").isoformat(), str(e["SUMMARY"])) for e in calendar.walk("VEVENT")}
    assert events, "the demo's earlier days are in every feed"
    return 200, {(day, summary) for day, summary in events if day.startswith("2014-12")}


def address(page) -> str:
    field = page.get_by_label(re.compile("^Adresse de mon agenda"))
    url = field.input_value()
    webcal = page.get_by_role("link", name="Ouvrir dans mon application d'agenda").get_attribute("href")
    assert webcal == "webcal://" + url.split("://", 1)[1]
    return url


def test_a_parent_subscribes_from_the_month_page_sees_december_and_revokes(browser, portal, new_context):
    # On a phone; the CSP bypassed for axe-core's injected script (the page has no script of its own).
    context = browser.new_context(base_url=portal, bypass_csp=True, **PHONE)
    try:
        subscribe_book_and_revoke(context.new_page(), new_context)
    finally:
        context.close()


def subscribe_book_and_revoke(page, new_context) -> None:
    home = log_in(page, "famille36")
    page.goto(home + "enfants/1/2014-12/")
    # The month page leads to « Mon compte », where the feed is made.
    page.get_by_role("link", name="Ajouter à mon agenda").click()
    expect(page).to_have_url(re.compile(r"/compte/#agenda$"))
    page.get_by_role("button", name="Ajouter à mon agenda").click()
    expect(page).to_have_url(re.compile(r"/compte/#agenda-ajoute$"))
    expect(page.locator("#agenda-ajoute")).to_be_visible()
    url = address(page)
    assert feed(new_context, url) == (200, set())  # nothing booked yet
    assert page_problems(page) == []

    # December booked on the month page: the feed follows at once.
    page.goto(home + "enfants/1/2014-12/")
    for day in DAYS:
        page.get_by_label(f"Réserver RESTAURATION le {day}", exact=True).tap()
    page.get_by_label(f"Réserver GARDERIE SOIR le {DAYS[0]}", exact=True).tap()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page).to_have_url(re.compile(r"#resultat$"))  # the page again, at its outcomes
    assert feed(new_context, url) == (200, {("2014-12-15", "CLARA : GARDERIE SOIR, RESTAURATION"),
                                            ("2014-12-16", "CLARA : RESTAURATION")})

    # Revoked: a new address with the same days; the old one answers 404.
    page.goto(home + "compte/")
    page.get_by_role("button", name="Changer l'adresse de mon agenda").click()
    expect(page.locator("#agenda-renouvele")).to_be_visible()
    new_url = address(page)
    assert new_url != url
    assert feed(new_context, url) == (404, None)
    assert feed(new_context, new_url)[1] == {("2014-12-15", "CLARA : GARDERIE SOIR, RESTAURATION"),
                                             ("2014-12-16", "CLARA : RESTAURATION")}


def test_without_javascript_a_parent_subscribes_revokes_and_asks_for_reminders(new_context):
    page = new_context(javascript=False).new_page()
    home = log_in(page, "famille37")
    page.goto(home + "compte/")
    reminders = page.get_by_label(re.compile("^Me prévenir par courriel"))
    expect(reminders).not_to_be_checked()
    reminders.check()
    page.get_by_role("button", name="Enregistrer mes rappels").click()
    expect(page).to_have_url(re.compile(r"/compte/#rappels-actives$"))
    expect(page.locator("#rappels-actives")).to_be_visible()
    expect(page.get_by_label(re.compile("^Me prévenir par courriel"))).to_be_checked()

    page.get_by_role("button", name="Ajouter à mon agenda").click()
    expect(page).to_have_url(re.compile(r"/compte/#agenda-ajoute$"))
    url = address(page)
    assert feed(new_context, url) == (200, set())  # famille37 has booked nothing in December
    page.get_by_role("button", name="Changer l'adresse de mon agenda").click()
    expect(page).to_have_url(re.compile(r"/compte/#agenda-renouvele$"))
    assert feed(new_context, url) == (404, None)
    assert feed(new_context, address(page)) == (200, set())
    # Unticked: off again; the choice is kept on the page.
    page.get_by_label(re.compile("^Me prévenir par courriel")).uncheck()
    page.get_by_role("button", name="Enregistrer mes rappels").click()
    expect(page.locator("#rappels-desactives")).to_be_visible()
    expect(page.get_by_label(re.compile("^Me prévenir par courriel"))).not_to_be_checked()
