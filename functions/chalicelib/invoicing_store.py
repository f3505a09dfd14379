"""The invoicing run's lock and progress item, and the invoices' index reads, in DynamoDB's
words (a storage module, like `chalicelib/storage.py`: tests/test_storage_wire_format.py
lets it speak the wire format). The rules are chalicelib/invoicing_runs.py's and
chalicelib/staff/invoices.py's; the keys chalicelib/keys.py's (docs/data-model.md).

The run item `INVOICING#<month>` / `RUN` is the month's lock: a lease. A run takes it
with one conditional write (no item yet, or the last run `done`), or takes over a run
whose lease has expired (it crashed, or stopped on a fault); every later write of the
run is conditional on its own `run_id`, so a run that lost its lock stops writing.
"""

from __future__ import annotations

from decimal import Decimal

from chalicelib.keys import (
    INVOICING_RUN,
    INVOICING_RUNS,
    invoice_number_pk,
    invoices_month_pk,
    invoicing_run_pk,
)
from chalicelib.transactions import deserialise, serialise

RUNNING, DONE = "running", "done"


class InvoicingStore:
    """`storage`: the portal's `chalicelib.storage.Storage` (its client and table)."""

    def __init__(self, storage):
        self.storage = storage
        self.client = storage.client
        self.table_name = storage.table_name

    def _key(self, month: str) -> dict:
        return serialise({"pk": invoicing_run_pk(month), "sk": INVOICING_RUN})

    def _conditional(self, operation, **arguments) -> bool:
        try:
            operation(TableName=self.table_name, **arguments)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # --- the lock ------------------------------------------------------------------------

    def run(self, month: str) -> dict | None:
        return self.storage.get(invoicing_run_pk(month), INVOICING_RUN)

    def runs(self) -> list[dict]:
        """Every month's run item, oldest month first (one Query of gsi1)."""
        return self.storage.query_index(INVOICING_RUNS)

    def take(self, item: dict) -> bool:
        """A new run of the month (`item`, state `running`) unless one runs: there is no
        run item yet, or the last run is `done`."""
        item = {**item, "pk": invoicing_run_pk(item["month"]), "sk": INVOICING_RUN,
                "gsi1pk": INVOICING_RUNS, "gsi1sk": item["month"]}
        return self._conditional(
            self.client.put_item, Item=serialise(item),
            ConditionExpression="attribute_not_exists(pk) OR #state = :done",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=serialise({":done": DONE}))

    def take_over(self, month: str, run_id: str, actor: str, at: str, lease_until: int, now_epoch: int) -> bool:
        """A run whose lease has expired goes on under `run_id` (its counters, its cursor
        kept): « Reprendre la facturation »."""
        return self._conditional(
            self.client.update_item, Key=self._key(month),
            UpdateExpression="SET run_id = :run, lease_until = :lease, resumed_by = :actor, resumed_at = :at "
                             "ADD parts :one REMOVE #error",
            ConditionExpression="#state = :running AND lease_until < :now",
            ExpressionAttributeNames={"#state": "state", "#error": "error"},
            ExpressionAttributeValues=serialise({":run": run_id, ":lease": lease_until, ":actor": actor, ":at": at,
                                                 ":one": 1, ":running": RUNNING, ":now": now_epoch}))

    def renew(self, month: str, run_id: str, lease_until: int, values: dict | None = None,
              added: dict | None = None, *, finished: bool = False) -> bool:
        """The run's lease renewed and its progress written (`values` set, `added` added),
        while the lock is still this run's; `finished`: the run is `done`, the lock free."""
        values = {**(values or {}), "lease_until": 0 if finished else lease_until}
        if finished:
            values["state"] = DONE
        names = {f"#v{i}": name for i, name in enumerate(values)}
        expression = "SET " + ", ".join(f"#v{i} = :v{i}" for i in range(len(values)))
        attributes = {f":v{i}": value for i, value in enumerate(values.values())}
        added = {name: value for name, value in (added or {}).items() if value}
        if added:
            names.update({f"#a{i}": name for i, name in enumerate(added)})
            expression += " ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(added)))
            attributes.update({f":a{i}": value for i, value in enumerate(added.values())})
        names["#state"] = "state"
        attributes.update({":run": run_id, ":running": RUNNING})
        return self._conditional(
            self.client.update_item, Key=self._key(month), UpdateExpression=expression,
            ConditionExpression="run_id = :run AND #state = :running",
            ExpressionAttributeNames=names, ExpressionAttributeValues=serialise(attributes))

    def release(self, month: str, run_id: str, error: str) -> bool:
        """A run stopped by a fault: its lease ends now, so the page offers to resume it."""
        return self.renew(month, run_id, 0, {"error": error})

    def chunk_action(self, month: str, invoices: list[dict]) -> dict:
        """A transaction action written with a chunk's invoices: the run's count and total
        advanced, its first and last numbers (exact, whatever stops the run later)."""
        total = sum((Decimal(str(i["total"])) for i in invoices), Decimal(0))
        return {"Update": {
            "TableName": self.table_name, "Key": self._key(month),
            "UpdateExpression": "ADD invoices :n, #total :t "
                                "SET last_number = :last, first_number = if_not_exists(first_number, :first)",
            "ExpressionAttributeNames": {"#total": "total"},
            "ExpressionAttributeValues": serialise({":n": len(invoices), ":t": total,
                                                    ":first": invoices[0]["number"],
                                                    ":last": invoices[-1]["number"]}),
        }}

    # --- the invoices' indexes -------------------------------------------------------------

    def month_invoices(self, month: str, *, after: str | None = None, unpaid: bool = False,
                       limit: int = 100) -> tuple[list[dict], bool]:
        """At most `limit` invoices of `month` by number, after `after`; `unpaid`: those
        not fully paid (a filter on the month's Query). And whether more remain."""
        condition, values = "gsi1pk = :pk", {":pk": invoices_month_pk(month)}
        if after:
            condition += " AND gsi1sk > :after"
            values[":after"] = after
        arguments = {"TableName": self.table_name, "IndexName": "gsi1", "KeyConditionExpression": condition,
                     "Limit": limit + 1}
        if unpaid:  # applied after `Limit`: pages are read until enough are kept
            arguments["FilterExpression"] = "paid_amount < #total"
            arguments["ExpressionAttributeNames"] = {"#total": "total"}
        arguments["ExpressionAttributeValues"] = serialise(values)
        found: list[dict] = []
        while True:
            page = self.client.query(**arguments)
            found.extend(deserialise(i) for i in page["Items"])
            start = page.get("LastEvaluatedKey")
            if len(found) > limit or not start:
                return found[:limit], len(found) > limit
            arguments["ExclusiveStartKey"] = start

    def invoice_by_number(self, number: str) -> dict | None:
        """The invoice numbered `number` (one Query of gsi2), or None."""
        page = self.client.query(TableName=self.table_name, IndexName="gsi2",
                                 KeyConditionExpression="gsi2pk = :pk",
                                 ExpressionAttributeValues=serialise({":pk": invoice_number_pk(number)}))
        items = [deserialise(i) for i in page["Items"]]
        return items[0] if items else None
