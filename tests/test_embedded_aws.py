"""The embedded AWS (moto's server behind one lock): the race of docs/architecture.md §6, and the resources."""

from __future__ import annotations

import sys
import threading

import boto3
import pytest
from botocore.config import Config
from chalicelib import table

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
