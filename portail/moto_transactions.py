"""moto's TransactWriteItems without its whole-table copies (embedded AWS, tests, benches).

moto 5 keeps a deep copy of the whole table for EVERY action of a TransactWriteItems, to
roll back when a condition fails: a transaction of n actions costs n copies of the
table. On the demo's 6,500 items that is about 0.75 s per action (an invoicing chunk of
77 actions: a minute); on 3,000 families, many seconds per action. DynamoDB has no such
cost, and the portal writes everything that must be atomic in transactions.

`install()` keeps moto's own logic (validation, conditions, cancellation reasons, the
order of the writes) and changes only the rollback: the items the transaction touches
are kept as they were before it, and put back if moto cancels it. Checked by
tests/test_billing_run.py against moto's own behaviour. Idempotent; a moto whose
transaction code no longer looks like this one is left alone.
"""

from __future__ import annotations

import copy
import functools

_PATCHED = "_portail_pre_image_rollback"


def install() -> bool:
    """Patches moto's DynamoDB backend in this process; True when the patch is active."""
    try:
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table
    except ImportError:  # pragma: no cover - moto is a tool dependency
        return False
    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, _PATCHED, False):
        return True
    namespace = original.__globals__
    if namespace.get("copy") is not copy or "original_table_state" not in original.__code__.co_varnames:
        return False  # another moto: its rollback is not the one this patch replaces

    class NoTableCopy:
        """`copy` for moto's transaction: a Table is not copied (its items are, below)."""

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(copy, name)

    @functools.wraps(original)
    def transact_write_items(self, transact_items):
        before = _pre_images(self, transact_items)
        namespace["copy"] = NoTableCopy()
        try:
            return original(self, transact_items)
        except BaseException:
            _restore(before)  # moto "restored" the same table objects: undo its writes
            raise
        finally:
            namespace["copy"] = copy

    setattr(transact_write_items, _PATCHED, True)
    models.DynamoDBBackend.transact_write_items = transact_write_items
    return True


def _pre_images(backend, transact_items) -> list[tuple]:
    """(table, hash, range, the item as it is now or None) for every action's key."""
    images = []
    for action in transact_items:
        try:
            _, operation = next(iter(action.items()))
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue
            key = operation.get("Key")
            if key is None:
                attributes = operation["Item"]
                key = {table.hash_key_attr: attributes[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attributes[table.range_key_attr]
            hash_value, range_value = backend.get_keys_value(table, key)
            current = table.get_item(hash_value, range_value)
        except Exception:  # noqa: BLE001 - a malformed action: moto itself refuses it, nothing is written
            continue
        images.append((table, hash_value, range_value, copy.deepcopy(current) if current is not None else None))
    return images


def _restore(images: list[tuple]) -> None:
    for table, hash_value, range_value, item in reversed(images):
        if range_value is not None:
            if item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item
        elif item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
