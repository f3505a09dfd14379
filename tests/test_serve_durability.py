"""`portail serve --data DIR` keeps what it answered: a real process killed with SIGKILL
between two bookings, stopped with SIGTERM, started again (portail/durable_aws.py)."""

from __future__ import annotations

import http.client
import io
import json
import re
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest
from chalicelib import table
from chalicelib.storage import Storage

from portail.aws_journal import is_write, read_journal
from portail.durable_aws import DurableState
from tests.conftest import ROOT, shipped_environment

NOW = "2014-11-24T12:00:00+01:00"  # a Monday: December's days are still open
PASSWORD = "une phrase de passe tres longue"
STARTUP_SECONDS = 120  # ~4 s each; only a hang should reach it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    """One `portail serve --data` process, read until it says it is ready."""

    def __init__(self, tmp_path, data) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portail.cli", "serve", "--data", str(data), "--port", str(self.port),
             "--aws-port", "0", "--now", NOW, "--output", str(tmp_path / "output")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=shipped_environment())
        lines = []
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError("".join(lines) + self.process.stderr.read())
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        self.printed = "".join(lines)
        endpoint = re.search(r"AWS embarqué \(DynamoDB, S3, SES\) : (\S+)", self.printed).group(1)
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-3",
                              aws_access_key_id="embedded", aws_secret_access_key="embedded")
        self.storage = Storage(client, table.table_name())

    def post(self, path: str, body: dict, cookie: str = "") -> tuple[int, dict, list[str]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("POST", path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "Origin": f"http://127.0.0.1:{self.port}", "Cookie": cookie})
        answer = connection.getresponse()
        data = answer.read()
        cookies = [value.split(";")[0] for name, value in answer.getheaders() if name.lower() == "set-cookie"]
        connection.close()
        return answer.status, json.loads(data or b"{}"), cookies

    def log_in(self) -> str:
        status, _, cookies = self.post("/api/login", {"login": "alice", "password": PASSWORD})
        assert status == 200
        return "; ".join(cookies)

    def book(self, cookie: str, day: str) -> int:
        status, answer, _ = self.post("/api/bookings", {"child_id": "1", "items": [
            {"date": day, "service": "RESTAURATION", "action": "reserve"}]}, cookie)
        assert [r["status"] for r in answer.get("results", [])] == ["validated"], answer
        return status

    def month_page(self, cookie: str, page_key: str) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", f"/famille/{page_key}/enfants/1/2014-12/", headers={"Cookie": cookie})
        answer = connection.getresponse()
        html = answer.read().decode()
        connection.close()
        assert answer.status == 200, html[:300]
        return html

    def days(self) -> dict[str, str]:
        return {item["date"]: item["status"] for item in self.storage.query_partition("FAMILY#100")
                if item.get("kind") == "day"}

    def stop(self, sig) -> tuple[str, str]:
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=60)
        return out, err


@pytest.mark.server
def test_what_was_answered_survives_kill_9_and_sigterm_and_a_second_portal_is_refused(tmp_path):
    from portail.sample import add_family

    data = tmp_path / "donnees"
    first = Portal(tmp_path, data)
    assert f"Données conservées dans {data}/" in first.printed
    profile = add_family(first.storage, "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA",
                         email="alice@example.org")
    assert first.book(first.log_in(), "2014-12-05") == 200
    first.process.kill()  # SIGKILL: no snapshot, no goodbye
    first.process.wait(timeout=30)
    # A write cut short by the crash (it was never answered): garbage at the journal's end.
    journal = next(data.glob("journal-*.log"))
    with open(journal, "ab") as torn:
        torn.write(b"\x00\x00\x10\x00half a record")

    second = Portal(tmp_path, data)
    assert f"Données reprises de {data}/" in second.printed and "rejouée(s) depuis le journal" in second.printed
    assert second.days() == {"2014-12-05": "validated"}
    cookie = second.log_in()  # this run's page cookies (a new key pair)
    html = second.month_page(cookie, profile["page_key"])
    assert 'value="2014-12-05|RESTAURATION|cancel"' in html  # booked, so it can be cancelled
    assert 'value="2014-12-08|RESTAURATION|reserve"' in html
    assert second.book(cookie, "2014-12-08") == 200
    out, err = second.stop(signal.SIGTERM)
    assert second.process.returncode == 0 and "Portail Famille arrêté." in out, err
    assert "fin du journal" in err and "est incomplète" in err and "ignorée" in err  # the torn tail, said
    assert "Traceback" not in err
    assert (data / "snapshot.pickle").exists()
    assert [read_journal(path)[0] for path in data.glob("journal-*.log")] == [[]]  # the snapshot holds it all

    third = Portal(tmp_path, data)
    try:
        assert f"Données reprises de {data}/." in third.printed  # from the snapshot: nothing replayed
        assert third.days() == {"2014-12-05": "validated", "2014-12-08": "validated"}
        html = third.month_page(third.log_in(), profile["page_key"])
        assert 'value="2014-12-08|RESTAURATION|cancel"' in html
        # A second portal on the same folder: one French sentence, before anything starts.
        refused = subprocess.run([sys.executable, "-m", "portail.cli", "serve", "--data", str(data),
                                  "--port", str(third.port)], cwd=ROOT, capture_output=True, text=True,
                                 timeout=60, env=shipped_environment())
        assert refused.returncode == 1
        assert (f"Le dossier de données {data} est déjà utilisé par un autre « portail serve » "
                f"(processus {third.process.pid})") in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        third.process.kill()
        third.process.wait(timeout=30)


