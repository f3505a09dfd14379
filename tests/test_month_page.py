"""A child's month page: the guide's December 2014 grid, its marks and
their words, the booking form's boxes decided by the bookings rules, the last request,
the week pattern, and the bookings route re-rendering exactly the pages it changed.

The guide's clock: Friday 28 November 2014, 12:00 in Paris (`frozen_clock`)."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlencode

import boto3
import pytest
from chalicelib import sessions
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings
from chalicelib.formatting import french_day
from chalicelib.pages import FamilyPages, pages_showing_days, shown_months

from tests.conftest import GUIDE_NOW, ROOT
from tests.test_accounts_api import ORIGIN, PASSWORD_A, post, session_cookie

ALL = ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]
DECEMBER = "enfants/1/2014-12/index.html"
MONTH_PATHS = {f"enfants/1/{m}/index.html" for m in ("2014-10", "2014-11", "2014-12", "2015-01")}
# The pages of one file each, and the statement and inbox of a family without operations
# nor messages (chalicelib.pages).
OTHER_PAGES = {"index.html", "compte/index.html", "enfants/index.html", "factures/index.html",
               "reglements/index.html", "demandes/index.html", "releve/index.html", "releve/2014-2015/index.html",
               "messages/index.html", "documents/index.html"}
REQUESTS = "demandes/index.html"


@pytest.fixture
def pages(storage, commune):
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    # The portal's clock is frozen in these tests, as `portail serve --now` freezes it:
    # the edge that builds the exporter says so (app.family_pages: clock.is_frozen()).
    return FamilyPages(s3, "pages", commune, "secret-de-test", frozen=True)


def submit(storage, commune, items, now=GUIDE_NOW, family="100"):
    """Books through the real rules and writes (as the route does)."""
    results, _ = Bookings(storage, commune).submit(
        family, "1", 1, [Item(date.fromisoformat(d), s, a) for d, s, a in items], now)
    return results


def read(pages, key, path=DECEMBER) -> str:
    return pages.s3.get_object(Bucket="pages", Key=f"famille/{key}/{path}")["Body"].read().decode()


class Grid(HTMLParser):
    """The month page's days as data (famille/mois.html: one markup, a list of days on a
    phone and the grid from 60em): its title, each day's heading, and per day and
    service its class, state in words (`text`), controls (`inputs`) and each control's
    whole label (`labels`, by the input's value). A day said in one sentence (a weekend,
    a holiday, reservations closed) gives that sentence for every service; services of a
    day saying the same (one line, `.groupe`: « GARDERIE SOIR, RESTAURATION : fermé »,
    their cells empty signs for the grid) give that line's words."""

    def __init__(self, html: str):
        super().__init__()
        self.caption = ""
        self.columns: list[str] = []
        self.services: list[str] = []
        self.days: list[dict] = []
        self.labels: dict[str, str] = {}
        self._stack: list[tuple[str, dict]] = []
        self._text: list[str] = []
        self._cell: dict | None = None
        self._label: tuple[dict, list[str]] | None = None
        self._in: str = ""
        self._done = False
        self._in_days = False  # inside ol.jours: its li are the days, their ul's li the cells
        self._ul_depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if self._done:
            return
        if a.get("id") == "legende-calendrier":
            self._in, self._text = "caption", []
        elif tag == "li" and "data-service" in a:
            self._in, self._text = "service", []
        elif tag == "ol" and "jours" in classes:
            self._in_days = True
        elif tag == "ul" and self._in_days:
            self._ul_depth += 1
        elif tag == "li" and self._in_days and self._ul_depth == 0:
            self.days.append({"attrs": a, "cells": [], "whole": None, "groups": []})
        elif tag == "p" and "groupe" in classes and self.days:
            self._in, self._text = "group", []
        elif tag == "h3" and self.days and not self.days[-1]["cells"]:
            self._in, self._text = "head", []
        elif tag == "p" and self.days and "jour-entier" in self.days[-1]["attrs"].get("class", ""):
            self._in, self._text = "whole", []
            self.days[-1]["whole"] = {"attrs": a, "inputs": []}
        elif tag == "li" and self.days and self._in == "":
            self._cell = {"attrs": a, "inputs": [], "service": "", "text": "",
                          "deadline": self.days[-1]["attrs"].get("data-deadline")}
            self.days[-1]["cells"].append(self._cell)
        elif tag == "b" and self._cell is not None:
            self._in, self._text = "name", []
        elif tag == "span" and "etat" in classes and self._cell is not None:
            self._in, self._text = "words", []
        elif tag == "label" and self._cell is not None:
            self._label = ({}, [])
        elif tag == "input" and self._cell is not None:
            self._cell["inputs"].append(a)
            if self._label:
                self._label[0].update(a)

    def handle_endtag(self, tag):
        text = "".join(self._text).strip()
        if self._in == "caption" and tag == "p":
            self.caption, self._in = text, ""
        elif self._in == "service" and tag == "li":
            self.services.append(text.split("  ")[0])
            self._in = ""
        elif self._in == "head" and tag == "h3":
            self.columns.append(text)
            self._in = ""
        elif self._in == "group" and tag == "p":
            services, words = text.split(" : ", 1)
            self.days[-1]["groups"].append((services.split(", "), words))
            self._in = ""
        elif self._in == "whole" and tag == "p":
            self.days[-1]["whole"]["text"] = text
            self._in = ""
        elif self._in == "name" and tag == "b":
            self._cell["service"], self._in = text, ""
        elif self._in == "words" and tag == "span":
            self._cell["text"], self._in = text, ""
        elif tag == "label" and self._label:
            self.labels[self._label[0].get("value", "")] = "".join(self._label[1]).strip()
            self._label = None
        elif tag == "li" and self._cell is not None and self._in == "":
            self._cell = None
        elif tag == "ul" and self._in_days:
            self._ul_depth -= 1
        elif tag == "ol":
            self._cell = None
            self._done = bool(self.days)

    def handle_data(self, data):
        if self._label:
            self._label[1].append(data)
        if self._in:
            self._text.append(data)

    def cell(self, label: str, day: int) -> dict:
        found = self.days[day - 1]
        if found["whole"] is not None:
            return found["whole"]
        for services, words in found["groups"]:
            if label in services:
                # Its cell: the sign only (its class), at the service's row.
                row = next(i for i, service in enumerate(self.services) if service.startswith(label + " "))
                return {**found["cells"][row], "service": label, "text": words}
        return next(c for c in found["cells"] if c["service"] == label)


