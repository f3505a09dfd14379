"""Medical certificates (DESIGN §4, `POST /api/absences/certificate`): a presigned S3 POST
whose policy fixes the key, the content type and the size; the certificate and the
family's request line are recorded; nothing is written after a refusal."""

from __future__ import annotations

import base64
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
    assert [(i["date"], i["status"], i["message"]) for i in request["items"]] == [
        ("2014-12-09", "received", "Certificat médical reçu."),
        ("2014-12-10", "received", "Certificat médical reçu.")]
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
    html = page["Body"].read().decode()
    assert "Certificat médical reçu" in html
