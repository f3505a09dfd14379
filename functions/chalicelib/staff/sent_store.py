"""The sent messages' counters, in DynamoDB's words (a storage module, like
`chalicelib/storage.py`: tests/test_storage_wire_format.py lets it speak the wire format).

A counter of a sending's head (`SENT#<id>` / `SENT`, docs/data-model.md) goes up by an
atomic `ADD` inside a transaction whose other action is the condition that makes the
event happen once: the family's first read mark (`read_at` absent), a chunk of recipients
delivered for the first time (`delivered_at` absent). Never read, then written.
"""

from __future__ import annotations

from chalicelib.keys import SENT, sent_pk
from chalicelib.transactions import serialise


def count_action(storage, sending_id: str, counter: str) -> dict:
    """A transaction action: the sending's `counter` (`read`, `delivered`) one more, if the
    sending still exists (a purged one is not brought back as a bare counter)."""
    return {"Update": {
        "TableName": storage.table_name,
        "Key": serialise({"pk": sent_pk(sending_id), "sk": SENT}),
        "UpdateExpression": "ADD #c :one",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": {"#c": counter},
        "ExpressionAttributeValues": serialise({":one": 1}),
    }}


def mark_read(storage, pk: str, sk: str, read_at: str, sending_id: str, tries: int = 5) -> bool:
    """The family's message `pk`/`sk` marked read at `read_at` and its sending's `read` one
    more, in one transaction, only while the message has no `read_at`: two readings at once
    (two tabs, two parents) count the family once. Families reading one sending at the same
    instant contend for its head: DynamoDB cancels rather than waits (TransactionConflict),
    so the transaction is tried again. A sending purged since: the mark alone. Returns
    whether this call took the mark."""
    mark = storage.update_if_action(pk, sk, {"read_at": read_at}, {}, absent=["read_at"])
    for attempt in range(tries):
        try:
            failed = storage.transact([mark, count_action(storage, sending_id, "read")])
        except storage.client.exceptions.TransactionCanceledException:
            if attempt == tries - 1:
                raise
            continue  # only conflicts: `transact` answers condition failures itself
        if not failed:
            return True
        if 0 in failed:  # read meanwhile
            return False
        return storage.transact_if([mark])  # the sending is gone: the family's mark still counts for its pages
    return False