def boxes(cell: dict) -> list[tuple[str, str | None]]:
    """(value, deadline) of a cell's controls: the control's own deadline, else its day's
    (said once on the day), none for an absence."""
    return [(i["value"], i.get("data-deadline") or (None if i["value"].endswith("|absence") else cell.get("deadline")))
            for i in cell["inputs"] if i.get("name") == "item"]


# --- the grid ---------------------------------------------------------------------------------

def test_the_december_2014_grid_as_in_the_guide(storage, commune, enrolled, pages):
    submit(storage, commune, [("2014-12-05", "GARDERIE_MATIN", "reserve"), ("2014-12-09", "GARDERIE_MIDI", "reserve")])
    pages.export(storage, "100", GUIDE_NOW)
    html = read(pages, enrolled["A"]["page_key"])
    grid = Grid(html)
    assert grid.caption == "Décembre 2014 – ANNA"
    # A day's heading: its name's start (the grid's « Lu »), the rest (shown on a phone), the day.
    assert len(grid.columns) == 31
    assert grid.columns[0] == "Lundi 1" and grid.columns[4] == "Vendredi 5" and grid.columns[-1] == "Mercredi 31"
    assert "<h3>Lu<span>ndi</span> 1</h3>" in html
    assert grid.services == ["GARDERIE MATIN ALPHA ANNE", "GARDERIE MIDI ALPHA ANNE", "GARDERIE SOIR ALPHA ANNE",
                             "RESTAURATION ALPHA ANNE"]
    for label in ("GARDERIE MATIN", "RESTAURATION"):
        assert grid.cell(label, 25)["text"] == "férié"  # a whole day said once
        assert grid.cell(label, 22)["text"] == "vacances"
        assert grid.cell(label, 6)["text"] == "fermé"  # a Saturday
    assert "jour-ferie" in grid.cell("RESTAURATION", 25)["attrs"]["class"]
    assert grid.cell("RESTAURATION", 10)["text"] == "fermé"  # no canteen on Wednesdays
    # The guide's ✓ of Friday 5 December: its class carries the sign (calendrier.css), the words are there.
    validated = grid.cell("GARDERIE MATIN", 5)
    assert validated["text"] == "réservé" and "jour-reserve" in validated["attrs"]["class"]
    # Still before its deadline (Friday 28 November 23:59): it can be cancelled, by a control of its own.
    assert boxes(validated) == [("2014-12-05|GARDERIE_MATIN|cancel", "2014-11-28T23:59:00+01:00")]
    assert grid.labels["2014-12-05|GARDERIE_MATIN|cancel"] == "Annuler GARDERIE MATIN le vendredi 5 décembre 2014"
    assert '<label><input type="checkbox" name="item" value="2014-12-05|GARDERIE_MATIN|cancel"' in html
    assert "<span>Annuler<span> GARDERIE MATIN le vendredi 5 décembre 2014</span></span>" in html
    # A free day before its deadline can be reserved; Monday 1 December (deadline Monday
    # 24 November) cannot and says so, nor a closed day.
    assert boxes(grid.cell("RESTAURATION", 5)) == [("2014-12-05|RESTAURATION|reserve", "2014-11-28T23:59:00+01:00")]
    assert grid.labels["2014-12-05|RESTAURATION|reserve"] == "Réserver RESTAURATION le vendredi 5 décembre 2014"
    assert boxes(grid.cell("RESTAURATION", 1)) == []
    closed = grid.cell("RESTAURATION", 1)
    assert closed["text"] == "réservations closes le lundi 24 novembre" and "jour-clos" in closed["attrs"]["class"]
    assert boxes(grid.cell("RESTAURATION", 25)) == [] and boxes(grid.cell("RESTAURATION", 22)) == []
    assert boxes(grid.cell("GARDERIE SOIR", 10)) == []
    # Every control has a label that says the action, the service and the day; its
    # visible verb is the label's start (WCAG 2.5.3).
    values = [value for day in grid.days for c in day["cells"] for value, _ in boxes(c)]
    assert values and set(values) == set(grid.labels)
    verbs = {"reserve": "Réserver ", "cancel": "Annuler ", "absence": "Déclarer une absence : "}
    for value, label in grid.labels.items():
        day, service, action = value.split("|")
        assert label.startswith(verbs[action]) and f"le {french_day(date.fromisoformat(day))}" in label


