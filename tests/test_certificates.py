"""Medical certificates (docs/http-api.md, `POST /api/absences/certificate`): a presigned S3 POST
whose policy fixes the key, the content type and the size; the certificate and the
family's request line are recorded; nothing is written after a refusal."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import date

import pytest
from chalicelib import documents as docs
from chalicelib.table import bucket_name

from tests.conftest import GUIDE_NOW, all_items
from tests.test_accounts_api import ORIGIN, PASSWORD_A, error_of, post, session_cookie

PATH = "/api/absences/certificate"
MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def s3(client):
    """The documents bucket (the `client` fixture creates only the pages bucket)."""
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket=bucket_name("documents"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return s3


@pytest.fixture
def cookie(client, families, s3, frozen_clock):
    response = post(client, "/api/login", {"login": "alice", "password": PASSWORD_A})
    assert response.status_code == 200
    return session_cookie(response)


def submit(client, cookie, **changes):
    body = {"child_id": "1", "dates": ["2014-12-09", "2014-12-10"], "content_type": "application/pdf",
            "size": 1 * MB, **changes}
    return post(client, PATH, body, cookie=cookie)


def family_items(storage, number: str, prefix: str) -> list[dict]:
    return [i for i in all_items(storage) if i["pk"] == f"FAMILY#{number}" and i["sk"].startswith(prefix)]


def policy_of(upload: dict) -> dict:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


# --- the upload form -------------------------------------------------------------------

def test_a_one_megabyte_pdf_gets_a_presigned_post(client, cookie):
    response = submit(client, cookie)
    assert response.status_code == 200
    answer = json.loads(response.body)
    upload = answer["upload"]
    assert upload["expires_in"] == 300
    assert upload["fields"]["key"] == upload["key"]
    assert upload["fields"]["Content-Type"] == "application/pdf"
    assert upload["url"].startswith("https://") and bucket_name("documents") in upload["url"]
    assert answer["message"]


def test_the_policy_fixes_size_content_type_key_and_bucket(client, cookie):
    upload = json.loads(submit(client, cookie).body)["upload"]
    policy = policy_of(upload)
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 5242880] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert [c for c in conditions if isinstance(c, dict) and "key" in c] == [{"key": upload["key"]}]
    assert {"bucket": bucket_name("documents")} in conditions
    # No wildcard condition would let the form choose another key or type.
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    # Expires five minutes after signing (real time: botocore signs with the system clock).
    assert policy["expiration"].endswith("Z")


@pytest.mark.parametrize(("content_type", "extension"), [
    ("application/pdf", "pdf"), ("image/jpeg", "jpg"), ("image/png", "png"), ("IMAGE/PNG", "png")])
def test_pdf_jpeg_and_png_are_accepted(client, cookie, content_type, extension):
    response = submit(client, cookie, content_type=content_type, size=5 * MB)
    assert response.status_code == 200
    upload = json.loads(response.body)["upload"]
    assert upload["key"].endswith("." + extension)
    assert {"Content-Type": content_type.lower()} in policy_of(upload)["conditions"]


def test_the_key_is_random_and_under_the_familys_prefix(client, cookie, families):
    keys = [json.loads(submit(client, cookie).body)["upload"]["key"] for _ in range(2)]
    assert keys[0] != keys[1]
    for key in keys:
        assert re.fullmatch(r"certificats/100/1/[0-9a-f]{32}\.pdf", key), key
        assert families["A"]["page_key"] not in key


def test_the_form_uploads_the_file_to_s3(client, cookie, s3):
    import requests

    upload = json.loads(submit(client, cookie, size=len(PDF)).body)["upload"]
    # As a browser posts the form: the fields, then the file last (moto intercepts requests).
    answer = requests.post(upload["url"], data=upload["fields"],
                           files={"file": ("certificat.pdf", PDF, "application/pdf")}, timeout=10)
    assert answer.status_code == 204
    stored = s3.get_object(Bucket=bucket_name("documents"), Key=upload["key"])
    assert stored["Body"].read() == PDF


# --- what is recorded ------------------------------------------------------------------

def test_the_certificate_and_the_request_are_recorded(client, cookie, storage):
    upload = json.loads(submit(client, cookie, dates=["2014-12-10", "2014-12-09", "2014-12-10"]).body)["upload"]
    [certificate] = family_items(storage, "100", "CERTIFICATE#")
    assert certificate["sk"].startswith("CERTIFICATE#1#2014-12-09#")
    assert certificate["kind"] == "certificate"
    assert certificate["child_id"] == "1"
    assert certificate["dates"] == ["2014-12-09", "2014-12-10"]
    assert certificate["document_key"] == upload["key"]
    assert certificate["recorded_by"] == "parent"
    assert certificate["recorded_at"] == "2014-11-28T11:00:00+00:00"  # the portal's clock, in UTC
    [request] = family_items(storage, "100", "REQUEST#")
    assert request["sk"].startswith("REQUEST#2014-11-28T11:00:00+00:00#")
    assert request["kind"] == "request" and request["type"] == "certificate"
    assert request["channel"] == "online" and request["responsable_rank"] == 1 and request["child_id"] == "1"
    assert request["submitted_at"] == "2014-11-28T11:00:00+00:00"
    assert request["sk"].endswith("#" + request["request_id"])
    assert request["certificate_id"] == certificate["certificate_id"]
    # Awaited: the form is handed out, no file is known (never « reçu »).
    assert [(i["date"], i["status"]) for i in request["items"]] == [("2014-12-09", "awaited"), ("2014-12-10", "awaited")]
    assert certificate["state"] == "awaited"
    assert (certificate["gsi1pk"], certificate["gsi1sk"]) == (
        "CERTIFICATES#OPEN", f"2014-11-28T11:00:00+00:00#100#1#{certificate['certificate_id']}")
    assert certificate["sk"].endswith("#" + certificate["certificate_id"])
    entries = [e for e in storage.audit_entries(date(2014, 11, 28)) if e["action"] == "certificate_upload"]
    assert [(e["actor"], e["details"]["child_id"], e["details"]["document_key"]) for e in entries] == [
        ("alice", "1", upload["key"])]
    # Nothing in the other family's partition.
    assert not family_items(storage, "200", "CERTIFICATE#") and not family_items(storage, "200", "REQUEST#")


def test_the_three_items_are_one_batch_write(client, cookie, storage, monkeypatch):
    from app import storage as app_storage

    calls = []
    original = app_storage().batch_write
    monkeypatch.setattr(app_storage(), "batch_write", lambda puts, deletes=(): calls.append(puts) or original(puts, deletes))
    assert submit(client, cookie).status_code == 200
    assert [sorted(item["sk"].split("#")[0] for item in puts) for puts in calls] == [
        sorted(["CERTIFICATE", "REQUEST", "2014-11-28T11:00:00+00:00"])]


# --- refusals write nothing ------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"size": 7 * MB},
    {"size": 5 * MB + 1},
    {"size": 0},
    {"size": -1},
    {"size": "1024"},
    {"size": True},
    {"content_type": "text/html"},
    {"content_type": "image/gif"},
    {"content_type": ""},
    {"content_type": None},
])
def test_a_bad_file_is_refused_and_nothing_is_written(client, cookie, storage, changes):
    before = all_items(storage)
    response = submit(client, cookie, **changes)
    assert response.status_code == 400
    assert error_of(response) == {"code": "bad_file", "message": docs.BAD_FILE_MESSAGE}
    assert all_items(storage) == before


@pytest.mark.parametrize("dates", [
    [], None, "2014-12-09", ["2014-02-30"], ["09/12/2014"], ["20141209"], [20141209],
    ["2014-12-09", "demain"], [f"2014-12-{d:02d}" for d in range(1, 32)] + ["2015-01-01"]])
def test_bad_dates_are_refused_and_nothing_is_written(client, cookie, storage, dates):
    before = all_items(storage)
    response = submit(client, cookie, dates=dates)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_request" and error["message"]
    assert all_items(storage) == before


def test_thirty_one_dates_are_accepted(client, cookie):
    assert submit(client, cookie, dates=[f"2014-12-{d:02d}" for d in range(1, 32)]).status_code == 200


def test_a_child_of_another_family_is_not_found(client, cookie, storage, families):
    from chalicelib.families import Child, child_item

    storage.put(child_item(Child(family_number="200", child_id="2", last_name="BRAVO", first_name="BERTHE",
                                 sex="F", birth_date=date(2012, 5, 1), services=("RESTAURATION",))))
    before = all_items(storage)
    for child_id in ("2", "", "999"):
        response = submit(client, cookie, child_id=child_id)
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "Enfant inconnu."}
    assert all_items(storage) == before


def test_without_a_session_401(client, families, s3, storage):
    before = all_items(storage)
    response = submit(client, None)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert all_items(storage) == before


def test_a_cross_site_post_is_refused(client, cookie, storage):
    before = all_items(storage)
    response = post(client, PATH, {"child_id": "1", "dates": ["2014-12-09"], "content_type": "application/pdf",
                                   "size": MB}, cookie=cookie, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "cross_site_request"
    response = post(client, PATH, {"child_id": "1", "dates": ["2014-12-09"]}, cookie=cookie,
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert all_items(storage) == before


def test_a_form_post_is_not_accepted(client, cookie, storage):
    before = all_items(storage)
    response = post(client, PATH, {"child_id": "1", "dates": "2014-12-09"}, cookie=cookie, form=True)
    assert response.status_code == 415
    assert all_items(storage) == before


def test_an_unreadable_body_is_refused(client, cookie):
    response = client.http.post(PATH, headers={**ORIGIN, "Cookie": cookie, "Content-Type": "application/json"},
                                body="{pas du json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"


# --- the domain module -----------------------------------------------------------------

def test_certificate_upload_without_the_function(aws):
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-3")
    documents = docs.Documents(s3, "seau")
    upload = documents.certificate_upload("381623867924", "2", [date(2014, 12, 9)], "image/jpeg", 300_000, GUIDE_NOW)
    assert re.fullmatch(r"certificats/381623867924/2/[0-9a-f]{32}\.jpg", upload["key"])
    with pytest.raises(docs.DocumentError) as refused:
        documents.certificate_upload("381623867924", "2", [date(2014, 12, 9)], "image/jpeg", 6 * MB, GUIDE_NOW)
    assert (refused.value.status, refused.value.code) == (400, "bad_file")
    item = documents.record_certificate_item("381623867924", "2", [date(2014, 12, 9)], upload["key"], "parent",
                                             GUIDE_NOW)
    assert item["pk"] == "FAMILY#381623867924" and item["dates"] == ["2014-12-09"]
    with pytest.raises(ValueError):
        documents.record_certificate_item("381623867924", "2", ["2014-12-09"], "", "voisin", GUIDE_NOW)


def test_staff_record_a_certificate(storage, families):
    item = docs.record_staff_certificate(storage, "100", "1", ["2014-12-11", date(2014, 12, 10)], GUIDE_NOW)
    [stored] = family_items(storage, "100", "CERTIFICATE#")
    assert stored == item
    assert stored["recorded_by"] == "staff" and stored["dates"] == ["2014-12-10", "2014-12-11"]
    assert "document_key" not in stored  # a paper certificate has no file
    assert stored["sk"].startswith("CERTIFICATE#1#2014-12-10#")
    assert [e["action"] for e in storage.audit_entries(date(2014, 11, 28))] == ["certificate_recorded"]
    with_file = docs.record_staff_certificate(storage, "100", "1", ["2014-12-12"], GUIDE_NOW,
                                              document_key="certificats/100/1/scan.pdf")
    assert with_file["document_key"] == "certificats/100/1/scan.pdf"


def test_staff_cannot_record_for_an_unknown_child_or_bad_dates(storage, families):
    before = all_items(storage)
    with pytest.raises(docs.DocumentError) as unknown:
        docs.record_staff_certificate(storage, "100", "7", ["2014-12-10"], GUIDE_NOW)
    assert unknown.value.code == "not_found"
    with pytest.raises(docs.DocumentError) as bad:
        docs.record_staff_certificate(storage, "100", "1", ["10/12/2014"], GUIDE_NOW)
    assert bad.value.code == "invalid_request"
    assert all_items(storage) == before


def test_the_list_of_requests_shows_the_certificate_at_once(client, cookie, families):
    import boto3

    assert submit(client, cookie).status_code == 200
    key = f"famille/{families['A']['page_key']}/demandes/index.html"
    page = boto3.client("s3", region_name="eu-west-3").get_object(Bucket=bucket_name("pages"), Key=key)
    text = page["Body"].read().decode()
    assert "En attente du fichier" in text and "reçu" not in text


# --- states: a certificate excuses nothing until staff accepted its file ------

OCTOBER = date(2014, 10, 1)
ABSENT = ["2014-10-06", "2014-10-07", "2014-10-09"]  # the canteen is closed on Wednesdays
EXCUSED = ["2014-10-07", "2014-10-09"]  # the first day of an absence is always billed


@pytest.fixture
def absent(storage, cookie):
    """Family 100's child ate at the canteen on 2 and 3 October, then was absent on the
    6th, 7th and 9th (declared after the deadline: billed unless excused)."""
    from chalicelib import storage as st

    days = [(d, "validated") for d in ("2014-10-02", "2014-10-03")] + [(d, "absent") for d in ABSENT]
    storage.batch_write([{"pk": st.family_pk("100"), "sk": f"DAY#1#{d}#RESTAURATION", "kind": "day",
                          "child_id": "1", "date": d, "service": "RESTAURATION", "status": status,
                          "responsable_rank": 1} for d, status in days])
    return cookie


def hand_out(client, cookie) -> dict:
    """The parent asks for the upload form of a certificate covering the three absent days."""
    response = submit(client, cookie, dates=ABSENT, size=len(PDF))
    assert response.status_code == 200, response.body
    return json.loads(response.body)["upload"]


def upload_file(upload: dict, body: bytes = PDF) -> None:
    import requests

    answer = requests.post(upload["url"], data=upload["fields"],
                           files={"file": ("certificat.pdf", body, "application/pdf")}, timeout=10)
    assert answer.status_code == 204, answer.text


def deductions(storage, commune, s3) -> list[str]:
    """The days October's invoice of family 100 deducts (the invoicing run, for real)."""
    from chalicelib.documents import Documents
    from chalicelib.invoicing import Invoicing
    from chalicelib.mail import Mailer

    ses = __import__("boto3").client("ses", region_name="eu-west-3")
    run = Invoicing(storage, commune, GUIDE_NOW, documents=Documents(s3, bucket_name("documents")),
                    mailer=Mailer(ses, commune.commune.contact_email), site_url="https://portail.example.org")
    [invoice] = [i for i in run.run(OCTOBER).invoices if i["family_number"] == "100"]
    assert invoice["lines"][0]["days"] == ["2014-10-02", "2014-10-03", *ABSENT]  # every day is on a line
    return [day for deduction in invoice["deductions"] for day in deduction["days"]]


