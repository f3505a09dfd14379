"""portail/moto_scan.py answers every Scan exactly as moto does: the same scenario of
Scans (pages by size and by Limit, filters, projections, segments, counts, start keys
moto's walk finds or not, and what the patch leaves to moto) against moto patched and
unpatched gives the same answers, errors included; and a paged Scan no longer walks
the table from its first item at each page."""

from __future__ import annotations

from tests.conftest import moto

TABLE = "scanned"


def _unpatched(monkeypatch) -> None:
    from moto.dynamodb.models.table import Table

    assert getattr(Table.scan, "_portail_scan", False), "Table.scan is not patched"
    monkeypatch.setattr(Table, "scan", Table.scan.__wrapped__)


def _answer(call, **parameters):
    """The answer without its request metadata, or the error's code and message."""
    from botocore.exceptions import ClientError

    try:
        answer = call(**parameters)
    except ClientError as error:
        return {"error": error.response["Error"]}
    answer.pop("ResponseMetadata", None)
    return answer


def _pages(client, **parameters) -> list:
    """Every page of a Scan, each from the last one's key."""
    pages, start = [], None
    while True:
        page = _answer(client.scan, TableName=TABLE, **parameters, **({"ExclusiveStartKey": start} if start else {}))
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def _items() -> list[dict]:
    """Families as the portal stores them, in no particular order of their keys: small
    items, a few of ~350 KB (a page of 1 MB ends on them), keys sorting as text
    (FAMILY#10 before FAMILY#2), accents, nested values."""
    items = []
    for family in (7, 10, 2, 31, 1, 300, 4):
        pk = {"S": f"FAMILY#{family}"}
        items.append({"pk": pk, "sk": {"S": "PROFILE"}, "quotient": {"S": "ABCDE"[family % 5]},
                      "gsi1pk": {"S": "FAMILIES"}, "gsi1sk": {"S": str(family)}})
        for day in (12, 3, 25, 9):
            items.append({"pk": pk, "sk": {"S": f"DAY#1#2014-10-{day:02d}#RESTAURATION"}, "date": {"S": f"2014-10-{day:02d}"},
                          "status": {"S": "absent" if (family + day) % 4 == 0 else "validated"},
                          "price": {"N": f"{family}.{day}"}, "tags": {"SS": ["a", "é"]},
                          "lines": {"L": [{"M": {"n": {"N": "1"}, "label": {"S": "Repas à l'école"}}}]}})
        if family in (10, 31, 300, 4):
            items.append({"pk": pk, "sk": {"S": "MESSAGE#big"}, "body": {"S": "x" * 350_000 + str(family)}})
    items.append({"pk": {"S": "LOGIN#anne"}, "sk": {"S": "LOGIN"}, "family": {"S": "7"}})
    items.append({"pk": {"S": "COUNTER"}, "sk": {"S": "INVOICE"}, "value": {"N": "41"}, "flag": {"BOOL": True},
                  "nothing": {"NULL": True}, "blob": {"B": b"\x00\xff"}})
    return items


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
    for item in _items():
        client.put_item(TableName=TABLE, Item=item)
    # An empty partition left by a deletion, an item updated in place.
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "LOGIN#anne"}, "sk": {"S": "LOGIN"}})
    client.update_item(TableName=TABLE, Key={"pk": {"S": "FAMILY#2"}, "sk": {"S": "PROFILE"}},
                       UpdateExpression="SET quotient = :q, extra = :e",
                       ExpressionAttributeValues={":q": {"S": "Z"}, ":e": {"M": {"k": {"S": "v"}}}})
    filtered = {"FilterExpression": "begins_with(sk, :day) AND #s = :v", "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":day": {"S": "DAY#"}, ":v": {"S": "validated"}}}
    answers = [
        _pages(client),  # pages of 1 MB: the big messages end them
        _pages(client, Limit=4),
        _pages(client, Limit=3, **filtered),
        _pages(client, **filtered, ConsistentRead=True),
        _pages(client, Limit=5, ProjectionExpression="pk, sk, lines[0].label, #s",
               ExpressionAttributeNames={"#s": "status"}),
        _pages(client, Limit=2, Select="COUNT"),
        _pages(client, Limit=2, FilterExpression="attribute_exists(body)"),
        [_pages(client, Limit=3, Segment=segment, TotalSegments=3) for segment in range(3)],
        # Start keys moto's walk passes without finding them: between two partitions,
        # before the first, after the last, inside a partition, an empty partition's.
        *[_answer(client.scan, TableName=TABLE, Limit=3, ExclusiveStartKey={"pk": {"S": pk}, "sk": {"S": sk}})
          for pk, sk in (("FAMILY#15", "A"), ("A", "A"), ("ZZZ", "Z"), ("FAMILY#31", "DAY#1#2014-10-10"),
                         ("FAMILY#31", "ZZZ"), ("LOGIN#anne", "LOGIN"), ("FAMILY#1", ""))],
        # What the patch leaves to moto: an index, a legacy ScanFilter, odd start keys.
        _pages(client, IndexName="gsi1", Limit=2),
        _pages(client, Limit=6, ScanFilter={"status": {"ComparisonOperator": "EQ",
                                                       "AttributeValueList": [{"S": "absent"}]}}),
        _answer(client.scan, TableName=TABLE, Limit=2,
                ExclusiveStartKey={"pk": {"S": "FAMILY#2"}, "sk": {"S": "PROFILE"}, "other": {"S": "x"}}),
        _answer(client.scan, TableName=TABLE, Segment=3, TotalSegments=3),
        _answer(client.scan, TableName=TABLE, Segment=1),
    ]
    # A table keyed by a number (no sort key): moto's own Scan, in number order.
    client.create_table(TableName="numbers", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
                        KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}])
    for number in ("10", "9", "-2", "10.25", "1.5"):
        client.put_item(TableName="numbers", Item={"n": {"N": number}})
    answers.append(_answer(client.scan, TableName="numbers", Limit=2))
    return answers