def test_every_state_has_a_sign_and_words_and_the_legend_lists_them(storage, commune, enrolled, pages):
    for day, status, message in [("2014-12-08", "validated", ""), ("2014-12-09", "pending", "Service complet."),
                                 ("2014-12-11", "refused", "Refusée par le service enfance : sortie scolaire."),
                                 ("2014-12-12", "absent", ""), ("2014-12-15", "cancelled", "")]:
        storage.put({"pk": "FAMILY#100", "sk": f"DAY#1#{day}#RESTAURATION", "kind": "day", "child_id": "1",
                     "date": day, "service": "RESTAURATION", "status": status, "message": message,
                     "responsable_rank": 1})
    pages.export(storage, "100", GUIDE_NOW)
    html = read(pages, enrolled["A"]["page_key"])
    grid = Grid(html)
    texts = {day: (grid.cell("RESTAURATION", day)["text"], grid.cell("RESTAURATION", day)["attrs"]["class"])
             for day in (8, 9, 11, 12, 15)}
    assert texts == {8: ("réservé", "jour-reserve"), 9: ("en attente", "jour-attente"), 11: ("refusé", "jour-refuse"),
                     12: ("absent", "jour-absent"), 15: ("annulé", "jour-annule")}
    # The sign of each class, drawn by the style sheet before the words (and silent).
    css = (ROOT / "site" / "theme" / "static" / "css" / "calendrier.css").read_text()
    for sign, css_class in [("✓", "jour-reserve"), ("…", "jour-attente"), ("✗", "jour-refuse"), ("A", "jour-absent"),
                            ("○", "jour-annule"), ("⊘", "jour-clos")]:
        assert f'.jours .{css_class}::before {{ content: "{sign}" / ""; }}' in css
    # The refusal's reason, under the grid.
    assert "<strong>jeudi 11 décembre 2014</strong>, RESTAURATION : Refusée par le service enfance : sortie scolaire." in html
    # What each can become: validated and pending are cancelled on time; a refused or
    # cancelled day can be reserved again (a refused one goes back to staff); an absence is final.
    assert [v for v, _ in boxes(grid.cell("RESTAURATION", 8))] == ["2014-12-08|RESTAURATION|cancel"]
    assert [v for v, _ in boxes(grid.cell("RESTAURATION", 9))] == ["2014-12-09|RESTAURATION|cancel"]
    assert [v for v, _ in boxes(grid.cell("RESTAURATION", 11))] == ["2014-12-11|RESTAURATION|reserve"]
    assert boxes(grid.cell("RESTAURATION", 12)) == []
    assert [v for v, _ in boxes(grid.cell("RESTAURATION", 15))] == ["2014-12-15|RESTAURATION|reserve"]
    legend = html[html.index('id="titre-legende"'):html.index('id="titre-rappel"')]
    for sign, words in [("✓", "réservé"), ("…", "en attente"), ("✗", "refusé"), ("A", "absent"), ("○", "annulé"),
                        ("F", "férié"), ("P", "vacances"), ("–", "fermé"), ("⊘", "réservations closes le …"),
                        ("+", "Réserver"), ("−", "Annuler"), ("!", "Déclarer une absence")]:
        assert re.search(rf">{re.escape(sign)}</span> <strong>{words}</strong> : ", legend), sign
    assert "date limite passée, plus de réservation en ligne" in legend