def requests_page(families) -> str:
    import boto3

    key = f"famille/{families['A']['page_key']}/demandes/index.html"
    page = boto3.client("s3", region_name="eu-west-3").get_object(Bucket=bucket_name("pages"), Key=key)
    return html.unescape(page["Body"].read().decode())


def cli(capsys, *argv) -> tuple[int, str, str]:
    from portail.cli import main

    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def the_certificate(storage) -> dict:
    [certificate] = family_items(storage, "100", "CERTIFICATE#")
    return certificate


def test_a_form_handed_out_without_a_file_excuses_nothing(client, absent, storage, commune, s3, families):
    hand_out(client, absent)  # and nothing is uploaded
    assert deductions(storage, commune, s3) == []  # the three absent days are billed
    page = requests_page(families)
    assert "En attente du fichier" in page
    assert "reçu" not in page.lower()
    assert the_certificate(storage)["state"] == "awaited"


def test_an_uploaded_file_is_listed_to_review(client, absent, storage, s3, families, capsys):
    upload = hand_out(client, absent)
    upload_file(upload)
    certificate_id = the_certificate(storage)["certificate_id"]
    status, out, err = cli(capsys, "certificates", "list")
    assert status == 0, err
    assert certificate_id in out and "famille 100" in out and "ALPHA ANNA" in out
    assert "06/10/2014, 07/10/2014, 09/10/2014" in out
    assert "reçu, à examiner, formulaire d'envoi donné le 28/11/2014 à 12:00" in out
    assert out.endswith("1 certificat(s) à examiner, 0 en attente du fichier.\n")
    assert the_certificate(storage)["state"] == "to_review"
    assert "Reçu, en cours d'examen par le service enfance" in requests_page(families)


