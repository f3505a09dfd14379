"""The one DynamoDB table, as code: the embedded AWS, the tests and the CloudFormation
template all create it from this definition. Key layout: docs/data-model.md."""

from __future__ import annotations

import os

TABLE_ENV = "PORTAIL_TABLE"
DEFAULT_TABLE_NAME = "portail-famille"

# Buckets: public site, private family pages, private documents (invoice PDFs,
# medical certificates).
BUCKET_ENVS = {
    "site": "PORTAIL_SITE_BUCKET",
    "pages": "PORTAIL_PAGES_BUCKET",
    "documents": "PORTAIL_DOCUMENTS_BUCKET",
}
DEFAULT_BUCKETS = {
    "site": "portail-famille-site",
    "pages": "portail-famille-pages",
    "documents": "portail-famille-documents",
}

TTL_ATTRIBUTE = "expires_at"
GSI1 = "gsi1"
GSI2 = "gsi2"

KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
    {"AttributeName": "gsi1pk", "AttributeType": "S"},
    {"AttributeName": "gsi1sk", "AttributeType": "S"},
    {"AttributeName": "gsi2pk", "AttributeType": "S"},
    {"AttributeName": "gsi2sk", "AttributeType": "S"},
]
GLOBAL_SECONDARY_INDEXES = [
    {
        # Cross-family views: the list of families, a service's children on a day
        # (headcount, capacity), pending requests for staff, the staff journal by actor.
        "IndexName": GSI1,
        "KeySchema": [
            {"AttributeName": "gsi1pk", "KeyType": "HASH"},
            {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
    {
        # A second view for items that gsi1 already files elsewhere: the staff journal by
        # family (gsi1 files the same audit entries by actor).
        "IndexName": GSI2,
        "KeySchema": [
            {"AttributeName": "gsi2pk", "KeyType": "HASH"},
            {"AttributeName": "gsi2sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
]


def table_name() -> str:
    return os.environ.get(TABLE_ENV, DEFAULT_TABLE_NAME)


def bucket_name(kind: str) -> str:
    return os.environ.get(BUCKET_ENVS[kind], DEFAULT_BUCKETS[kind])


def create_table_request(name: str) -> dict:
    """Arguments of DynamoDB's CreateTable for the portal's table."""
    return {
        "TableName": name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(client, name: str, *, wait: bool = True) -> None:
    """Creates the table and turns its TTL on (sessions, reset tokens expire). `wait=False`
    for moto in-process, whose tables are ACTIVE at once (the tests make one per test)."""
    client.create_table(**create_table_request(name))
    if wait:
        client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def cloudformation_resource() -> dict:
    """The same table as a CloudFormation resource (the deployment issue merges it)."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "KeySchema": KEY_SCHEMA,
            "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
            "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    }