def test_a_day_staff_refused_says_that_asking_again_goes_to_staff(storage, commune, enrolled, pages):
    storage.put({"pk": "FAMILY#100", "sk": "DAY#1#2014-12-11#GARDERIE_SOIR", "kind": "day", "child_id": "1",
                 "date": "2014-12-11", "service": "GARDERIE_SOIR", "status": "refused", "reason": "staff_refused",
                 "message": "Refusée par le service enfance : effectif d'encadrement insuffisant ce jour-là.",
                 "responsable_rank": 1})
    pages.export(storage, "100", GUIDE_NOW)
    html = read(pages, enrolled["A"]["page_key"])
    grid = Grid(html)
    cell = grid.cell("GARDERIE SOIR", 11)
    assert cell["text"] == "refusé"
    assert [v for v, _ in boxes(cell)] == ["2014-12-11|GARDERIE_SOIR|reserve"]
    # The control says what it does: no « Réserver » that would seem to book the day at once.
    assert "<span>Redemander<span" in html
    assert grid.labels["2014-12-11|GARDERIE_SOIR|reserve"] == (
        "Redemander GARDERIE SOIR le jeudi 11 décembre 2014 : le service enfance examinera la demande, "
        "elle ne sera pas validée d'office")
    # And in words under the grid, for everyone (not a colour, not only a tooltip).
    start = html.index('id="titre-refus"')
    refusals = unescape(re.sub(r"\s+", " ", html[start:html.index("</ul>", start)]))
    assert ("<strong>jeudi 11 décembre 2014</strong>, GARDERIE SOIR : Refusée par le service enfance : effectif "
            "d'encadrement insuffisant ce jour-là. Vous pouvez redemander ce jour en cochant « Redemander » : le service "
            "enfance examinera la demande, elle ne sera pas validée d'office (il reste « en attente » jusqu'à sa "
            "décision).") in refusals
    # Asked again: waiting for staff, said as such.
    (result,) = submit(storage, commune, [("2014-12-11", "GARDERIE_SOIR", "reserve")])
    assert (result["status"], result["reason"]) == ("pending", "staff_review")
    pages.export(storage, "100", GUIDE_NOW)
    html = read(pages, enrolled["A"]["page_key"])
    cell = Grid(html).cell("GARDERIE SOIR", 11)
    assert cell["text"] == "en attente" and cell["attrs"]["class"] == "jour-attente"
    assert 'id="titre-refus"' not in html


