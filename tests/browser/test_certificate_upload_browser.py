"""« Envoyer le certificat médical » on a phone (docs/billing.md): after an absence of two
days, « Liste des demandes » offers the form (the month page says the state and links
there); the file goes straight to
the embedded S3 (the presigned POST, under the page's real CSP), with JavaScript (fetch,
the result in place) and without (the function's page of a fresh form, S3's redirect
back); the page then says « à examiner »; a refusal by staff (`portail certificates
refuse`, the domain function) shows its reason. axe-core at 360 and 1280 px.

Only families famille27 (LUCAS, child 1) and famille28 (HUGO, child 1) are changed: the
demo gives both the canteen on every open day of November 2014 up to the 28th."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.browser.conftest import GUIDE_NOW, REPORT_CSP_VIOLATIONS
from tests.browser.test_accessibility import page_problems
from tests.browser.test_login import log_in
from tests.conftest import ROOT, shipped_environment

PHONE = {"viewport": {"width": 360, "height": 800}, "has_touch": True, "is_mobile": True}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FILE = {"name": "certificat.pdf", "mimeType": "application/pdf", "buffer": PDF}
ABSENT = ["2014-11-24", "2014-11-25"]  # Monday and Tuesday: the canteen's open days
TO_REVIEW = "certificat reçu, à examiner par le service enfance"


def declare_absence(page, portal: str) -> None:
    """The absence declared through the API (the month page's own controls are another
    module's): both days absent, the second one following the first."""
    answer = page.request.post(f"{portal}/api/bookings", headers={"Content-Type": "application/json",
                                                                  "Origin": portal},
                               data=json.dumps({"child_id": "1", "items": [
                                   {"date": day, "service": "RESTAURATION", "action": "absence"} for day in ABSENT]}))
    assert answer.status == 200, answer.text()
    assert [r["status"] for r in answer.json()["results"]] == ["absent", "absent"]


def embedded_aws(portal: str) -> str:
    """The portal's embedded AWS (conftest's EMBEDDED_AWS: pytest may load it under two names)."""
    return next(m.EMBEDDED_AWS[portal] for m in list(sys.modules.values())
                if portal in (getattr(m, "EMBEDDED_AWS", None) or {}))


def stored_certificates(portal: str, family: str) -> list[bytes]:
    """The files under the family's certificates prefix of the embedded S3."""
    import boto3
    from chalicelib.table import bucket_name

    s3 = boto3.client("s3", endpoint_url=embedded_aws(portal), region_name="eu-west-3",
                      aws_access_key_id="embedded", aws_secret_access_key="embedded")
    listed = s3.list_objects_v2(Bucket=bucket_name("documents"), Prefix=f"certificats/{family}/1/")
    return [s3.get_object(Bucket=bucket_name("documents"), Key=o["Key"])["Body"].read()
            for o in listed.get("Contents", [])]


def certificate_ids(portal: str, family: str) -> list[str]:
    import boto3
    from chalicelib.table import table_name

    dynamodb = boto3.client("dynamodb", endpoint_url=embedded_aws(portal), region_name="eu-west-3",
                            aws_access_key_id="embedded", aws_secret_access_key="embedded")
    items = dynamodb.query(TableName=table_name(), KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
                           ExpressionAttributeValues={":pk": {"S": f"FAMILY#{family}"},
                                                      ":c": {"S": "CERTIFICATE#1#"}})["Items"]
    return [i["certificate_id"]["S"] for i in items]


def thumb_sized(locator) -> None:
    box = locator.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44, box


def phone(browser, portal: str, *, javascript: bool):
    """A phone's context (360 px, touch) under the portal's real CSP, its violations reported."""
    context = browser.new_context(base_url=portal, java_script_enabled=javascript, **PHONE)
    context.set_default_timeout(15_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    return context


def csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "securitypolicyviolation" in m.text
            or "Content Security Policy" in m.text else None)
    return found


def test_a_certificate_sent_with_javascript_on_a_phone_is_to_review(portal, browser):
    context = phone(browser, portal, javascript=True)
    page = context.new_page()
    violations = csp_violations(page)
    home = log_in(page, "famille27")
    declare_absence(page, portal)
    month = f"{home}enfants/1/2014-11/"
    page.goto(month)
    # The month page says the state and leads to the form on « Liste des demandes ».
    said = page.locator("#certificat")
    assert "lundi 24 novembre 2014" in said.inner_text() and "certificat médical attendu" in said.inner_text()
    link = said.get_by_role("link", name="Envoyer le certificat médical")
    with page.expect_navigation(url=f"{portal}{home}demandes/#certificat-1-2014-11-24"):
        link.tap()
    offer = page.locator("#certificat-1-2014-11-24")
    file_input = offer.get_by_label("Fichier du certificat (PDF, JPEG ou PNG, 5 Mo au plus)")
    button = offer.get_by_role("button", name="Envoyer le certificat médical")
    assert offer.get_by_role("radio").count() == 0 or not offer.get_by_role("radio").first.is_visible()
    thumb_sized(file_input)
    thumb_sized(button)
    file_input.set_input_files(FILE)
    button.tap()
    status = offer.get_by_role("status")
    status.wait_for()
    assert status.inner_text() == "Certificat médical reçu : le service enfance va l'examiner."
    assert offer.locator("[data-certificat-etat]").inner_text() == TO_REVIEW
    assert stored_certificates(portal, "381600000027") == [PDF]
    page.goto(month)  # rendered again by the function
    assert TO_REVIEW in page.locator("#certificat").inner_text()
    assert page.locator("#certificat a").count() == 0
    assert violations == []
    context.close()

    # axe-core at 360 and 1280 px on the page with the form (bypass_csp: axe is injected).
    checked = browser.new_context(base_url=portal, bypass_csp=True)
    try:
        check = checked.new_page()
        log_in(check, "famille27")
        check.goto(f"{home}demandes/")
        assert TO_REVIEW in check.locator("#certificat").inner_text()
        assert page_problems(check) == []
    finally:
        checked.close()


def test_a_certificate_sent_without_javascript_then_refused_says_why(portal, browser):
    context = phone(browser, portal, javascript=False)
    page = context.new_page()
    violations = csp_violations(page)
    home = log_in(page, "famille28")
    declare_absence(page, portal)
    requests_page = f"{home}demandes/"
    page.goto(requests_page)
    offer = page.locator("#certificat")
    offer.get_by_label("un fichier PDF").check()
    with page.expect_navigation(url=f"{portal}/api/absences/certificate/formulaire"):
        offer.get_by_role("button", name="Envoyer le certificat médical").tap()
    assert page.get_by_role("heading", level=1).inner_text() == "Envoyer le certificat médical"
    file_input = page.get_by_label("Fichier du certificat (PDF, 5 Mo au plus)")
    button = page.get_by_role("button", name="Envoyer le certificat médical")
    thumb_sized(file_input)
    thumb_sized(button)
    file_input.set_input_files(FILE)
    with page.expect_navigation(url=f"{portal}{requests_page}#certificat"):
        button.tap()  # to the embedded S3, its 303 to …/recu, the function's 303 back here
    assert TO_REVIEW in page.locator("#certificat").inner_text()
    assert stored_certificates(portal, "381600000028") == [PDF]

    # Staff refuse it (the domain function through the command line, on the portal's AWS).
    [identifier] = certificate_ids(portal, "381600000028")
    refused = subprocess.run(
        [sys.executable, "-m", "portail.cli", "certificates", "refuse", "--family", "381600000028", "--id", identifier,
         "--reason", "Le certificat ne porte pas de date.", "--endpoint-url", embedded_aws(portal)],
        cwd=ROOT, env={**shipped_environment(), "PORTAIL_NOW": GUIDE_NOW}, capture_output=True, text=True,
        timeout=120)
    assert refused.returncode == 0, refused.stderr
    page.goto(requests_page)
    text = page.locator("#certificat").inner_text()
    assert "certificat refusé : Le certificat ne porte pas de date." in text
    assert page.locator("#certificat").get_by_role("button", name="Envoyer un autre certificat médical").is_visible()
    assert violations == []
    context.close()

    # axe-core at 360 and 1280 px on the page without its script and on the function's form page.
    checked = browser.new_context(base_url=portal, bypass_csp=True)
    try:
        check = checked.new_page()
        log_in(check, "famille28")
        check.route("**/theme/js/certificat.js", lambda route: route.abort())
        check.goto(requests_page)
        problems = page_problems(check)
        check.locator("#certificat").get_by_role("button", name="Envoyer un autre certificat médical").click()
        check.get_by_label("Fichier du certificat (PDF, 5 Mo au plus)").wait_for()
        assert problems + page_problems(check) == []
    finally:
        checked.close()

