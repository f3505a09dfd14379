"""The embedded AWS as S3 and a browser see it: a certificate's
upload through the real presigned POST is checked as S3 checks it, and web pages get
neither CORS nor data; then staff decide a certificate uploaded that way, at once from
two threads."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
import requests
from chalicelib import certificates
from chalicelib.documents import DocumentError, Documents, certificate_item
from chalicelib.storage import Storage
from chalicelib.table import bucket_name, table_name

from portail.sample import add_family

pytestmark = pytest.mark.server

PORTAL = "http://127.0.0.1:8000"  # the portal's origin, as `portail serve` gives it
FOREIGN = "https://evil.example"
MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")  # the portal's clock: not the policy's


@pytest.fixture
def portal_aws(embedded_aws, embedded_resources, monkeypatch):
    """The embedded AWS of `portail serve` on http://127.0.0.1:8000, with its resources."""
    monkeypatch.setattr(embedded_aws, "site_origin", PORTAL)
    return embedded_aws


@pytest.fixture
def documents(portal_aws):
    return Documents(boto3.client("s3"), bucket_name("documents"))


def form(documents, size: int = len(PDF), family: str = "100") -> dict:
    """The presigned POST the function hands a parent (`POST /api/absences/certificate`)."""
    return documents.certificate_upload(family, "1", [date(2014, 12, 9)], "application/pdf", size, NOW)


def post(upload: dict, body: bytes = PDF, fields: dict | None = None, headers: dict | None = None):
    """As a browser posts the form: the fields, then the file last."""
    return requests.post(upload["url"], data=fields if fields is not None else upload["fields"],
                         files={"file": ("certificat.pdf", body, "application/pdf")}, headers=headers or {},
                         timeout=30)


def stored(documents, upload: dict) -> bool:
    return documents.has_object(upload["key"])


def error(answer) -> tuple[int, str, str]:
    text = answer.text
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    message = text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return answer.status_code, code, message


def policy_of(upload: dict) -> dict:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


# --- item 14: the upload is checked as S3 checks it ----------------------------------------------

def test_a_good_pdf_is_stored_then_listed_to_review(portal_aws, documents):
    storage = Storage(boto3.client("dynamodb"), table_name())
    add_family(storage, "100", "alice", None, last_name="ALPHA", child="ANNA", email="alice@example.org")
    upload = form(documents)
    storage.put(certificate_item("100", "1", ["2014-12-09"], upload["key"], "parent", NOW, "application/pdf"))
    [listed] = certificates.list_open(storage, documents, NOW)
    assert listed["state"] == "awaited"  # the form is handed out, nothing is in the bucket

    answer = post(upload)
    assert answer.status_code == 204, answer.text
    assert boto3.client("s3").get_object(Bucket=bucket_name("documents"), Key=upload["key"])["Body"].read() == PDF
    [listed] = certificates.list_open(storage, documents, NOW)
    assert listed["state"] == "to_review"


