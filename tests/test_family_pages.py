"""The family pages export (the part the accounts issue needs: home and account)."""

from __future__ import annotations

import re

import boto3
import pytest
from chalicelib import sessions
from chalicelib.pages import FamilyPages

from tests.conftest import GUIDE_NOW


@pytest.fixture
def pages(storage, commune):
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return FamilyPages(s3, "pages", commune, "secret-de-test")


def page(pages, key, path):
    return pages.s3.get_object(Bucket="pages", Key=f"famille/{key}/{path}")


def test_a_familys_pages_show_its_data_and_no_other_familys(storage, families, pages):
    # Home, account, and the enrolled child's four month pages (October 2014 to January 2015).
    assert pages.export(storage, "100", GUIDE_NOW) == 6
    key = families["A"]["page_key"]
    home = page(pages, key, "index.html")
    assert home["ContentType"] == "text/html; charset=utf-8"
    assert home["CacheControl"] == "private, no-cache"
    html = home["Body"].read().decode()
    assert "Bienvenue ANNE ALPHA" in html and "ANNA" in html and "14/03/2010" in html and ">100<" in html
    assert "BRAVO" not in html and "BRUNO" not in html and families["B"]["page_key"] not in html
    account = page(pages, key, "compte/index.html")["Body"].read().decode()
    assert 'value="alice@example.org"' in account
    # Nothing was written under family B's key.
    listed = pages.s3.list_objects_v2(Bucket="pages")["Contents"]
    assert {o["Key"].split("/")[1] for o in listed} == {key}


def test_every_form_carries_the_familys_token_and_no_inline_script(storage, families, pages):
    pages.export(storage, "100", GUIDE_NOW)
    key = families["A"]["page_key"]
    for path in ("index.html", "compte/index.html"):
        html = page(pages, key, path)["Body"].read().decode()
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S)
        assert forms
        for form in forms:
            assert f'name="csrf_token" value="{sessions.csrf_token("secret-de-test", key)}"' in form
        assert "<script>" not in html and " style=" not in html and "onclick" not in html
        assert '<script type="module" src="/theme/js/portail.js"></script>' in html


def test_unread_messages_are_counted_on_the_home_page(storage, families, pages):
    storage.put({"pk": "FAMILY#100", "sk": "MESSAGE#2014-11-27#a", "kind": "message", "subject": "Menus"})
    storage.put({"pk": "FAMILY#100", "sk": "MESSAGE#2014-11-28#b", "kind": "message", "subject": "Sortie"})
    pages.export(storage, "100", GUIDE_NOW, only=["accueil"])
    html = page(pages, families["A"]["page_key"], "index.html")["Body"].read().decode()
    assert "Vous avez 2 nouveaux messages." in html


def test_names_are_escaped(storage, families, pages):
    storage.update_attributes("FAMILY#100", "CHILD#1", {"first_name": "<script>alert(1)</script>"})
    pages.export(storage, "100", GUIDE_NOW)
    html = page(pages, families["A"]["page_key"], "index.html")["Body"].read().decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
