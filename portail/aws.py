"""boto3 clients for the tooling: the embedded AWS (AWS_ENDPOINT_URL) or real AWS."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError
from chalicelib import table
from chalicelib.storage import Storage


class AWSUnavailable(Exception):
    """No AWS to talk to: the message says what to start or configure."""


def is_local_endpoint(endpoint_url: str | None = None) -> bool:
    """True when the AWS in use is the embedded one of `portail serve` (loopback)."""
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or ""
    return urlsplit(endpoint_url).hostname in ("127.0.0.1", "localhost", "::1")


def client(service: str, endpoint_url: str | None = None, *, direct: bool = False):
    """`direct=True`, for the embedded AWS only (AWS's clients are never direct): botocore
    does not check each request against the API's model before sending it (a tenth of
    the CPU of the demo's seed and export, whose requests the portal's own code builds
    from fixed data), and when the embedded AWS runs in this process, the requests reach
    it without a socket (portail/inprocess_aws.py: a third of that CPU)."""
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    credentials = {}
    local = is_local_endpoint(endpoint_url)
    if local:
        # The embedded AWS of `portail serve` accepts any credentials; never send real ones.
        credentials = {"aws_access_key_id": "embedded", "aws_secret_access_key": "embedded",
                       "aws_session_token": None}
    direct = direct and local
    try:
        made = boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"),
            config=Config(retries={"mode": "standard", "max_attempts": 3}, parameter_validation=not direct),
            **credentials,
        )
    except (NoRegionError, NoCredentialsError) as error:
        raise AWSUnavailable(f"AWS n'est pas configuré : {error}") from None
    if direct:
        from portail import inprocess_aws

        inprocess_aws.attach(made)
    return made


def storage(endpoint_url: str | None = None, *, direct: bool = False) -> Storage:
    dynamodb = client("dynamodb", endpoint_url, direct=direct)
    try:
        dynamodb.describe_table(TableName=table.table_name())
    except EndpointConnectionError:
        raise AWSUnavailable(
            f"Impossible de joindre AWS à {dynamodb.meta.endpoint_url} : lancez « make run » "
            "(AWS embarqué) ou donnez --endpoint-url."
        ) from None
    except NoCredentialsError:
        raise AWSUnavailable("Aucun identifiant AWS : configurez AWS_PROFILE ou AWS_ACCESS_KEY_ID.") from None
    except dynamodb.exceptions.ResourceNotFoundException:
        raise AWSUnavailable(f"La table {table.table_name()} n'existe pas à {dynamodb.meta.endpoint_url}.") from None
    return Storage(dynamodb, table.table_name())