def test_absences_after_the_deadline_within_31_days(storage, commune, enrolled, pages):
    # Booked in time long ago; now (28 November) their deadlines have passed.
    submit(storage, commune, [("2014-10-16", "RESTAURATION", "reserve"), ("2014-11-03", "RESTAURATION", "reserve")],
           now=datetime.fromisoformat("2014-10-01T10:00:00+02:00"))
    submit(storage, commune, [("2014-12-01", "RESTAURATION", "reserve")],
           now=datetime.fromisoformat("2014-11-20T10:00:00+01:00"))
    pages.export(storage, "100", GUIDE_NOW)
    key = enrolled["A"]["page_key"]
    december = Grid(read(pages, key))
    # Monday 1 December, validated, deadline passed: an absence, which has no deadline.
    assert boxes(december.cell("RESTAURATION", 1)) == [("2014-12-01|RESTAURATION|absence", None)]
    assert december.labels["2014-12-01|RESTAURATION|absence"] == \
        "Déclarer une absence : RESTAURATION le lundi 1er décembre 2014"
    november = Grid(read(pages, key, "enfants/1/2014-11/index.html"))
    assert [v for v, _ in boxes(november.cell("RESTAURATION", 3))] == ["2014-11-03|RESTAURATION|absence"]
    october = Grid(read(pages, key, "enfants/1/2014-10/index.html"))
    assert october.cell("RESTAURATION", 16)["text"] == "réservé"
    assert boxes(october.cell("RESTAURATION", 16)) == []  # 43 days ago: too old for an absence


def test_the_page_carries_the_token_the_path_back_and_no_inline_script_or_style(storage, enrolled, pages):
    pages.export(storage, "100", GUIDE_NOW)
    key = enrolled["A"]["page_key"]
    html = read(pages, key)
    forms = re.findall(r"<form ([^>]*)>(.*?)</form>", html, re.S)
    booking = [body for attrs, body in forms if 'action="/api/bookings"' in attrs]
    assert len(booking) == 2  # the grid and the week pattern
    for body in booking:
        assert f'name="csrf_token" value="{sessions.csrf_token("secret-de-test", key)}"' in body
        assert '<input type="hidden" name="child_id" value="1">' in body
        assert f'<input type="hidden" name="back" value="/famille/{key}/enfants/1/2014-12/">' in body
    assert 'data-booking="jours"' in html and 'data-booking="semaine"' in html
    # The portal's clock is frozen here (as in a demo): the page gives it to the script.
    assert 'data-horloge="2014-11-28T12:00:00+01:00"' in html
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert not re.search(r"<[^>]*\son[a-z]+=", html)  # no inline event handler
    # calendrier.js (which imports famille.js) only: the logout is a plain post here.
    assert '<script type="module" src="/theme/js/calendrier.js"></script>' in html and "portail.js" not in html
    # The guide's reminder beside the grid.
    assert "au plus tard 5 jours (<strong>hors week-end</strong>) avant la date souhaitée, à 23 h 59" in html
    assert "le 1<sup>er</sup> jour est facturé" in html
    # The paper plannings' deadline said once, as a date (not « avant le 20 » then the date).
    assert "déposés au plus tard le jeudi 20 novembre 2014 pour décembre 2014." in html
    assert "avant le 20" not in html