def test_every_scan_answered_as_moto_answers_it(monkeypatch):
    with moto():
        patched = _scenario()
    with monkeypatch.context() as patch:
        _unpatched(patch)
        with moto():
            original = _scenario()
    assert patched == original
    # The scenario says something: pages of 1 MB end on the big items, pages by Limit
    # resume from their key, the filter keeps some items of a page, the segments share the table.
    by_size = patched[0]
    assert len(by_size) >= 2 and sum(page["Count"] for page in by_size) == 7 * 5 + 4 + 1
    assert [item["pk"]["S"] for item in by_size[0]["Items"][:2]] == ["COUNTER", "FAMILY#1"]
    assert len(patched[1]) == 10 and all(page["Count"] <= 4 for page in patched[1])
    assert any(0 < page["Count"] < page["ScannedCount"] for page in patched[2])
    assert sum(page["Count"] for segment in patched[7] for page in segment) == 7 * 5 + 4 + 1
    assert sum("error" in answer for answer in patched[-4:-1]) == 2


def test_a_paged_scan_reads_each_page_from_its_start_key(monkeypatch):
    """moto's walk from the first item at each page (its key comparisons) is gone: the
    pages of a plain Scan never compare an item with their start key."""
    import boto3
    from moto.dynamodb.models.table import Table

    compared = []
    original = Table._item_comes_before_dct
    monkeypatch.setattr(Table, "_item_comes_before_dct", lambda *a, **k: compared.append(1) or original(*a, **k))
    with moto():
        client = boto3.client("dynamodb", region_name="eu-west-3")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        for item in _items():
            client.put_item(TableName=TABLE, Item=item)
        pages = _pages(client, Limit=2)
    assert len(pages) > 10
    assert compared == []


def test_installing_twice_changes_nothing():
    from moto.dynamodb.models.table import Table

    from portail import moto_scan

    patched = Table.scan
    assert moto_scan.install()
    assert Table.scan is patched


def test_a_sort_key_that_is_no_string_is_left_to_moto(monkeypatch):
    """A number sort key slipped into a string-keyed table (moto refuses one at the
    write): met on the way, moto's own Scan answers, whatever it answers."""
    import boto3
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    def outcome() -> object:
        client = boto3.client("dynamodb", region_name="eu-west-3")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        for item in _items()[:12]:
            client.put_item(TableName=TABLE, Item=item)
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"]["eu-west-3"].get_table(TABLE)
        odd = Item(DynamoType({"S": "FAMILY#7"}), DynamoType({"N": "5"}), {"pk": {"S": "FAMILY#7"}, "sk": {"N": "5"}})
        table.items[odd.hash_key][odd.range_key] = odd
        try:
            return _pages(client, Limit=4)
        except Exception as error:  # noqa: BLE001 - moto's own failure, compared as such
            return type(error).__name__

    with moto():
        patched = outcome()
    with monkeypatch.context() as patch:
        _unpatched(patch)
        with moto():
            original = outcome()
    assert patched == original == "TypeError"  # moto compares the number with the strings