def test_a_six_megabyte_file_is_too_large(documents):
    upload = form(documents)
    answer = post(upload, b"%PDF" + b"0" * (6 * MB))
    assert error(answer) == (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    assert "<MaxSizeAllowed>5242880</MaxSizeAllowed>" in answer.text
    assert not stored(documents, upload)


def test_an_empty_file_is_too_small(documents):
    upload = form(documents)
    assert error(post(upload, b""))[:2] == (400, "EntityTooSmall")
    assert not stored(documents, upload)


def test_a_text_html_file_is_refused(documents):
    upload = form(documents)
    answer = post(upload, b"<script>alert(1)</script>", fields={**upload["fields"], "Content-Type": "text/html"})
    assert error(answer) == (403, "AccessDenied", 'Invalid according to Policy: Policy Condition failed: '
                                                  '["eq", "$Content-Type", "application/pdf"]')
    assert not stored(documents, upload)


def test_a_key_under_another_familys_prefix_is_refused(documents):
    upload = form(documents)
    elsewhere = upload["key"].replace("certificats/100/", "certificats/200/")
    answer = post(upload, fields={**upload["fields"], "key": elsewhere})
    assert error(answer)[:2] == (403, "AccessDenied")
    assert '"$key"' in error(answer)[2]
    assert not documents.has_object(elsewhere)


def test_an_expired_policy_is_refused(portal_aws, documents, monkeypatch):
    upload = form(documents)
    # Six minutes later by the real clock (botocore signed the 5-minute policy with it).
    later = datetime.now(UTC) + timedelta(minutes=6)
    monkeypatch.setattr(portal_aws.guard, "clock", lambda: later)
    assert error(post(upload)) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    assert not stored(documents, upload)


def test_a_tampered_policy_is_refused(documents):
    upload = form(documents)
    policy = policy_of(upload)
    policy["conditions"] = [["content-length-range", 1, 100 * MB] if isinstance(c, list) else c
                            for c in policy["conditions"]]
    tampered = base64.b64encode(json.dumps(policy).encode()).decode()
    answer = post(upload, b"%PDF" + b"0" * (6 * MB), fields={**upload["fields"], "policy": tampered})
    assert error(answer)[:2] == (403, "SignatureDoesNotMatch")
    assert not stored(documents, upload)


def test_a_field_the_policy_does_not_name_is_refused(documents):
    upload = form(documents)
    answer = post(upload, fields={**upload["fields"], "success_action_redirect": "https://evil.example/"})
    assert error(answer) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: "
                                                  "success_action_redirect")
    # Fields named x-ignore-* are S3's exception.
    assert post(upload, fields={**upload["fields"], "x-ignore-note": "ok"}).status_code == 204


def test_an_upload_without_policy_is_refused(documents):
    upload = form(documents)
    answer = post(upload, fields={"key": upload["key"], "Content-Type": "application/pdf"})
    assert error(answer) == (403, "AccessDenied", "Access Denied")
    assert not stored(documents, upload)


def test_unknown_credentials_are_refused(documents):
    upload = form(documents)
    credential = upload["fields"]["x-amz-credential"].replace("embedded/", "AKIAOTHER/")
    answer = post(upload, fields={**upload["fields"], "x-amz-credential": credential})
    assert error(answer)[:2] == (403, "InvalidAccessKeyId")


# --- item 6: closed to web pages -------------------------------------------------------------------

def cors_headers(answer) -> dict:
    return {k: v for k, v in answer.headers.items() if k.lower().startswith("access-control-")}


def test_a_foreign_origin_gets_no_cors_grant_and_no_data(portal_aws):
    for path in ("/", f"/{bucket_name('documents')}", "/moto-api/data.json"):
        answer = requests.get(portal_aws.endpoint_url + path, headers={"Origin": FOREIGN}, timeout=10)
        assert answer.status_code == 403
        assert cors_headers(answer) == {}
        assert bucket_name("pages") not in answer.text and table_name() not in answer.text
    # A DynamoDB call as a page's script would make it (any signature: moto checks none).
    answer = requests.post(portal_aws.endpoint_url + "/", data=json.dumps({"TableName": table_name()}),
                           headers={"Origin": FOREIGN, "Content-Type": "application/x-amz-json-1.0",
                                    "X-Amz-Target": "DynamoDB_20120810.Scan"}, timeout=10)
    assert answer.status_code == 403 and cors_headers(answer) == {} and "Items" not in answer.text