def test_the_frozen_clock_is_told_by_the_exporter_not_read_while_rendering(storage, enrolled, commune,
                                                                          monkeypatch):
    """Rendering reads no environment variable: whether the page gives the script the
    clock's instant is the exporter's `frozen` flag, whatever PORTAIL_NOW says then."""
    from chalicelib.clock import FROZEN_ENV

    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    key = enrolled["A"]["page_key"]
    assert os.environ.get(FROZEN_ENV)  # the `enrolled` fixture froze the clock
    FamilyPages(s3, "pages", commune, "secret-de-test").export(storage, "100", GUIDE_NOW)
    assert "data-horloge" not in read_bucket_page(s3, key)
    monkeypatch.delenv(FROZEN_ENV)
    FamilyPages(s3, "pages", commune, "secret-de-test", frozen=True).export(storage, "100", GUIDE_NOW)
    assert 'data-horloge="2014-11-28T12:00:00+01:00"' in read_bucket_page(s3, key)


def read_bucket_page(s3, key) -> str:
    return s3.get_object(Bucket="pages", Key=f"famille/{key}/{DECEMBER}")["Body"].read().decode()


def test_the_week_pattern_form(storage, enrolled, pages):
    storage.update_attributes("FAMILY#100", "CHILD#1", {"services": ["GARDERIE_SOIR", "RESTAURATION"]})
    pages.export(storage, "100", GUIDE_NOW)
    html = read(pages, enrolled["A"]["page_key"])
    pattern = html[html.index('id="titre-semaine"'):]
    for number, name in enumerate(["lundi", "mardi", "mercredi", "jeudi", "vendredi"]):
        assert f'<label><input type="checkbox" name="pattern_weekdays" value="{number}">{name}</label>' in pattern
    assert re.findall(r'name="pattern_services" value="(\w+)"', pattern) == ["GARDERIE_SOIR", "RESTAURATION"]
    # Suggested: from the first day still open to bookings to the eve of the holidays.
    assert 'name="pattern_from" value="2014-12-05" min="2014-12-01" max="2014-12-31" required' in pattern
    assert 'name="pattern_to" value="2014-12-19"' in pattern
    assert ">Réserver ces jours</button>" in pattern


def test_months_around_the_clock_links_and_the_dashboard(storage, enrolled, pages):
    storage.put({"pk": "FAMILY#100", "sk": "CHILD#2", "kind": "child", "child_id": "2", "first_name": "ALBAN",
                 "last_name": "ALPHA", "sex": "M", "birth_date": "2012-01-01", "services": []})
    assert pages.export(storage, "100", GUIDE_NOW) == len(OTHER_PAGES) + 4
    key = enrolled["A"]["page_key"]
    listed = {o["Key"].removeprefix(f"famille/{key}/") for o in pages.s3.list_objects_v2(Bucket="pages")["Contents"]}
    assert listed == {*OTHER_PAGES, *MONTH_PATHS}  # no month page for ALBAN, enrolled nowhere
    assert shown_months(date(2014, 11, 28)) == [date(2014, 10, 1), date(2014, 11, 1), date(2014, 12, 1), date(2015, 1, 1)]
    home = read(pages, key, "index.html")
    # Both names link to the month (the guide: « cliquez sur le nom ou prénom »).
    assert f'<a href="/famille/{key}/enfants/1/2014-11/">ANNA</a>' in home
    assert f'<a href="/famille/{key}/enfants/1/2014-11/">ALPHA</a>' in home
    assert ">ALBAN</th>" in home and "ALBAN n'est inscrit à aucun service : contactez le service enfance" in home
    assert "cliquez sur le nom ou le prénom de l'enfant concerné" in home
    october = read(pages, key, "enfants/1/2014-10/index.html")
    december = read(pages, key)
    january = read(pages, key, "enfants/1/2015-01/index.html")
    assert 'rel="prev"' not in october and f'href="/famille/{key}/enfants/1/2014-11/" rel="next"' in october
    assert f'href="/famille/{key}/enfants/1/2014-11/" rel="prev"' in december
    assert f'href="/famille/{key}/enfants/1/2015-01/" rel="next"' in december
    assert 'rel="next"' not in january
    # Only the names `render` knows: a month outside the window renders nothing.
    assert pages.export(storage, "100", GUIDE_NOW, only=["mois:1:2015-06", "mois:9:2014-12"]) == 0
    assert pages.export(storage, "100", GUIDE_NOW, only=["mois:1:2014-12"]) == 1


