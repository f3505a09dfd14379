"""The statement's school years (docs/family-pages.md): which years the « Année scolaire »
selector lists, the page of a year without operation, and GET /api/releve, the route
the selector's plain GET form asks for a year (303 to its static page; a bad year is a
French 4xx). The guide's clock: Friday 28 November 2014."""

from __future__ import annotations

import html
import json
import re

import boto3
import pytest
from chalicelib.pages import FamilyPages
from chalicelib.pages.account import statement_years
from chalicelib.statement import account

from tests.conftest import GUIDE_NOW
from tests.test_accounts_api import PASSWORD_A, get, post, session_cookie
from tests.test_family_pages import add_operation, listed, read, text

TODAY = GUIDE_NOW.date()


def years_of(*operations: tuple[str, str]) -> list[str]:
    items = [{"sk": f"OPERATION#{n:09d}", "number": n, "date": day, "description": "", "debit": 1,
              "school_year": year} for n, (day, year) in enumerate(operations, start=1)]
    return statement_years(account(items, [], TODAY))


def test_the_years_run_from_the_first_operation_to_the_current_one_without_a_gap():
    assert years_of() == ["2014-2015"]  # a new family: the current year, empty
    assert years_of(("2014-10-04", "2014-2015")) == ["2014-2015"]
    # 2013-2014 had no operation: listed all the same, its page says so.
    assert years_of(("2013-06-04", "2012-2013"), ("2014-10-04", "2014-2015")) == [
        "2012-2013", "2013-2014", "2014-2015"]
    # An operation already dated in the next school year (recorded ahead): up to it.
    assert years_of(("2015-09-04", "2015-2016")) == ["2014-2015", "2015-2016"]


@pytest.fixture
def pages(storage, commune):
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return FamilyPages(s3, "pages", commune, "secret-de-test")


@pytest.fixture
def two_years_apart(storage, families):
    add_operation(storage, "100", 20100, "2013-06-04", "Facture : 01/05/2013 - 31/05/2013", debit="30.00",
                  year="2012-2013")
    add_operation(storage, "100", 21054, "2014-10-04", "Facture : 01/09/2014 - 30/09/2014", debit="97.35")
    return families


def test_a_year_without_operation_has_its_page_which_says_so(storage, two_years_apart, pages):
    pages.export(storage, "100", GUIDE_NOW, only=["releve"])
    key = two_years_apart["A"]["page_key"]
    assert listed(pages, key) == {"releve/index.html", "releve/2012-2013/index.html",
                                  "releve/2013-2014/index.html", "releve/2014-2015/index.html"}
    empty = read(pages, key, "releve/2013-2014/index.html")
    words = text(empty)
    assert "Aucune opération sur l'année scolaire 2013-2014." in words
    # The balance goes on through the empty year.
    assert "Ancien solde -30,00 €" in words and "Solde du compte pour l'année scolaire 2013-2014 -30,00 €" in words
    # The selector: a plain GET form, every year listed, the shown one selected.
    form = re.search(r'<form class="annees" method="get" action="/api/releve">(.*?)</form>', empty, re.S).group(1)
    assert '<label for="annee">Année scolaire</label>' in form and '<select id="annee" name="annee">' in form
    assert re.findall(r'<option value="([^"]+)"( selected)?>', form) == [
        ("2012-2013", ""), ("2013-2014", " selected"), ("2014-2015", "")]
    assert "Aucune opération" not in text(read(pages, key, "releve/2014-2015/index.html"))


@pytest.fixture
def cookie(client, frozen_clock, two_years_apart):
    return session_cookie(post(client, "/api/login", {"login": "alice", "password": PASSWORD_A}))


def test_the_selector_route_sends_to_the_years_page(client, cookie, two_years_apart):
    key = two_years_apart["A"]["page_key"]
    for year in ("2012-2013", "2013-2014", "2014-2015"):
        answer = get(client, f"/api/releve?annee={year}", cookie)
        assert answer.status_code == 303, answer.body
        assert answer.headers["Location"] == f"/famille/{key}/releve/{year}/"
    # Not logged in (the session ended while the page stayed open): the login page.
    answer = get(client, "/api/releve?annee=2014-2015")
    assert answer.status_code == 303 and answer.headers["Location"] == "/connexion/#session-expiree"


def test_a_bad_year_is_a_french_4xx(client, cookie, two_years_apart):
    for query, status, code in [("", 400, "invalid_year"), ("?annee=", 400, "invalid_year"),
                                ("?annee=2014", 400, "invalid_year"), ("?annee=2014-2016", 400, "invalid_year"),
                                ("?annee=abcd-efgh", 400, "invalid_year"), ("?annee=%3Cscript%3E", 400, "invalid_year"),
                                ("?annee=2010-2011", 404, "unknown_year"), ("?annee=2016-2017", 404, "unknown_year")]:
        answer = get(client, "/api/releve" + query, cookie)
        assert answer.status_code == status, (query, answer.body)
        error = json.loads(answer.body)["error"]
        assert error["code"] == code, query
    assert error["message"] == ("Aucune opération sur l'année scolaire 2016-2017 : votre relevé de compte "
                                "commence en 2012-2013 et va jusqu'à 2014-2015.")
    # A browser following the form reads a page in words, with the way back.
    answer = client.http.get("/api/releve?annee=2010-2011",
                             headers={"Cookie": cookie, "Accept": "text/html,application/xhtml+xml"})
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")
    page = html.unescape(answer.body.decode())
    assert "Aucune opération sur l'année scolaire 2010-2011" in page
    assert 'aria-label="Menu de la famille"' in page  # the family's layout, its menu
    assert f'<a href="/famille/{two_years_apart["A"]["page_key"]}/releve/">Retour au relevé de compte</a>' in page
