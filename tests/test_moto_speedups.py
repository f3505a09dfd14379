"""portail/moto_speedups.py answers exactly what moto answers: the same scenario of
writes and reads against moto patched and unpatched gives the same answers, errors
included; moto's own serializer and the direct writer give the same JSON for any
AttributeValue."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as strats

from tests.conftest import moto

TABLE = "speedups"


def _unpatched(monkeypatch) -> None:
    """moto as it is: each patched function given back its original (functools.wraps)."""
    import copy

    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    for owner, name in ((Item, "__init__"), (Table, "query"), (Table, "all_items"),
                        (BaseJSONSerializer, "_serialize_type_structure"), (responses, "dynamo_to_dict")):
        patched = getattr(owner, name)
        assert getattr(patched, "_portail_speedup", False), f"{owner.__name__}.{name} is not patched"
        monkeypatch.setattr(owner, name, patched.__wrapped__)
    # moto's table code deep-copies every Query's results again.
    monkeypatch.setitem(Table.query.__globals__, "copy", copy)


ITEMS = [
    {"pk": {"S": "FAMILY#1"}, "sk": {"S": "CHILD#1"}, "name": {"S": "ANNA"}, "age": {"N": "8"},
     "services": {"SS": ["GARDERIE_MIDI", "RESTAURATION"]}, "gsi1pk": {"S": "INDEX#A"}, "gsi1sk": {"S": "1#1"}},
    {"pk": {"S": "FAMILY#1"}, "sk": {"S": "DAY#1#2014-12-05#RESTAURATION"}, "status": {"S": "validated"},
     "price": {"N": "3.45"}, "counts": {"NS": ["1", "2.5", "-3"]}, "flag": {"BOOL": False},
     "nothing": {"NULL": True}, "gsi1pk": {"S": "INDEX#A"}, "gsi1sk": {"S": "1#2"}},
    {"pk": {"S": "FAMILY#1"}, "sk": {"S": "DAY#1#2014-12-09#GARDERIE_MIDI"}, "status": {"S": "pending"},
     "blob": {"B": b"\x00\x01binary\xff"}, "blobs": {"BS": [b"a", b"\xfe\xff"]}, "empty": {"S": ""},
     "nested": {"M": {"list": {"L": [{"S": "é à ü"}, {"N": "1e3"}, {"M": {"x": {"BOOL": True}}}, {"L": []}]},
                      "map": {"M": {}}, "bin": {"B": b"\x10"}}}},
    {"pk": {"S": "FAMILY#1"}, "sk": {"S": "MESSAGE#2014-11-01"}, "subject": {"S": "Bienvenue"}},
    {"pk": {"S": "FAMILY#2"}, "sk": {"S": "CHILD#1"}, "name": {"S": "BRUNO"}, "gsi1pk": {"S": "INDEX#A"},
     "gsi1sk": {"S": "2#1"}},
    {"pk": {"S": "FAMILY#2"}, "sk": {"S": "DAY#1#2014-12-05#RESTAURATION"}, "status": {"S": "validated"}},
    {"pk": {"S": "FAMILY#10"}, "sk": {"S": "CHILD#1"}, "name": {"S": "CLARA"}},
]


def _answer(call, **parameters):
    """The answer without its request metadata, or the error's code and message."""
    from botocore.exceptions import ClientError

    try:
        answer = call(**parameters)
    except ClientError as error:
        return {"error": error.response["Error"]}
    answer.pop("ResponseMetadata", None)
    return answer