def test_a_certificate_without_its_file_is_listed_as_awaited(client, absent, storage, s3, capsys):
    hand_out(client, absent)
    status, out, err = cli(capsys, "certificates", "list")
    assert status == 0, err
    assert "en attente du fichier" in out
    assert the_certificate(storage)["state"] == "awaited"


def test_accepting_deducts_the_absence_days(client, absent, storage, commune, s3, families, capsys, mails):
    upload_file(hand_out(client, absent))
    certificate_id = the_certificate(storage)["certificate_id"]
    status, out, err = cli(capsys, "certificates", "accept", "--family", "100", "--id", certificate_id)
    assert status == 0, err
    assert out.startswith(f"Certificat médical accepté : famille 100, enfant 1, {certificate_id}")
    certificate = the_certificate(storage)
    assert (certificate["state"], certificate["decided_by"]) == ("accepted", "staff")
    assert "gsi1pk" not in certificate  # no longer open: off the staff's list
    [message] = storage.family_state("100").messages
    assert message["subject"] == "Certificat médical accepté : ANNA"
    assert "06/10/2014, 07/10/2014, 09/10/2014" in message["body_markdown"]
    assert [m["To"] for m in mails()] == ["alice@example.org"]
    page = requests_page(families)
    assert "Accepté" in page and "Décision sur un certificat médical" in page
    assert deductions(storage, commune, s3) == EXCUSED
    entries = storage.audit_entries(date(2014, 11, 28))
    assert [(e["actor"], e["details"]["certificate_id"]) for e in entries if e["action"] == "certificate_accepted"] == [
        ("staff", certificate_id)]
    assert cli(capsys, "certificates", "list")[1] == "Aucun certificat médical à examiner.\n"


