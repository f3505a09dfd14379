"""A responsable's calendar feed and reminders in DynamoDB's words (a storage module, like
`chalicelib/storage.py`: tests/test_storage_wire_format.py lets it speak the wire format).

The item is `AGENDA#<rank>` in the family's partition (docs/data-model.md). Each write is
one conditional UpdateItem, never a read then a write: a new feed key replaces only the
key read (two revocations at once: one wins), and a reminder's week is taken only while
the responsable still asks for reminders and none was sent within the week (two nightly
runs at once: one mail).
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.keys import agenda_sk, family_pk
from chalicelib.transactions import serialise


def _update(storage, family_number: str, rank: int, sets: dict, condition: str, condition_values: dict) -> bool:
    names = {f"#a{i}": name for i, name in enumerate(sets)}
    values = {f":v{i}": value for i, value in enumerate(sets.values())}
    values.update(condition_values)
    names.update({"#feed": "feed_key", "#on": "reminders", "#sent": "reminded_at"})
    used = {name: value for name, value in names.items() if name in condition or name.startswith("#a")}
    try:
        storage.client.update_item(
            TableName=storage.table_name,
            Key=serialise({"pk": family_pk(family_number), "sk": agenda_sk(rank)}),
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets))),
            ConditionExpression=condition,
            ExpressionAttributeNames=used,
            ExpressionAttributeValues=serialise(values),
        )
    except storage.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def replace_feed_key(storage, family_number: str, rank: int, login: str, new_key: str,
                     old_key: str | None, now: datetime) -> bool:
    """Gives the responsable's feed `new_key`, on the condition that its key is still
    `old_key` (None: it has none yet). False: another write changed it meanwhile."""
    sets = {"rank": int(rank), "login": login, "feed_key": new_key, "feed_changed_at": now.isoformat()}
    if old_key is None:
        return _update(storage, family_number, rank, sets, "attribute_not_exists(#feed)", {})
    return _update(storage, family_number, rank, sets, "#feed = :old", {":old": old_key})


def set_reminders(storage, family_number: str, rank: int, login: str, wanted: bool, now: datetime) -> None:
    """The responsable's choice of reminder mails (the item is made on first use)."""
    storage.update_attributes(family_pk(family_number), agenda_sk(rank), {
        "rank": int(rank), "login": login, "reminders": bool(wanted), "reminders_changed_at": now.isoformat()},
        must_exist=False)


def take_reminder_week(storage, family_number: str, rank: int, now: datetime, week_before: datetime) -> bool:
    """Marks a reminder sent to the responsable at `now`, on the condition that they ask
    for reminders and that none was marked after `week_before`: True when this call took
    it (and sends the mail), False when reminders are off or one went within the week."""
    # Instants in UTC, so that their ISO strings compare as the instants do.
    return _update(storage, family_number, rank, {"reminded_at": now.astimezone(UTC).isoformat()},
                   "#on = :yes AND (attribute_not_exists(#sent) OR #sent <= :limit)",
                   {":yes": True, ":limit": week_before.astimezone(UTC).isoformat()})