def test_pages_showing_days():
    # The months holding the days, the list of requests (a submission adds one) and the
    # calendar feeds (written only for a responsable who subscribed).
    assert pages_showing_days("1", []) == []
    assert pages_showing_days("1", [date(2014, 12, 11), date(2014, 12, 12), date(2015, 1, 5)]) == [
        "mois:1:2014-12", "mois:1:2015-01", "demandes", "agenda"]
    assert pages_showing_days("3", ["2015-01-05", date(2014, 11, 30)]) == [
        "mois:3:2014-11", "mois:3:2015-01", "demandes", "agenda"]


def test_the_last_request_of_the_month(storage, commune, enrolled, pages):
    submit(storage, commune, [("2014-12-11", "RESTAURATION", "reserve"), ("2014-12-25", "RESTAURATION", "reserve")])
    submit(storage, commune, [("2015-01-08", "RESTAURATION", "reserve")],
           now=datetime.fromisoformat("2014-11-28T12:30:00+01:00"))
    pages.export(storage, "100", GUIDE_NOW)
    key = enrolled["A"]["page_key"]
    html = read(pages, key)
    section = html[html.index('<section id="resultat"'):html.index("</section>", html.index('<section id="resultat"'))]
    assert "Votre dernière demande" in section and "Vos dernières" not in section
    assert "Envoyée le vendredi 28 novembre 2014 à 12 h 00" in section
    # Each outcome said once: the message names the state; a refusal's gives the reason.
    assert "<strong>jeudi 11 décembre 2014</strong>, RESTAURATION : Réservation validée.</li>" in section
    assert "validée. Réservation validée" not in section
    assert ("<strong>jeudi 25 décembre 2014</strong>, RESTAURATION : refusée. "
            "Noël (jour férié) : le service RESTAURATION est fermé ce jour-là.") in section
    assert "janvier" not in section  # the later request is January's
    january = read(pages, key, "enfants/1/2015-01/index.html")
    assert "<strong>jeudi 8 janvier 2015</strong>" in january
    assert "Aucune demande pour ANNA en novembre 2014" in read(pages, key, "enfants/1/2014-11/index.html")


def test_requests_sharing_the_latest_instant_are_all_shown(storage, commune, enrolled, pages):
    # A frozen clock (demos, training) gives every request the same instant: nothing says
    # which came last, so the page shows them all rather than one at random.
    submit(storage, commune, [("2014-12-11", "RESTAURATION", "reserve")], now=datetime.fromisoformat("2014-11-27T09:00:00+01:00"))
    submit(storage, commune, [("2014-12-12", "RESTAURATION", "reserve")])
    submit(storage, commune, [("2014-12-15", "RESTAURATION", "reserve")])
    pages.export(storage, "100", GUIDE_NOW, only=["mois:1:2014-12"])
    html = read(pages, enrolled["A"]["page_key"])
    section = html[html.index('<section id="resultat"'):html.index("</section>", html.index('<section id="resultat"'))]
    assert section.count("Envoyée le vendredi 28 novembre 2014 à 12 h 00") == 2
    assert "Vos dernières demandes" in section  # several: titled as several
    assert "vendredi 12 décembre" in section and "lundi 15 décembre" in section and "jeudi 11" not in section