def test_refusing_deducts_nothing_and_tells_the_family_why(client, absent, storage, commune, s3, families, capsys,
                                                           mails):
    upload_file(hand_out(client, absent))
    certificate_id = the_certificate(storage)["certificate_id"]
    status, out, err = cli(capsys, "certificates", "refuse", "--family", "100", "--id", certificate_id,
                           "--reason", "certificat illisible")
    assert status == 0, err
    assert out.startswith(f"Certificat médical refusé : famille 100, enfant 1, {certificate_id}")
    certificate = the_certificate(storage)
    assert (certificate["state"], certificate["refusal_reason"]) == ("refused", "certificat illisible")
    [message] = storage.family_state("100").messages
    assert message["subject"] == "Certificat médical refusé : ANNA"
    assert "Motif : certificat illisible" in message["body_markdown"]
    assert [m["To"] for m in mails()] == ["alice@example.org"]
    assert "Refusé : certificat illisible" in requests_page(families)
    assert deductions(storage, commune, s3) == []


def test_an_awaited_certificate_may_be_refused_never_accepted(client, absent, storage, s3, capsys):
    hand_out(client, absent)
    certificate_id = the_certificate(storage)["certificate_id"]
    before = all_items(storage)
    status, _, err = cli(capsys, "certificates", "accept", "--family", "100", "--id", certificate_id)
    assert status == 1
    assert err == (f"Le certificat {certificate_id} de la famille 100 n'a pas encore de fichier : il ne peut "
                   "pas être accepté (refusez-le avec un motif si le fichier n'arrive pas).\n")
    assert all_items(storage) == before
    status, _, err = cli(capsys, "certificates", "refuse", "--family", "100", "--id", certificate_id,
                         "--reason", "fichier jamais reçu")
    assert status == 0, err
    assert the_certificate(storage)["state"] == "refused"