def _scenario() -> list:
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-3")
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                                               {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]}])
    answers = []
    for item in ITEMS[:3]:
        answers.append(_answer(client.put_item, TableName=TABLE, Item=item))
    answers.append(_answer(client.batch_write_item, RequestItems={
        TABLE: [{"PutRequest": {"Item": item}} for item in ITEMS[3:]]}))
    query = {"TableName": TABLE, "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "FAMILY#1"}}}
    answers += [
        _answer(client.query, **query),
        _answer(client.query, **query, ScanIndexForward=False),
        _answer(client.query, **query, Select="COUNT"),
        _answer(client.query, **query, ConsistentRead=True, ProjectionExpression="sk, #s, nested.#l[0]",
                ExpressionAttributeNames={"#s": "status", "#l": "list"}),
        _answer(client.query, TableName=TABLE, KeyConditionExpression="pk = :pk AND begins_with(sk, :day)",
                ExpressionAttributeValues={":pk": {"S": "FAMILY#1"}, ":day": {"S": "DAY#"}}),
        _answer(client.query, TableName=TABLE, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={":pk": {"S": "FAMILY#1"}, ":a": {"S": "CHILD#"}, ":b": {"S": "DAY#2"}}),
        _answer(client.query, TableName=TABLE, KeyConditionExpression="pk = :pk AND sk > :a",
                ExpressionAttributeValues={":pk": {"S": "FAMILY#1"}, ":a": {"S": "DAY#1#2014-12-05"}}),
        _answer(client.query, TableName=TABLE, KeyConditionExpression="pk = :pk", FilterExpression="#s = :v",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pk": {"S": "FAMILY#1"}, ":v": {"S": "validated"}}),
        # An absent partition, another key type: nothing, and no partition made by asking.
        _answer(client.query, **{**query, "ExpressionAttributeValues": {":pk": {"S": "FAMILY#404"}}}),
        _answer(client.query, **{**query, "ExpressionAttributeValues": {":pk": {"N": "1"}}}),
        _answer(client.query, TableName=TABLE, KeyConditionExpression="sk = :sk",
                ExpressionAttributeValues={":sk": {"S": "CHILD#1"}}),
        _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}}),
        _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}}, ScanIndexForward=False, Limit=2),
        _answer(client.query, TableName=TABLE, IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :g AND begins_with(gsi1sk, :one)",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}, ":one": {"S": "1#"}}),
        _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"S": "INDEX#404"}}),
        _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"N": "1"}}),
        _answer(client.query, TableName=TABLE, IndexName="nope", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}}),
        _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}}, ConsistentRead=True),
        # An update that moves an item into the index in place, one that moves another out.
        _answer(client.update_item, TableName=TABLE, Key={"pk": {"S": "FAMILY#1"}, "sk": {"S": "MESSAGE#2014-11-01"}},
                UpdateExpression="SET gsi1pk = :g, gsi1sk = :s",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}, ":s": {"S": "0#9"}}),
        _answer(client.update_item, TableName=TABLE, Key={"pk": {"S": "FAMILY#2"}, "sk": {"S": "CHILD#1"}},
                UpdateExpression="REMOVE gsi1pk"),
        _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                ExpressionAttributeValues={":g": {"S": "INDEX#A"}}),
    ]
    # Index pages of two, each from the last one's key.
    start = None
    while True:
        page = _answer(client.query, TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                       ExpressionAttributeValues={":g": {"S": "INDEX#A"}}, Limit=2,
                       **({"ExclusiveStartKey": start} if start else {}))
        answers.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    # Scan pages of three (each page from the whole table, sorted by its key).
    start = None
    while True:
        page = _answer(client.scan, TableName=TABLE, Limit=3, **({"ExclusiveStartKey": start} if start else {}))
        answers.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    # Pages of two, each from the last one's key.
    start = None
    while True:
        page = _answer(client.query, **query, Limit=2, **({"ExclusiveStartKey": start} if start else {}))
        answers.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    answers += [
        _answer(client.get_item, TableName=TABLE, Key={"pk": {"S": "FAMILY#1"}, "sk": {"S": "DAY#1#2014-12-09#GARDERIE_MIDI"}}),
        _answer(client.update_item, TableName=TABLE, Key={"pk": {"S": "FAMILY#2"}, "sk": {"S": "CHILD#1"}},
                UpdateExpression="SET age = :a, tags = :t", ReturnValues="ALL_NEW",
                ExpressionAttributeValues={":a": {"N": "7"}, ":t": {"L": [{"S": "x"}, {"NULL": True}]}}),
        _answer(client.delete_item, TableName=TABLE, Key={"pk": {"S": "FAMILY#10"}, "sk": {"S": "CHILD#1"}},
                ReturnValues="ALL_OLD"),
        _answer(client.transact_get_items, TransactItems=[
            {"Get": {"TableName": TABLE, "Key": {"pk": {"S": "FAMILY#2"}, "sk": {"S": "CHILD#1"}}}}]),
        # moto's 400 KB bound: just under it an item is stored, just over it refused.
        _answer(client.put_item, TableName=TABLE, Item={"pk": {"S": "BIG"}, "sk": {"S": "1"},
                                                        "a": {"S": "x" * 200_000}, "b": {"S": "y" * 204_980}}),
        _answer(client.put_item, TableName=TABLE, Item={"pk": {"S": "BIG"}, "sk": {"S": "2"},
                                                        "a": {"S": "x" * 200_000}, "b": {"S": "y" * 205_000}}),
        _answer(client.put_item, TableName=TABLE, Item={"pk": {"S": "BIG"}, "sk": {"S": "3"},
                                                        "a": {"S": "x" * 405_001}, "b": {"N": "not a number"}}),
        _answer(client.scan, TableName=TABLE, ProjectionExpression="pk, sk"),
        _answer(client.scan, TableName=TABLE, FilterExpression="attribute_exists(nested)"),
    ]
    return answers


def test_the_same_answers_as_moto_unpatched(monkeypatch):
    with moto():
        patched = _scenario() + _number_keys()
    with monkeypatch.context() as patch:
        _unpatched(patch)
        with moto():
            original = _scenario() + _number_keys()
    assert patched == original
    # The scenario says something: the queries found items, the big items were judged,
    # the index found its items, the scans paged, the number keys came in number order.
    assert [a.get("Count") for a in patched[4:7]] == [4, 4, 4]
    assert any("error" in a and "size" in a["error"]["Message"] for a in patched)
    assert any(a.get("Count") == 3 and a.get("Items", [{}])[0].get("gsi1sk") == {"S": "0#9"} for a in patched)
    assert sum(1 for a in patched if "LastEvaluatedKey" in a and a.get("Count") == 3) >= 2
    assert [item["n"]["N"] for item in patched[-1]["Items"]] == ["-2", "1.5", "9", "10", "10.25"]