def test_a_foreign_preflight_is_refused(portal_aws):
    for path in ("/", f"/{bucket_name('documents')}"):
        answer = requests.options(portal_aws.endpoint_url + path, timeout=10, headers={
            "Origin": FOREIGN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-amz-target,authorization"})
        assert answer.status_code == 403
        assert cors_headers(answer) == {}


def test_a_cross_site_form_cannot_reset_the_embedded_aws(portal_aws):
    """A cross-site HTML form posts without preflight (and may send no Origin at all)."""
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": FOREIGN}, {"Origin": "null"}):
        answer = requests.post(portal_aws.endpoint_url + "/moto-api/reset", data={"a": "b"}, headers=headers,
                               timeout=10)
        assert answer.status_code == 403, headers
    assert table_name() in boto3.client("dynamodb").list_tables()["TableNames"]


def test_another_host_name_is_refused(portal_aws):
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1."""
    answer = requests.get(portal_aws.endpoint_url + "/", headers={"Host": f"evil.example:{portal_aws.port}"},
                          timeout=10)
    assert answer.status_code == 403 and bucket_name("pages") not in answer.text


def test_boto3_and_local_tools_still_work_without_cors(portal_aws):
    assert table_name() in boto3.client("dynamodb").list_tables()["TableNames"]
    # moto's own CORS headers are removed from every answer.
    answer = requests.get(portal_aws.endpoint_url + "/", timeout=10)
    assert answer.status_code == 200 and cors_headers(answer) == {}
    # localhost is the loopback too.
    answer = requests.get(f"http://localhost:{portal_aws.port}/", timeout=10)
    assert answer.status_code == 200


def test_the_portals_own_origin_may_upload_a_certificate_and_nothing_else(portal_aws, documents):
    path = portal_aws.endpoint_url + f"/{bucket_name('documents')}"
    preflight = requests.options(path, timeout=10, headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == PORTAL
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
    upload = form(documents)
    answer = post(upload, headers={"Origin": PORTAL, "Sec-Fetch-Site": "same-site"})
    assert answer.status_code == 204, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL
    assert stored(documents, upload)
    # The policy still applies to the portal's own pages.
    too_large = post(form(documents), b"0" * (6 * MB), headers={"Origin": PORTAL})
    assert too_large.status_code == 400
    # Its origin reads nothing else: no table, no other bucket, no other method.
    for method, url in (("GET", portal_aws.endpoint_url + "/"), ("GET", path),
                        ("POST", portal_aws.endpoint_url + "/moto-api/reset")):
        answer = requests.request(method, url, headers={"Origin": PORTAL}, timeout=10)
        assert answer.status_code == 403 and cors_headers(answer) == {}
    answer = requests.options(portal_aws.endpoint_url + "/", timeout=10, headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "POST"})
    assert answer.status_code == 403


def test_without_a_portal_origin_no_origin_is_allowed(embedded_aws, embedded_resources):
    documents = Documents(boto3.client("s3"), bucket_name("documents"))
    answer = post(form(documents), headers={"Origin": PORTAL})
    assert answer.status_code == 403 and cors_headers(answer) == {}


# --- item 2: two staff members decide the same certificate at once ----------------------------------

def test_two_decisions_at_once_only_one_is_written(portal_aws, documents):
    storage = Storage(boto3.client("dynamodb"), table_name())
    add_family(storage, "100", "alice", None, last_name="ALPHA", child="ANNA", email="alice@example.org")
    upload = form(documents)
    item = certificate_item("100", "1", ["2014-12-09"], upload["key"], "parent", NOW, "application/pdf")
    storage.put(item)
    assert post(upload).status_code == 204
    outcomes, lock = [], threading.Lock()
    barrier = threading.Barrier(8)

    def decide(number: int) -> None:
        accept = number % 2 == 0
        barrier.wait()
        try:
            certificates.decide(storage, documents, "100", item["certificate_id"], accept,
                                "" if accept else "illisible", f"agent{number}", NOW)
            outcome = "accepted" if accept else "refused"
        except DocumentError as refused:
            outcome = refused.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    decided = [o for o in outcomes if o in ("accepted", "refused")]
    assert len(outcomes) == 8 and len(decided) == 1, outcomes
    assert set(outcomes) - set(decided) <= {"changed_meanwhile", "already_decided"}
    [stored_item] = storage.query_partition("FAMILY#100", "CERTIFICATE#")
    assert stored_item["state"] == decided[0]
    requests_lines = [r for r in storage.query_partition("FAMILY#100", "REQUEST#")
                      if r["type"] == "certificate_decision"]
    assert len(requests_lines) == 1


# --- the policy's other conditions, as S3 reads them (no server needed) ------------------------------

def signed(conditions: list, fields: dict, expires: datetime | None = None) -> list[tuple[str, str]]:
    """A form with a policy signed by the embedded credentials, as botocore signs it."""
    from portail.post_policy import signature

    expiration = (expires or datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = "embedded/20141128/eu-west-3/s3/aws4_request"
    base = {"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": "20141128T110000Z"}
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": [
        *conditions, *({k: v} for k, v in base.items())]}).encode()).decode()
    return [*fields.items(), *base.items(), ("policy", policy),
            ("x-amz-signature", signature("embedded", credential, policy))]


@pytest.mark.parametrize(("conditions", "fields", "refused"), [
    ([["starts-with", "$key", "certificats/100/"]], {"key": "certificats/100/1/a.pdf"}, None),
    ([["starts-with", "$key", "certificats/100/"]], {"key": "certificats/200/1/a.pdf"}, "AccessDenied"),
    ([["eq", "$key", "a.pdf"], ["starts-with", "$Content-Type", "image/"]],
     {"key": "a.pdf", "content-type": "image/png"}, None),  # field names without case
    ([["eq", "$key", "a.pdf"], ["starts-with", "$Content-Type", "image/"]],
     {"key": "a.pdf", "Content-Type": "image/png,text/html"}, "AccessDenied"),
    ([{"key": "a.pdf"}, {"bucket": "autre-seau"}], {"key": "a.pdf"}, "AccessDenied"),
    ([{"key": "a.pdf"}, ["content-length-range", 1, 10]], {"key": "a.pdf"}, None),
    ([{"key": "a.pdf"}, ["between", "$key", "a"]], {"key": "a.pdf"}, "InvalidPolicyDocument"),
    ([{"key": "a.pdf"}], {"key": "a.pdf", "acl": "public-read"}, "AccessDenied"),  # a field no condition names
])
def test_conditions_are_read_as_s3_reads_them(conditions, fields, refused):
    from portail.post_policy import PolicyRefused, check_upload

    form_fields = signed(conditions, fields)
    if refused is None:
        check_upload(form_fields, 5, "portail-famille-documents", {"embedded": "embedded"}, datetime.now(UTC))
        return
    with pytest.raises(PolicyRefused) as error:
        check_upload(form_fields, 5, "portail-famille-documents", {"embedded": "embedded"}, datetime.now(UTC))
    assert error.value.code == refused


def test_a_form_without_file_or_key_or_with_a_field_twice_is_refused():
    from portail.post_policy import PolicyRefused, check_upload

    good = signed([{"key": "a.pdf"}], {"key": "a.pdf"})
    for fields, size, code in ((good, None, "InvalidArgument"),
                               ([f for f in good if f[0] != "key"], 5, "InvalidArgument"),
                               ([*good, ("key", "b.pdf")], 5, "InvalidArgument")):
        with pytest.raises(PolicyRefused) as error:
            check_upload(fields, size, "seau", {"embedded": "embedded"}, datetime.now(UTC))
        assert (error.value.status, error.value.code) == (400, code)


def test_a_pages_form_posted_without_script_is_checked_and_stored(documents):
    """A form navigation says `Origin: null` (the pages' Referrer-Policy): let through to
    the documents bucket with its policy checked (S3's redirect back to the function),
    refused anywhere else or when it is no navigation."""
    redirect = "http://127.0.0.1:8000/api/absences/certificate/0123456789abcdef/recu?retour=%2Ffamille%2F"
    upload = documents.certificate_upload("100", "1", [date(2014, 12, 9)], "application/pdf", None, NOW,
                                          redirect=redirect, size_known=False)
    navigation = {"Origin": "null", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-site"}
    fetched = post(upload, headers={**navigation, "Sec-Fetch-Mode": "cors"})
    assert fetched.status_code == 403 and not stored(documents, upload)
    forged = post(upload, fields={**upload["fields"], "success_action_redirect": "https://evil.example/"},
                  headers=navigation)
    assert error(forged)[:2] == (403, "AccessDenied") and not stored(documents, upload)
    answer = requests.post(upload["url"], data=upload["fields"], headers=navigation, timeout=30,
                           files={"file": ("certificat.pdf", PDF, "application/pdf")}, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(redirect)
    assert stored(documents, upload)
