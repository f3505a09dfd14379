"""« Envoyer le certificat médical » from the family's pages (docs/billing.md): the offer on
the month page and « Liste des demandes » after an absence of several days, the page of a
fresh presigned form without script (POST /api/absences/certificate/formulaire), S3's
redirect back through GET …/recu and the script's POST …/recu, which look in the bucket
and move the certificate to « à examiner ». Chalice's test client over moto."""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import parse_qs, urlsplit

from chalicelib import sessions
from chalicelib.table import bucket_name

from tests.conftest import GUIDE_NOW, all_items
from tests.test_accounts_api import ORIGIN, error_of, post
from tests.test_certificates import ABSENT, PDF, absent, cookie, s3  # noqa: F401 - fixtures

FORM_PATH = "/api/absences/certificate/formulaire"


def family_token(families) -> str:
    return sessions.csrf_token("secret-de-test", families["A"]["page_key"])


def page(families, path: str) -> str:
    import boto3

    key = f"famille/{families['A']['page_key']}/{path}"
    answer = boto3.client("s3", region_name="eu-west-3").get_object(Bucket=bucket_name("pages"), Key=key)
    return html.unescape(answer["Body"].read().decode())


def render_all(storage, families) -> None:
    from chalicelib.dependencies import family_pages

    family_pages().export(storage, "100", GUIDE_NOW)


def ask_form(client, session, families, **changes):
    from urllib.parse import urlencode

    fields = {"csrf_token": family_token(families), "child_id": "1", "date": ABSENT, "content_type": "application/pdf",
              "back": f"/famille/{families['A']['page_key']}/demandes/", **changes}
    return client.http.post(FORM_PATH, headers={**ORIGIN, "Cookie": session,
                                                "Content-Type": "application/x-www-form-urlencoded"},
                            body=urlencode(fields, doseq=True))


def form_of(answer) -> tuple[str, dict]:
    """The bucket's address and the hidden fields of the page's presigned form."""
    text = answer.body.decode() if isinstance(answer.body, bytes) else answer.body
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)" enctype="multipart/form-data"', text)[1])
    fields = {html.unescape(n): html.unescape(v)
              for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', text)}
    return action, fields


def upload(action: str, fields: dict, body: bytes = PDF):
    import requests

    return requests.post(action, data=fields, files={"file": ("certificat.pdf", body, "application/pdf")},
                         timeout=10, allow_redirects=False)


def test_an_absence_of_several_days_offers_the_form_on_its_pages(client, absent, storage, families):  # noqa: F811
    render_all(storage, families)
    requests_page = page(families, "demandes/index.html")
    assert "Envoyer le certificat médical" in requests_page and "certificat médical attendu" in requests_page
    assert 'action="/api/absences/certificate/formulaire"' in requests_page
    assert "mardi 7 octobre 2014, jeudi 9 octobre 2014" in requests_page  # the days it would excuse
    # The month page says the state and links to that form (it stays light on a phone).
    month = page(families, "enfants/1/2014-10/index.html")
    assert "certificat médical attendu" in month and "/api/absences/certificate" not in month
    home = f"/famille/{families['A']['page_key']}/"
    offer = re.search(r'<div class="certificat [^"]*" id="([^"]+)"', requests_page).group(1)
    assert f'<a href="{home}demandes/#{offer}">Envoyer le certificat médical</a>' in month
    assert "Envoyer le certificat médical" not in page(families, "enfants/1/2014-11/index.html")


def test_without_script_the_page_holds_a_fresh_policy_and_s3_comes_back_to_review(
        client, absent, storage, families, s3):  # noqa: F811
    answer = ask_form(client, absent, families, content_type="image/jpeg")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-store"
    action, fields = form_of(answer)
    [certificate] = [i for i in all_items(storage) if i["sk"].startswith("CERTIFICATE#")]
    assert certificate["state"] == "awaited" and certificate["content_type"] == "image/jpeg"
    back = f"/famille/{families['A']['page_key']}/demandes/"
    redirect = fields["success_action_redirect"]
    assert redirect.endswith(f"/api/absences/certificate/{certificate['certificate_id']}/recu?retour="
                             + back.replace("/", "%2F"))
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"success_action_redirect": redirect} in policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in policy["conditions"]
    assert fields["key"] == certificate["document_key"]

    stored = upload(action, fields)
    assert stored.status_code == 303
    location = urlsplit(stored.headers["Location"])
    assert location.path == f"/api/absences/certificate/{certificate['certificate_id']}/recu"
    assert parse_qs(location.query)["retour"] == [back]
    back_home = client.http.get(f"{location.path}?{location.query}", headers={"Cookie": absent})
    assert back_home.status_code == 303 and back_home.headers["Location"] == back + "#certificat"
    [certificate] = [i for i in all_items(storage) if i["sk"].startswith("CERTIFICATE#")]
    assert certificate["state"] == "to_review"
    text = page(families, "demandes/index.html")
    assert "certificat reçu, à examiner par le service enfance" in text
    assert "Envoyer le certificat médical" not in text
    assert "à examiner" in page(families, "enfants/1/2014-10/index.html")