def test_a_decision_is_taken_once(client, absent, storage, s3, capsys):
    upload_file(hand_out(client, absent))
    certificate_id = the_certificate(storage)["certificate_id"]
    assert cli(capsys, "certificates", "accept", "--family", "100", "--id", certificate_id)[0] == 0
    before = all_items(storage)
    for argv in (["accept"], ["refuse", "--reason", "trop tard"]):
        status, _, err = cli(capsys, "certificates", *argv, "--family", "100", "--id", certificate_id)
        assert status == 1
        assert err == f"Le certificat {certificate_id} de la famille 100 est déjà accepté : il n'y a rien à décider.\n"
    assert all_items(storage) == before


def test_a_refusal_needs_a_reason_and_an_unknown_certificate_is_named(client, absent, storage, s3, capsys):
    upload_file(hand_out(client, absent))
    certificate_id = the_certificate(storage)["certificate_id"]
    before = all_items(storage)
    status, _, err = cli(capsys, "certificates", "refuse", "--family", "100", "--id", certificate_id, "--reason", " ")
    assert status == 1 and err == "Indiquez le motif du refus : il est transmis à la famille.\n"
    status, _, err = cli(capsys, "certificates", "accept", "--family", "200", "--id", certificate_id)
    assert status == 1 and err == f"Aucun certificat {certificate_id} pour la famille 200.\n"
    assert all_items(storage) == before