# --- the journal alone (no server) -------------------------------------------------------------

def _request(target: str, body: bytes = b"{}") -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "HTTP_X_AMZ_TARGET": target,
            "CONTENT_TYPE": "application/x-amz-json-1.0", "HTTP_HOST": "127.0.0.1:1", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body)}


def test_reads_are_not_journaled_and_a_torn_record_ends_the_journal(tmp_path):
    assert not is_write(_request("DynamoDB_20120810.Query"))
    assert not is_write({"REQUEST_METHOD": "GET"})
    assert not is_write({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"},
                        b"Action=GetSendQuota&Version=2010-12-01")
    assert is_write(_request("DynamoDB_20120810.TransactWriteItems"))
    assert is_write({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"},
                    b"Action=SendEmail&Version=2010-12-01")

    warnings: list[str] = []
    state = DurableState(tmp_path, warn=warnings.append)
    state.lock()
    state.restore(lambda environ, start_response: [])
    for n in range(3):
        state.record(_request("DynamoDB_20120810.PutItem", b'{"n": %d}' % n), b'{"n": %d}' % n)
    state._close_journal()  # as a crash leaves it (no snapshot)
    state.unlock()
    journal = tmp_path / "journal-1.log"
    whole = journal.read_bytes()
    journal.write_bytes(whole[:-3])  # the last record cut short

    replayed = []

    def moto(environ, start_response):
        replayed.append((environ["HTTP_X_AMZ_TARGET"], environ["wsgi.input"].read()))
        start_response("200 OK", [])
        return [b"{}"]

    again = DurableState(tmp_path, warn=warnings.append)
    again.lock()
    # A second holder of the folder, in this process or another: refused.
    with pytest.raises(Exception, match="déjà utilisé par un autre « portail serve »"):
        DurableState(tmp_path).lock()
    again.restore(moto)
    assert replayed == [("DynamoDB_20120810.PutItem", b'{"n": 0}'), ("DynamoDB_20120810.PutItem", b'{"n": 1}')]
    assert again.replayed == 2 and again.restored
    assert len(warnings) == 1 and "est incomplète" in warnings[0]
    assert (tmp_path / "journal-1.ignored").exists()
    # New writes follow the last whole record: a next start reads them all.
    again.record(_request("DynamoDB_20120810.PutItem", b'{"n": 9}'), b'{"n": 9}')
    assert len(read_journal(journal)[0]) == 3
    again._close_journal()
    again.unlock()


@pytest.mark.server
def test_a_snapshot_taken_while_serving_and_the_journal_after_it_give_the_state_back(tmp_path):
    """The journal past its bound: a snapshot while serving, a new journal; after a crash,
    both are read (the snapshot, then the writes after it), S3 and SES included."""
    from portail.embedded_aws import EmbeddedAWS

    def started() -> EmbeddedAWS:
        durable = DurableState(tmp_path, compact_bytes=4000)
        durable.lock()
        return EmbeddedAWS(durable=durable).start()

    aws = started()
    dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
    dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    aws.client("ses").verify_email_identity(EmailAddress="mairie@example.org")
    for _ in range(30):
        dynamodb.update_item(TableName="t", Key={"pk": {"S": "compteur"}}, UpdateExpression="ADD n :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})
    s3.put_object(Bucket="pages", Key="famille/é/index.html", Body=b"<p>page</p>", ContentType="text/html")
    assert (tmp_path / "snapshot.pickle").exists()  # written while serving
    assert not (tmp_path / "journal-1.log").exists()  # replaced by the snapshot and a new journal
    aws.durable.open = False  # a crash: no snapshot at the stop
    aws.stop()

    aws = started()
    try:
        assert aws.durable.restored and aws.durable.replayed > 0  # the snapshot, then the journal after it
        dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
        # Counted once each: nothing of the snapshot was replayed again.
        assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "compteur"}})["Item"]["n"] == {"N": "30"}
        page = s3.get_object(Bucket="pages", Key="famille/é/index.html")
        assert (page["Body"].read(), page["ContentType"]) == (b"<p>page</p>", "text/html")
        assert aws.client("ses").list_identities()["Identities"] == ["mairie@example.org"]
    finally:
        aws.stop()
