"""The embedded AWS (moto's server behind one lock): the race of docs/architecture.md §6, the resources, and
the direct clients of its own process (portail/inprocess_aws.py)."""

from __future__ import annotations

import sys
import threading

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError
from chalicelib import table

from portail import aws
from portail.embedded_aws import REGION, EmbeddedAWS, SerialWSGI
from portail.ports import PortInUse

pytestmark = pytest.mark.server

THREADS = 60
CAPACITY = 10
# With CPython's default switch interval (5 ms) a request seldom loses the GIL in the
# middle of moto's check-then-write, and the race hides (checked: without the lock,
# 10 every time). Switching threads every microsecond makes it show: without the lock,
# 11 to 14 accepted and moto's own "dictionary changed size" errors; with it, 10.
RACE_SWITCH_INTERVAL = 1e-6


def _client(service: str, aws: EmbeddedAWS):
    # A connection pool large enough for every thread, no retry hiding a failure.
    return boto3.client(
        service,
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id="embedded",
        aws_secret_access_key="embedded",
        config=Config(max_pool_connections=THREADS, retries={"max_attempts": 1}),
    )


def _race(client, name: str, day: str) -> list[str]:
    """THREADS concurrent bookings of `day`; each answer is "accepted" or "refused"."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    outcomes_lock = threading.Lock()

    def book(number: int) -> None:
        barrier.wait()
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {"pk": {"S": "COUNTER"}, "sk": {"S": day}},
                            "UpdateExpression": "ADD n :one",
                            "ConditionExpression": "attribute_not_exists(n) OR n < :cap",
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":cap": {"N": str(CAPACITY)},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": name,
                            "Item": {"pk": {"S": f"BOOKING#{day}"}, "sk": {"S": f"{number:02d}"}},
                        }
                    },
                ]
            )
            outcome = "accepted"
        except client.exceptions.TransactionCanceledException:
            outcome = "refused"
        with outcomes_lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(THREADS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(RACE_SWITCH_INTERVAL)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    return outcomes


def test_conditional_transactions_never_exceed_the_capacity(embedded_aws, embedded_resources):
    name = table.table_name()
    client = _client("dynamodb", embedded_aws)  # boto3 clients are thread-safe
    # Several rounds: without the lock one round passes by luck about half the time.
    for day in ("2014-12-08", "2014-12-09", "2014-12-11"):
        outcomes = _race(client, name, day)

        assert len(outcomes) == THREADS  # no request failed for another reason
        assert outcomes.count("accepted") == CAPACITY, day
        counter = client.get_item(
            TableName=name, Key={"pk": {"S": "COUNTER"}, "sk": {"S": day}}, ConsistentRead=True
        )["Item"]
        assert counter["n"] == {"N": str(CAPACITY)}
        bookings = client.query(
            TableName=name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"BOOKING#{day}"}},
        )["Items"]
        assert len(bookings) == CAPACITY


def test_create_resources_makes_the_table_the_buckets_and_the_sender(embedded_aws, embedded_resources, commune):
    # Plain clients: configure_environment pointed the process at the embedded AWS.
    dynamodb = boto3.client("dynamodb")
    assert dynamodb.meta.endpoint_url == embedded_aws.endpoint_url
    described = dynamodb.describe_table(TableName=table.table_name())["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert [index["IndexName"] for index in described["GlobalSecondaryIndexes"]] == [table.GSI1, table.GSI2]
    ttl = dynamodb.describe_time_to_live(TableName=table.table_name())
    assert ttl["TimeToLiveDescription"]["AttributeName"] == table.TTL_ATTRIBUTE

    s3 = boto3.client("s3")
    names = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert names == {table.bucket_name(kind) for kind in ("site", "pages", "documents")}
    for name in names:
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == REGION

    ses = boto3.client("ses")
    assert commune.commune.contact_email in ses.list_identities()["Identities"]

    # Twice is harmless (a restart over a kept state).
    assert embedded_aws.create_resources() == embedded_resources


def test_reset_forgets_everything(embedded_aws, embedded_resources):
    embedded_aws.reset()
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []


def test_configure_environment_removes_what_would_win_over_the_endpoint(embedded_aws):
    environment = {
        "AWS_PROFILE": "production",
        "AWS_SESSION_TOKEN": "real",
        "AWS_ENDPOINT_URL_S3": "https://s3.eu-west-3.amazonaws.com",
        "HOME": "/home/agent",
    }
    embedded_aws.configure_environment(environment)
    assert environment == {
        "HOME": "/home/agent",
        "AWS_ENDPOINT_URL": embedded_aws.endpoint_url,
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "embedded",
        "AWS_SECRET_ACCESS_KEY": "embedded",
    }


def test_a_busy_port_is_refused_clearly(embedded_aws):
    with pytest.raises(PortInUse, match=str(embedded_aws.port)):
        EmbeddedAWS(port=embedded_aws.port).start()


def test_the_lock_holds_until_the_body_is_produced():
    inside = []

    def app(environ, start_response):
        start_response("200 OK", [])

        def body():
            inside.append(serial.lock.locked())
            yield b"ok"

        return body()

    serial = SerialWSGI(app)
    assert serial({}, lambda status, headers: None) == [b"ok"]
    assert inside == [True]
    assert not serial.lock.locked()


# --- direct clients: the embedded AWS answering its own process without a socket
# (portail/inprocess_aws.py): the same answers as over HTTP, errors included.

KEY = "famille/clé é+ %/index.html"  # quoted in the URL: the path must come back the same


def _plain(answer):
    """An answer without what differs from one request to the next."""
    if isinstance(answer, dict):
        return {k: _plain(v) for k, v in answer.items()
                if k not in ("ResponseMetadata", "LastModified", "MessageId", "Body")}
    if isinstance(answer, list):
        return [_plain(v) for v in answer]
    return answer


def _error(call) -> tuple:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["Error"], error["ResponseMetadata"]["HTTPStatusCode"], error.get("CancellationReasons")


def _session(direct: bool) -> list:
    """The same requests, each answer kept: writes, reads, refusals of DynamoDB, S3 and SES."""
    dynamodb, s3, ses = (aws.client(name, direct=direct) for name in ("dynamodb", "s3", "ses"))
    name, pages = table.table_name(), table.bucket_name("pages")
    item = {"pk": {"S": "FAMILY#1"}, "sk": {"S": "DAY#1"}, "n": {"N": "1.50"}, "m": {"M": {"l": {"L": [{"NULL": True}]}}},
            "b": {"B": b"\x00\xff"}, "ss": {"SS": ["a", "é"]}}
    answers = [
        dynamodb.put_item(TableName=name, Item=item, ReturnValues="ALL_OLD"),
        dynamodb.put_item(TableName=name, Item=item, ReturnValues="ALL_OLD"),
        dynamodb.get_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True),
        dynamodb.get_item(TableName=name, Key={"pk": {"S": "none"}, "sk": {"S": "none"}}),
        dynamodb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "FAMILY#1"}, "sk": {"S": f"DAY#{n}"}}}}
                                                       for n in range(2, 30)][:25]}),
        dynamodb.query(TableName=name, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": item["pk"]},
                       Limit=10),
        _error(lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "X"}, "sk": {"S": "Y"}}}}])),
        _error(lambda: dynamodb.get_item(TableName="absent", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})),
        dynamodb.scan(TableName=name, Limit=5),
        s3.put_object(Bucket=pages, Key=KEY, Body="<p>é</p>".encode(), ContentType="text/html; charset=utf-8",
                      CacheControl="private, no-cache"),
        s3.head_object(Bucket=pages, Key=KEY),
        s3.get_object(Bucket=pages, Key=KEY),
        s3.get_object(Bucket=pages, Key=KEY)["Body"].read(),
        s3.list_objects_v2(Bucket=pages, Prefix="famille/"),
        _error(lambda: s3.get_object(Bucket=pages, Key="famille/absent")),
        _error(lambda: s3.head_object(Bucket=pages, Key="famille/absent")),
        s3.delete_object(Bucket=pages, Key=KEY),
        s3.list_objects_v2(Bucket=pages, Prefix="famille/"),
        ses.send_email(Source=ses.list_identities()["Identities"][0], Destination={"ToAddresses": ["a@example.org"]},
                       Message={"Subject": {"Data": "Objet é"}, "Body": {"Text": {"Data": "Texte"}}}),
    ]
    return [_plain(answer) for answer in answers]


def test_direct_clients_get_the_answers_of_http_without_a_socket(embedded_aws, embedded_resources, monkeypatch):
    over_http = _session(direct=False)
    embedded_aws.reset()
    embedded_aws.create_resources()

    def no_socket(*args, **kwargs):
        raise AssertionError("a direct client opened a connection")

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", no_socket)
    assert _session(direct=True) == over_http
    # The refusals above are moto's own, not botocore's: a direct client skips its model check.
    assert over_http[6][0]["Code"] == "TransactionCanceledException"
    assert over_http[14][0]["Code"] == "NoSuchKey" and over_http[15][1] == 404


def test_only_clients_of_the_embedded_aws_of_this_process_are_direct(embedded_aws, embedded_resources, monkeypatch):
    from botocore.exceptions import ParamValidationError

    sent = []

    def network(pool, method, url, *args, **kwargs):
        sent.append((pool.port, url))
        raise urllib3.exceptions.NewConnectionError(None, "refusée")

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", network)
    # Another address: over the network as before.
    with pytest.raises(Exception, match="127.0.0.1:9"):
        aws.client("dynamodb", "http://127.0.0.1:9", direct=True).list_tables()
    assert sent and sent[0] == (9, "/")
    # AWS itself: botocore still checks every request.
    with pytest.raises(ParamValidationError):
        aws.client("dynamodb", "https://dynamodb.eu-west-3.amazonaws.com", direct=True).get_item(TableName="t", Key={"pk": 1})
