"""The staff items' writes that need DynamoDB's own words (conditions, returned values):
beside `chalicelib/storage.py` and `transactions.py`, the only other module that speaks
DynamoDB (tests/test_storage_wire_format.py lists it). The rest of the staff's reads and
writes use the generic `Storage` methods (`get`, `batch_get`, `query_index`, `transact_if`).
Keys: chalicelib/keys.py; the items: docs/data-model.md."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.keys import (
    STAFF,
    STAFF_ENROLMENT,
    STAFF_SESSION,
    staff_enrolment_pk,
    staff_pk,
    staff_session_pk,
)
from chalicelib.table import TTL_ATTRIBUTE
from chalicelib.transactions import deserialise, serialise


class StaffStore:
    """`storage`: the portal's `chalicelib.storage.Storage` (its client and table)."""

    def __init__(self, storage):
        self.storage = storage
        self.client = storage.client
        self.table_name = storage.table_name

    def _key(self, pk: str, sk: str) -> dict:
        return serialise({"pk": pk, "sk": sk})

    def open_session_action(self, login: str, role: str, step: int, session_hash: str, when: datetime) -> dict:
        """A transaction action: the account takes the TOTP step `step` (a code is accepted
        once: only a later step than the last one used passes, even in parallel) and
        remembers the new session and its instant (the agents' page shows the last login),
        while it is enabled and still has the role read."""
        return {"Update": {
            "TableName": self.table_name,
            "Key": self._key(staff_pk(login), STAFF),
            "UpdateExpression": "SET last_totp_step = :step, last_login_at = :when ADD sessions :session",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(last_totp_step) "
                                   "OR last_totp_step < :step) AND disabled = :no AND #role = :role",
            "ExpressionAttributeNames": {"#role": "role"},
            # A string set, as the family logins' `sessions` (serialise writes a set as a list).
            "ExpressionAttributeValues": {**serialise({":step": step, ":no": False, ":role": role,
                                                       ":when": when.astimezone(UTC)}),
                                          ":session": {"SS": [session_hash]}},
        }}

    def enrol_action(self, login: str, step: int, secret: str, link_hash: str, password_hash: str,
                     when: datetime) -> dict:
        """A transaction action: the enrolment sets the password and takes the TOTP step
        `step` of its first code (later than any used), while the secret is still `secret`
        and the link the account's current one (`link_hash`), which it forgets."""
        return {"Update": {
            "TableName": self.table_name,
            "Key": self._key(staff_pk(login), STAFF),
            "UpdateExpression": "SET last_totp_step = :step, password_hash = :hash, password_changed_at = :when, "
                                "enrolled_at = :when REMOVE demo_only, enrolment_hash",
            "ConditionExpression": "attribute_exists(pk) AND totp_secret = :secret AND enrolment_hash = :link AND "
                                   "(attribute_not_exists(last_totp_step) OR last_totp_step < :step)",
            "ExpressionAttributeValues": serialise({":step": step, ":secret": secret, ":link": link_hash,
                                                    ":hash": password_hash,
                                                    ":when": when.astimezone(UTC)}),
        }}

    def take_enrolment_action(self, token_hash: str, now_epoch: int) -> dict:
        """A transaction action: deletes an enrolment link that exists and has not expired
        (used once, even when two pages post it at the same time)."""
        return {"Delete": {
            "TableName": self.table_name,
            "Key": self._key(staff_enrolment_pk(token_hash), STAFF_ENROLMENT),
            "ConditionExpression": f"attribute_exists(pk) AND {TTL_ATTRIBUTE} > :now",
            "ExpressionAttributeValues": serialise({":now": now_epoch}),
        }}

    def touch_session(self, session_hash: str, last_seen_at: datetime, expires_epoch: int) -> bool:
        """Moves a session's last-seen instant on, unless it was revoked meanwhile (a put
        would bring it back): False then."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(staff_session_pk(session_hash), STAFF_SESSION),
                UpdateExpression="SET last_seen_at = :seen, #ttl = :ttl",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues=serialise({":seen": last_seen_at.astimezone(UTC), ":ttl": expires_epoch}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def change_and_revoke(self, login: str, changes: dict, remove: tuple[str, ...] = ()) -> bool:
        """Sets `changes` on an existing account and forgets its sessions in one write,
        then deletes those sessions: a login running meanwhile either wrote its session
        before (deleted here) or finds the account changed (its condition fails).
        False when the account does not exist."""
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": value for i, value in enumerate(changes.values())}
        removed = ["sessions", *remove]
        names.update({f"#r{i}": name for i, name in enumerate(removed)})
        try:
            answer = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(staff_pk(login), STAFF),
                UpdateExpression=("SET " + ", ".join(f"#c{i} = :c{i}" for i in range(len(changes))) + " "
                                  if changes else "") + "REMOVE " + ", ".join(f"#r{i}" for i in range(len(removed))),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                **({"ExpressionAttributeValues": serialise(values)} if values else {}),
                ReturnValues="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        hashes = deserialise(answer.get("Attributes") or {}).get("sessions") or set()
        self.storage.batch_write([], [(staff_session_pk(h), STAFF_SESSION) for h in sorted(hashes)])
        return True

    def end_session(self, login: str, session_hash: str, extra: list[dict] = ()) -> None:
        """Deletes one session (logout) and forgets it on its account; `extra` items alongside."""
        self.storage.batch_write(list(extra), [(staff_session_pk(session_hash), STAFF_SESSION)])
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(staff_pk(login), STAFF),
                UpdateExpression="DELETE sessions :gone",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":gone": {"SS": [session_hash]}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # the account went meanwhile: nothing to forget