def _number_keys() -> list:
    """A table keyed by a number alone (no sort key): a Scan in number order, not text order."""
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-3")
    client.create_table(TableName="numbers", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
                        KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}])
    for number in ("10", "9", "-2", "10.25", "1.5"):
        client.put_item(TableName="numbers", Item={"n": {"N": number}})
    return [_answer(client.scan, TableName="numbers", Limit=2),
            _answer(client.scan, TableName="numbers")]


def _serializer(operation: str):
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    service = get_service_model("dynamodb")
    return get_serializer_class("dynamodb", service.protocol)(
        operation_model=service.operation_model(operation), value_picker=XFormedAttributePicker())


_TEXT = strats.text(max_size=6)
_NUMBER = strats.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
_BYTES = strats.binary(max_size=6)
_SCALARS = strats.one_of(
    _TEXT.map(lambda v: {"S": v}), _NUMBER.map(lambda v: {"N": v}), _BYTES.map(lambda v: {"B": v}),
    strats.lists(_TEXT, max_size=3).map(lambda v: {"SS": v}), strats.lists(_NUMBER, max_size=3).map(lambda v: {"NS": v}),
    strats.lists(_BYTES, max_size=3).map(lambda v: {"BS": v}), strats.just({"NULL": True}),
    strats.booleans().map(lambda v: {"BOOL": v}))
# Also what the direct writer leaves to moto: unknown or several keys, other value types.
_ODD = strats.one_of(strats.just({}), strats.just({"S": "a", "N": "1"}), strats.just({"X": "?"}),
                     strats.just({"S": 12}), strats.just({"B": "not bytes"}), strats.just({"L": [None]}))
ATTRIBUTE_VALUES = strats.recursive(
    strats.one_of(_SCALARS, _ODD),
    lambda inner: strats.one_of(strats.lists(inner, max_size=3).map(lambda v: {"L": v}),
                                strats.dictionaries(_TEXT, inner, max_size=3).map(lambda v: {"M": v})),
    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(strats.dictionaries(_TEXT, ATTRIBUTE_VALUES, max_size=4))
def test_an_item_serialised_as_moto_serialises_it(item):
    from moto.core.serialize import BaseJSONSerializer

    patched = BaseJSONSerializer._serialize_type_structure
    direct = _serializer("GetItem").serialize({"Item": item})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched.__wrapped__)
        original = _serializer("GetItem").serialize({"Item": item})
    assert direct == original
    assert json.loads(direct["body"]).keys() == ({"Item"} if item else {"Item"} & json.loads(direct["body"]).keys())


@settings(max_examples=300, deadline=None)
@given(strats.dictionaries(_TEXT, ATTRIBUTE_VALUES, max_size=4))
def test_an_answer_made_plain_as_moto_makes_it(item):
    """moto's DynamoDB answers become plain dicts (`dynamo_to_dict`) as moto's own walk
    makes them, from its typed values or from anything else."""
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    typed = {}
    for name, value in item.items():
        try:
            typed[name] = DynamoType(value)
        except Exception:  # noqa: BLE001 - a value moto would not store: kept as it is
            typed[name] = value
    answer = {"Items": [typed, item], "Count": 2, "Nothing": None, "Flag": True}
    patched = responses.dynamo_to_dict
    assert patched(answer) == patched.__wrapped__(answer)


def test_moto_server_lists_its_services_as_before():
    """The embedded AWS's service lookup: the same modules, listed once."""
    from moto import backends

    patched = backends.list_of_moto_modules
    assert getattr(patched, "_portail_speedup", False)
    assert list(patched()) == list(patched.__wrapped__()) == list(patched())
    assert {"dynamodb", "s3", "ses"} <= set(patched())


def test_each_handler_lists_its_actions_as_moto_lists_them():
    """The methods of a response class: the same list, kept, and made again when the
    class gains a method."""
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.s3.responses import S3Response

    patched = responses.method_names_from_class
    assert getattr(patched, "_portail_speedup", False)
    for handler in (DynamoHandler, S3Response, DynamoHandler):
        assert patched(handler) == patched.__wrapped__(handler)
    assert "transact_write_items" in patched(DynamoHandler)

    class Extended(DynamoHandler):
        pass

    assert patched(Extended) == patched(DynamoHandler)
    Extended.brand_new_action = lambda self: None
    assert patched(Extended) == patched.__wrapped__(Extended) == sorted([*patched(DynamoHandler), "brand_new_action"])


def test_numbers_and_binaries_as_a_client_reads_them(storage):
    """Through the portal's storage module: what was written is read back, on the
    patched Query."""
    storage.put({"pk": "FAMILY#1", "sk": "X", "amount": Decimal("12.30"), "raw": b"\x00\xff",
                 "tags": {"a", "b"}, "nested": {"list": [1, "deux", None, True]}})
    (item,) = storage.query_partition("FAMILY#1")
    assert item["amount"] == Decimal("12.30") and bytes(item["raw"]) == b"\x00\xff"
    assert sorted(item["tags"]) == ["a", "b"] and item["nested"] == {"list": [1, "deux", None, True]}