def test_the_decision_is_conditional_on_the_state_read(client, absent, storage, s3, monkeypatch):
    """Two staff members decide at once: the second one's write finds the state changed."""
    from chalicelib import certificates
    from chalicelib.documents import DocumentError, Documents

    upload_file(hand_out(client, absent))
    documents = Documents(s3, bucket_name("documents"))
    certificate_id = the_certificate(storage)["certificate_id"]
    read = certificates.find(storage, "100", certificate_id)  # what the second one read
    certificates.decide(storage, documents, "100", certificate_id, False, "illisible", "staff", GUIDE_NOW)
    monkeypatch.setattr(certificates, "find", lambda *args: read)
    before = all_items(storage)
    with pytest.raises(DocumentError) as changed:
        certificates.decide(storage, documents, "100", certificate_id, True, "", "staff", GUIDE_NOW)
    assert changed.value.code == "changed_meanwhile"
    assert changed.value.message.endswith("a changé pendant la décision : relisez la liste.")
    assert all_items(storage) == before
    assert the_certificate(storage)["state"] == "refused"


def test_the_staff_list_reads_the_index_never_the_whole_table(client, absent, storage, s3, monkeypatch):
    from chalicelib import certificates
    from chalicelib.documents import Documents

    upload_file(hand_out(client, absent))
    monkeypatch.setattr(storage.client, "scan", lambda **_: pytest.fail("the staff list scanned the table"))
    [listed] = certificates.list_open(storage, Documents(s3, bucket_name("documents")), GUIDE_NOW)
    assert (listed["family_number"], listed["state"]) == ("100", "to_review")


def test_a_paper_certificate_is_accepted_at_once(storage, families):
    item = docs.record_staff_certificate(storage, "100", "1", ["2014-12-10"], GUIDE_NOW)
    assert item["state"] == "accepted" and "gsi1pk" not in item


def test_older_certificates_without_a_state_read_safely():
    from chalicelib import billing, certificates

    by_staff = {"sk": "CERTIFICATE#1#2014-10-06#ab", "child_id": "1", "dates": ABSENT, "recorded_by": "staff"}
    by_parent = {**by_staff, "recorded_by": "parent"}
    assert certificates.state_of(by_staff) == "accepted"
    assert certificates.state_of(by_parent) == "awaited"
    assert billing.certified_days([by_parent]) == set()
    assert len(billing.certified_days([by_staff])) == 3