BAD_FORMS = [
    ({"child_id": "2"}, 404),  # another family's child
    ({"child_id": "9"}, 404),
    ({"date": ["2014-10-32"]}, 400),
    ({"date": []}, 400),
    ({"content_type": "text/html"}, 400),
]


def test_a_bad_form_is_a_french_refusal_and_writes_nothing(client, absent, storage, families):  # noqa: F811
    from datetime import date

    from chalicelib.families import Child, child_item

    storage.put(child_item(Child(family_number="200", child_id="2", last_name="BRAVO", first_name="BERTHE",
                                 sex="F", birth_date=date(2012, 5, 1), services=("RESTAURATION",))))
    before = all_items(storage)
    for changes, status in BAD_FORMS:  # one table for all: the cases are cheap, the fixtures are not
        answer = ask_form(client, absent, families, **changes)
        assert answer.status_code == status, changes
        text = html.unescape(answer.body.decode())
        assert "Le formulaire d'envoi n'a pas été préparé" in text and "<form method=\"post\" action=\"http" not in text
    assert all_items(storage) == before


def test_the_script_tells_the_function_and_reads_the_state(client, absent, storage, families, s3):  # noqa: F811
    asked = post(client, "/api/absences/certificate", {"child_id": "1", "dates": ABSENT,
                                                        "content_type": "application/pdf", "size": len(PDF)},
                 cookie=absent)
    answer = json.loads(asked.body)
    identifier = answer["certificate_id"]
    assert "success_action_redirect" not in answer["upload"]["fields"]  # S3 answers 204 to the script
    path = f"/api/absences/certificate/{identifier}/recu"
    early = post(client, path, {}, cookie=absent)
    assert early.status_code == 200 and json.loads(early.body)["state"] == "awaited"
    assert upload(answer["upload"]["url"], answer["upload"]["fields"]).status_code == 204
    told = json.loads(post(client, path, {}, cookie=absent).body)
    assert told == {"state": "to_review", "state_label": "certificat reçu, à examiner par le service enfance",
                    "message": "Certificat médical reçu : le service enfance va l'examiner."}
    audits = [i for i in all_items(storage) if i["pk"].startswith("AUDIT#") and i["action"] == "certificate_received"]
    assert len(audits) == 1
    # Told again: nothing more written.
    before = all_items(storage)
    assert json.loads(post(client, path, {}, cookie=absent).body)["state"] == "to_review"
    assert all_items(storage) == before


def test_another_id_is_not_found_and_no_session_goes_to_the_login(client, absent, storage, families):  # noqa: F811
    before = all_items(storage)
    for identifier in ("0123456789abcdef", "pas-un-id"):
        answer = post(client, f"/api/absences/certificate/{identifier}/recu", {}, cookie=absent)
        assert answer.status_code == 404
        assert error_of(answer)["message"].startswith("Ce")
    answer = client.http.get("/api/absences/certificate/0123456789abcdef/recu")
    assert answer.status_code == 303 and answer.headers["Location"] == "/connexion/"
    assert all_items(storage) == before


def test_a_refused_certificate_says_why_and_offers_another(client, absent, storage, families, s3):  # noqa: F811
    from chalicelib import certificates
    from chalicelib.dependencies import documents, family_pages, messages
    from chalicelib.staff import certificates as staff

    _, fields = form_of(ask_form(client, absent, families))
    identifier = re.search(r"certificate/([0-9a-f]{16})/recu", fields["success_action_redirect"])[1]
    staff.decide(storage, documents(), messages(), family_pages(), "100", identifier, False,
                 "Le certificat ne porte pas de date.", "agent", GUIDE_NOW)
    text = page(families, "enfants/1/2014-10/index.html")
    assert "certificat refusé : Le certificat ne porte pas de date." in text
    assert "Envoyer un autre certificat médical" in text
    assert certificates.state_of(certificates.find(storage, "100", identifier)) == "refused"
