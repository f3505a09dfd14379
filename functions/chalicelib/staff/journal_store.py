"""The staff journal's reads, in DynamoDB's words (a storage module, like
`chalicelib/storage.py`: tests/test_storage_wire_format.py lets it speak the wire format).

Each read is a Query of one partition, of the table (`AUDIT#<UTC date>`) or of an index
(gsi1 by actor, gsi2 by family: docs/data-model.md), newest first, between two sort keys;
never a Scan.
"""

from __future__ import annotations

from chalicelib.keys import JOURNAL
from chalicelib.transactions import deserialise, serialise

# The key attributes of the table and of its indexes.
_KEYS = {None: ("pk", "sk"), "gsi1": ("gsi1pk", "gsi1sk"), "gsi2": ("gsi2pk", "gsi2sk")}
# The commands' actors (`portail`: staff commands, the operator's purge): their entries
# written before the indexes existed have no index keys, and are staff entries all the same.
CLI_ACTORS = ("staff", "operator")


def newest(storage, pk: str, *, index: str | None = None, since: str | None = None, before: str | None = None,
           limit: int = 100, staff_only: bool = False, actor: str | None = None) -> tuple[list[dict], bool]:
    """At most `limit` items of partition `pk` whose sort key is at least `since` and
    below `before`, newest first, and whether older ones remain. `staff_only` keeps the
    staff entries of an `AUDIT#` partition; `actor` keeps one actor's."""
    hash_name, range_name = _KEYS[index]
    condition, values = f"{hash_name} = :pk", {":pk": pk}
    if since is not None and before is not None:
        condition += f" AND {range_name} BETWEEN :since AND :before"  # `before` itself is dropped below
        values.update({":since": since, ":before": before})
    elif since is not None:
        condition += f" AND {range_name} >= :since"
        values[":since"] = since
    elif before is not None:
        condition += f" AND {range_name} < :before"
        values[":before"] = before
    filters = []
    if staff_only:
        names = [f":cli{n}" for n in range(len(CLI_ACTORS))]
        filters.append(f"(begins_with(gsi1pk, :journal) OR actor IN ({', '.join(names)}))")
        values.update({":journal": JOURNAL, **dict(zip(names, CLI_ACTORS, strict=True))})
    if actor is not None:
        filters.append("actor = :actor")
        values[":actor"] = actor
    arguments = {"TableName": storage.table_name, "KeyConditionExpression": condition,
                 "ExpressionAttributeValues": serialise(values), "ScanIndexForward": False}
    if index:
        arguments["IndexName"] = index
    else:
        arguments["ConsistentRead"] = True  # the admin sees the entry just written
    if filters:
        # A filter applies after `Limit`: read whole pages (1 MB) and count what is kept.
        arguments["FilterExpression"] = " AND ".join(filters)
    else:
        arguments["Limit"] = limit + 2  # one more tells whether older ones remain; one for `before`
    found: list[dict] = []
    while True:
        page = storage.client.query(**arguments)
        found.extend(item for item in map(deserialise, page["Items"]) if item[range_name] != before)
        start = page.get("LastEvaluatedKey")
        if not start or len(found) > limit:
            return found[:limit], len(found) > limit
        arguments["ExclusiveStartKey"] = start
