"""An agent decides the demo's pending requests in bulk and opens the certificates to
review, in a real headless Chromium against `portail serve --demo` (conftest.py):
without JavaScript, through the forms; axe-core at 1280 and 360 px; nothing scrolls
sideways at 360 px (the list's table scrolls inside its own region)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import DESKTOP, page_problems

pytestmark = [pytest.mark.browser, pytest.mark.server]


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
    expect(page.locator(".resultats")).to_contain_text("Refusée par le service enfance. Motif : Effectif d'encadrement")
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
            reports += page_problems(page)
        page.goto("/gestion/demandes/")
        # The decision's answer too (a refusal of one day).
        page.locator('input[name="item"]').first.check()
        page.get_by_label("Motif du refus").fill("Complet")
        page.get_by_role("button", name="Refuser les jours cochés").click()
        expect(page.get_by_role("heading", level=1, name="Décision enregistrée")).to_be_visible()
        reports += page_problems(page)
        assert not reports, "\n".join(reports)
    finally:
        context.close()


def test_a_certificate_to_review_is_opened_and_accepted_without_javascript(new_context, portal, staff_login):
    import boto3
    from chalicelib import certificates as cert
    from chalicelib import table
    from chalicelib.storage import Storage

    from portail.demo import GUIDE_FAMILY

    # A parent's certificate whose file arrived (written into the demo's embedded AWS).
    # The portal's AWS address is in the conftest module pytest loaded (the fixture's
    # globals): importing tests.browser.conftest again would give another, empty, module.
    endpoint = staff_login.__globals__["EMBEDDED_AWS"][portal]
    keys = {"endpoint_url": endpoint, "region_name": "eu-west-3", "aws_access_key_id": "embedded",
            "aws_secret_access_key": "embedded"}
    identifier, key = "00c0ffee00c0ffee", f"certificats/{GUIDE_FAMILY}/1/00c0ffee.pdf"
    boto3.client("s3", **keys).put_object(Bucket=table.bucket_name("documents"), Key=key,
                                          Body=b"%PDF-1.4\n%%EOF\n", ContentType="application/pdf")
    Storage(boto3.client("dynamodb", **keys), table.table_name()).put({
        "pk": f"FAMILY#{GUIDE_FAMILY}", "sk": f"CERTIFICATE#1#2014-11-24#{identifier}", "certificate_id": identifier,
        "child_id": "1", "dates": ["2014-11-24", "2014-11-25"], "document_key": key,
        "content_type": "application/pdf", "recorded_at": "2014-11-27T08:00:00+00:00", "recorded_by": "parent",
        "state": cert.TO_REVIEW, "received_at": "2014-11-27T08:05:00+00:00",
        **cert.open_index_keys(GUIDE_FAMILY, "1", identifier, "2014-11-27T08:00:00+00:00")})
    page = new_context(javascript=False).new_page()
    staff_login(page, "agent")
    expect(page.get_by_role("region", name="Certificats médicaux")).to_contain_text("1 certificat médical à examiner")
    page.get_by_role("link", name="Voir les certificats").click()
    section = page.get_by_role("region", name=re.compile(rf"\(famille {GUIDE_FAMILY}\)"))
    expect(section).to_contain_text("24/11/2014, 25/11/2014")
    link = section.get_by_role("link", name=re.compile("Ouvrir le fichier"))
    href = link.get_attribute("href")
    assert re.search(r"X-Amz-Expires=(\d+)", href) and int(re.search(r"X-Amz-Expires=(\d+)", href)[1]) <= 300
    assert page.request.get(href).body().startswith(b"%PDF")
    section.get_by_role("button", name=re.compile("^Accepter")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Certificat accepté : famille {GUIDE_FAMILY}")
    expect(page.get_by_text("Aucun certificat médical à examiner.")).to_be_visible()
