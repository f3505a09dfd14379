"""DynamoDB's words for the writes that must be atomic: the table's values on the wire,
the actions of one TransactWriteItems, and the calls that run them.

A helper of `chalicelib/storage.py`: `Storage` inherits `Transactions` (the client and
the table name are its own). The domain asks for an action in its words (take a seat
within the capacity, put this day unless it is held, update if unchanged) and composes
the actions of one transaction; only this module and storage.py write an expression.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.keys import COUNTER, LOGIN, login_pk, service_day_pk
from chalicelib.table import TTL_ATTRIBUTE

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# --- (de)serialisation ------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        raise TypeError("no floats in the table: use Decimal or int")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    return value


def serialise(item: dict) -> dict:
    return {k: _serializer.serialize(_plain(v)) for k, v in item.items() if v is not None}


def deserialise(item: dict) -> dict:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _cancellation_codes(error) -> set[str]:
    """Why DynamoDB cancelled a transaction: its actions' codes, but theirs that passed."""
    return {r.get("Code") for r in error.response.get("CancellationReasons") or []} - {"None", None}


class Transactions:
    """Transaction actions (dicts for TransactWriteItems) and the calls that run them."""

    client: Any
    table_name: str

    def _key(self, pk: str, sk: str) -> dict:
        return serialise({"pk": pk, "sk": sk})

    # generic actions --------------------------------------------------------------------

    def put_action(self, item: dict) -> dict:
        return {"Put": {"TableName": self.table_name, "Item": serialise(item)}}

    def put_new_action(self, item: dict) -> dict:
        """A transaction action: puts `item`, which must not exist yet."""
        return {"Put": {"TableName": self.table_name, "Item": serialise(item),
                        "ConditionExpression": "attribute_not_exists(pk)"}}

    def put_unless_action(self, item: dict, statuses: Iterable[str]) -> dict:
        """A transaction action: puts `item` unless the stored one's status is one of
        `statuses` (an item that does not exist yet has none)."""
        values = {f":s{i}": status for i, status in enumerate(statuses)}
        return {"Put": {"TableName": self.table_name, "Item": serialise(item),
                        "ConditionExpression": f"attribute_not_exists(pk) OR NOT #s IN ({', '.join(values)})",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": serialise(values)}}

    def delete_action(self, pk: str, sk: str) -> dict:
        return {"Delete": {"TableName": self.table_name, "Key": self._key(pk, sk)}}

    def update_if_action(self, pk: str, sk: str, new: dict, expected: dict, *, remove: Iterable[str] = (),
                         absent: Iterable[str] = ()) -> dict:
        """A transaction action: sets `new` attributes (and removes the `remove` ones) if
        the `expected` ones still hold the values read and the `absent` ones still do not
        exist (the item must exist)."""
        names, values, sets, conditions = {}, {}, [], ["attribute_exists(pk)"]
        for i, (name, value) in enumerate(new.items()):
            names[f"#n{i}"] = name
            values[f":n{i}"] = value
            sets.append(f"#n{i} = :n{i}")
        for i, (name, value) in enumerate(expected.items()):
            names[f"#e{i}"] = name
            values[f":e{i}"] = value
            conditions.append(f"#e{i} = :e{i}")
        for i, name in enumerate(absent):
            names[f"#a{i}"] = name
            conditions.append(f"attribute_not_exists(#a{i})")
        removed = []
        for i, name in enumerate(remove):
            names[f"#r{i}"] = name
            removed.append(f"#r{i}")
        return {"Update": {
            "TableName": self.table_name,
            "Key": self._key(pk, sk),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removed) if removed else ""),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialise(values),
        }}

    # the seats of a service on one day (item COUNTER of `SERVICEDAY#<service>#<date>`) ----

    def take_seat_action(self, service: str, day: date, capacity: int) -> dict:
        """A transaction action: one more seat taken, only while fewer than `capacity` are."""
        return {"Update": {
            "TableName": self.table_name, "Key": self._key(service_day_pk(service, day), COUNTER),
            "UpdateExpression": "SET validated = if_not_exists(validated, :zero) + :one",
            "ConditionExpression": "attribute_not_exists(validated) OR validated < :capacity",
            "ExpressionAttributeValues": serialise({":zero": 0, ":one": 1, ":capacity": capacity}),
        }}

    def release_seat_action(self, service: str, day: date) -> dict:
        """A transaction action: one seat given back, never below zero."""
        return {"Update": {
            "TableName": self.table_name, "Key": self._key(service_day_pk(service, day), COUNTER),
            "UpdateExpression": "SET validated = validated - :one",
            "ConditionExpression": "validated > :zero",
            "ExpressionAttributeValues": serialise({":zero": 0, ":one": 1}),
        }}

    # counters of attempts (chalicelib/throttle.py): each counted by one conditional write --

    def count_action(self, pk: str, sk: str, guard, marker: str, expires_at: int) -> dict:
        """A transaction action: counts one attempt (its marker added to `recent`, and
        `consecutive` + 1 when the guard counts it), only if `guard` (throttle.Guard)
        still holds in the stored item. Never a value read and written back."""
        values: dict = {":m": {"SS": [marker]}, ":ttl": {"N": str(expires_at)},
                        ":window": {"N": str(guard.window_below)}}
        adds = ["recent :m"]
        conditions = ["(attribute_not_exists(recent) OR size(recent) < :window)"]
        if guard.count_consecutive:
            adds.insert(0, "consecutive :one")
            values[":one"] = {"N": "1"}
            if guard.consecutive_below is not None:
                conditions.append("(attribute_not_exists(consecutive) OR consecutive < :below)")
                values[":below"] = {"N": str(guard.consecutive_below)}
            if guard.consecutive_equals is not None:
                conditions.append("consecutive = :equals")
                values[":equals"] = {"N": str(guard.consecutive_equals)}
        return {"Update": {
            "TableName": self.table_name,
            "Key": self._key(pk, sk),
            "UpdateExpression": f"ADD {', '.join(adds)} SET #ttl = :ttl",
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
            "ExpressionAttributeValues": values,
        }}

    def uncount_action(self, pk: str, sk: str, marker: str) -> dict:
        """A transaction action: takes one counted attempt back out of a window."""
        return {"Update": {
            "TableName": self.table_name,
            "Key": self._key(pk, sk),
            "UpdateExpression": "DELETE recent :m",
            "ExpressionAttributeValues": {":m": {"SS": [marker]}},
        }}

    def add_session_action(self, login: str, session_hash: str, new_password_hash: str | None = None) -> dict:
        """A transaction action: remembers a login's session, so that a password change
        can revoke them all; with `new_password_hash`, stores the password hashed again
        with today's parameters."""
        values = {":hash": {"SS": [session_hash]}}
        expression = "ADD sessions :hash"
        if new_password_hash:
            expression += " SET password_hash = :password_hash"
            values[":password_hash"] = {"S": new_password_hash}
        return {"Update": {
            "TableName": self.table_name,
            "Key": self._key(login_pk(login), LOGIN),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }}

    # running them -------------------------------------------------------------------------

    def transact(self, actions: list[dict]) -> list[int]:
        """One TransactWriteItems (all or nothing). Returns the positions of the actions
        whose condition failed (nothing was written then), or [] when all were written."""
        if not actions:
            return []
        try:
            self.client.transact_write_items(TransactItems=actions)
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if not failed:
                raise
            return failed
        return []

    def transact_if(self, actions: list[dict]) -> bool:
        """One TransactWriteItems: True when written; False when a condition failed or
        another transaction held one of the items (TransactionConflict): nothing was
        written then, and the caller reads again before deciding."""
        try:
            self.client.transact_write_items(TransactItems=actions)
        except self.client.exceptions.TransactionCanceledException as error:
            codes = _cancellation_codes(error)
            if codes and codes <= {"ConditionalCheckFailed", "TransactionConflict"}:
                return False
            raise
        return True

    def transact_retrying(self, actions: list[dict], tries: int = 3) -> None:
        """One TransactWriteItems of idempotent actions, tried again when another
        transaction held one of its items (DynamoDB cancels rather than waits)."""
        for attempt in range(tries):
            try:
                self.client.transact_write_items(TransactItems=actions)
                return
            except self.client.exceptions.TransactionCanceledException as error:
                if _cancellation_codes(error) != {"TransactionConflict"} or attempt == tries - 1:
                    raise