# --- through the function ---------------------------------------------------------------------------

@pytest.fixture
def exported(client, enrolled, storage):
    """Family A logged in, its pages exported by the function's own FamilyPages."""
    from app import family_pages
    from chalicelib.table import bucket_name

    cookie = session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))
    pages = family_pages()
    pages.export(storage, "100", GUIDE_NOW)
    return cookie, pages, bucket_name("pages"), enrolled["A"]["page_key"]


def _objects(pages, bucket, key) -> dict[str, bytes]:
    listed = pages.s3.list_objects_v2(Bucket=bucket, Prefix=f"famille/{key}/")["Contents"]
    return {o["Key"].removeprefix(f"famille/{key}/"): pages.s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            for o in listed}


def _mark_untouched(pages, bucket, key, paths):
    """Overwrites these pages with a sentinel: a page re-rendered loses it."""
    for path in paths:
        pages.s3.put_object(Bucket=bucket, Key=f"famille/{key}/{path}", Body=b"sentinel")


def test_a_booking_re_renders_exactly_its_month_page_and_the_requests(client, exported, storage):
    cookie, pages, bucket, key = exported
    before = _objects(pages, bucket, key)
    assert set(before) == {*OTHER_PAGES, *MONTH_PATHS}
    others = set(before) - {DECEMBER, REQUESTS}
    _mark_untouched(pages, bucket, key, [REQUESTS])
    _mark_untouched(pages, bucket, key, others)
    body = urlencode([("csrf_token", sessions.csrf_token("secret-de-test", key)), ("child_id", "1"),
                      ("back", f"/famille/{key}/enfants/1/2014-12/"),
                      ("item", "2014-12-11|RESTAURATION|reserve"), ("item", "2014-12-12|RESTAURATION|reserve"),
                      ("item", "2014-12-25|RESTAURATION|reserve")])
    response = client.http.post("/api/bookings", headers={
        **ORIGIN, "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body=body)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/famille/{key}/enfants/1/2014-12/#resultat"
    after = _objects(pages, bucket, key)
    assert {path for path in others if after[path] != b"sentinel"} == set()  # not re-rendered
    assert after[DECEMBER] != before[DECEMBER]
    assert "jeudi 11 décembre 2014</strong>, RESTAURATION (réservation) : Réservation validée." in after[REQUESTS].decode()
    grid = Grid(after[DECEMBER].decode())
    assert grid.cell("RESTAURATION", 11)["text"] == "réservé"
    assert boxes(grid.cell("RESTAURATION", 11)) == [("2014-12-11|RESTAURATION|cancel", "2014-12-04T23:59:00+01:00")]
    html = after[DECEMBER].decode()
    assert "<strong>jeudi 25 décembre 2014</strong>, RESTAURATION : refusée. " in html


def test_a_week_pattern_posted_as_a_form_re_renders_the_month(client, exported, storage):
    cookie, pages, bucket, key = exported
    _mark_untouched(pages, bucket, key, [DECEMBER])
    body = urlencode([("csrf_token", sessions.csrf_token("secret-de-test", key)), ("child_id", "1"),
                      ("back", f"/famille/{key}/enfants/1/2014-12/"), ("pattern_weekdays", "0"),
                      ("pattern_weekdays", "3"), ("pattern_services", "RESTAURATION"),
                      ("pattern_from", "2014-12-05"), ("pattern_to", "2014-12-19")])
    response = client.http.post("/api/bookings", headers={
        **ORIGIN, "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body=body)
    assert response.status_code == 303
    grid = Grid(read_bucket(pages, bucket, key, DECEMBER))
    assert [d for d in range(1, 32) if grid.cell("RESTAURATION", d)["text"] == "réservé"] == [8, 11, 15, 18]


def read_bucket(pages, bucket, key, path) -> str:
    return pages.s3.get_object(Bucket=bucket, Key=f"famille/{key}/{path}")["Body"].read().decode()
