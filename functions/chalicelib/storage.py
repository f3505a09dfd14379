"""The only module that talks to DynamoDB. The table is injected (Chalice's todo sample).

Single-table layout (docs/data-model.md): a family's whole state lives in one
partition `FAMILY#<number>`, so reading it is one Query; logins, sessions, audit
entries and counters have partitions of their own. The keys are in
`chalicelib/keys.py`; the values on the wire and the transaction actions in
`chalicelib/transactions.py`, whose `Transactions` this `Storage` inherits. The domain
says what it reads and writes; only these modules say it in DynamoDB's words
(tests/test_storage_wire_format.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

# Re-exported: callers say `st.family_pk`, `st.serialise` (one home each, in keys.py and
# transactions.py).
from chalicelib.keys import (  # noqa: F401
    COUNTER,
    LOGIN,
    PROFILE,
    RESET,
    RESET_REQUESTS,
    SEARCH,
    SESSION,
    THROTTLE,
    WAIT,
    WAITING,
    audit_pk,
    child_sk,
    counter_pk,
    day_sk,
    family_pk,
    journal_keys,
    login_pk,
    login_throttle_pk,
    normalise_login,
    reset_token_pk,
    responsable_sk,
    search_index_pk,
    search_sk,
    service_day_pk,
    session_pk,
    source_pk,
    wait_key_of_index_sk,
    wait_sk,
    waiting_index_sk,
)
from chalicelib.transactions import Transactions, deserialise, serialise

BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100


def new_page_key() -> str:
    """The random 128-bit key of a family's private pages: never the family number."""
    return secrets.token_hex(16)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the state of one family --------------------------------------------------------

@dataclass
class FamilyState:
    """Everything stored under one family, sorted by kind, from one Query."""

    profile: dict | None = None
    responsables: list[dict] = field(default_factory=list)
    children: list[dict] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    operations: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    certificates: list[dict] = field(default_factory=list)
    credit_notes: list[dict] = field(default_factory=list)
    agendas: list[dict] = field(default_factory=list)  # AGENDA#<rank>: feeds and reminders (chalicelib/agenda.py)
    # « Mes documents » (chalicelib.family_documents): the documents provided, and the
    # quotient brackets staff set from a month on (billing.bracket_for).
    family_documents: list[dict] = field(default_factory=list)
    bracket_changes: list[dict] = field(default_factory=list)
    other: list[dict] = field(default_factory=list)

    _BY_PREFIX = {
        "RESPONSABLE#": "responsables",
        "CHILD#": "children",
        "DAY#": "days",
        "REQUEST#": "requests",
        "INVOICE#": "invoices",
        "OPERATION#": "operations",
        "PAYMENT#": "payments",
        "MESSAGE#": "messages",
        "CERTIFICATE#": "certificates",
        "CREDITNOTE#": "credit_notes",
        "AGENDA#": "agendas",
        "FAMILYDOC#": "family_documents",
        "BRACKET#": "bracket_changes",
    }

    @classmethod
    def from_items(cls, items: Iterable[dict]) -> FamilyState:
        state = cls()
        for item in items:
            sk = item["sk"]
            if sk.startswith(SEARCH):
                continue  # the search index's entries (copies of names): no page shows them
            if sk == PROFILE:
                state.profile = item
                continue
            for prefix, name in cls._BY_PREFIX.items():
                if sk.startswith(prefix):
                    getattr(state, name).append(item)
                    break
            else:
                state.other.append(item)
        # What credit notes took off each invoice (`CREDITED#<number>`, the credit notes'
        # conditional sum) rides on the invoice read, as `credited`: what is left to pay
        # (billing.remaining, statement.left_to_pay) counts it; the stored invoice never changes.
        credited = {i["invoice_number"]: i.get("amount") for i in state.other
                    if i["sk"].startswith("CREDITED#") and i.get("invoice_number")}
        for invoice in state.invoices:
            if invoice.get("number") in credited:
                invoice["credited"] = credited[invoice["number"]]
        return state

    @property
    def unread_messages(self) -> int:
        return sum(1 for m in self.messages if not m.get("read_at"))


class Storage(Transactions):
    """Reads and writes the portal's entities; `client` is a boto3 DynamoDB client."""

    def __init__(self, client, table_name: str):
        self.client = client
        self.table_name = table_name

    # generic ------------------------------------------------------------------

    def put(self, item: dict) -> None:
        self.client.put_item(TableName=self.table_name, Item=serialise(item))

    def get(self, pk: str, sk: str) -> dict | None:
        answer = self.client.get_item(TableName=self.table_name, Key=self._key(pk, sk), ConsistentRead=True)
        return deserialise(answer["Item"]) if "Item" in answer else None

    def query_partition(self, pk: str, sk_prefix: str | None = None) -> list[dict]:
        expression = "pk = :pk"
        values = {":pk": pk}
        if sk_prefix:
            expression += " AND begins_with(sk, :prefix)"
            values[":prefix"] = sk_prefix
        return self._read_all(
            self.client.query,
            KeyConditionExpression=expression,
            ExpressionAttributeValues=serialise(values),
            ConsistentRead=True,
        )

    def query_index(self, gsi1pk: str, gsi1sk_prefix: str | None = None) -> list[dict]:
        expression = "gsi1pk = :pk"
        values = {":pk": gsi1pk}
        if gsi1sk_prefix:
            expression += " AND begins_with(gsi1sk, :prefix)"
            values[":prefix"] = gsi1sk_prefix
        return self._read_all(
            self.client.query,
            IndexName="gsi1",
            KeyConditionExpression=expression,
            ExpressionAttributeValues=serialise(values),
        )

    def _read_all(self, operation, **arguments) -> list[dict]:
        """Every item a Query or a Scan (`operation`) gives, page after page (1 MB each)."""
        items, start = [], None
        while True:
            page = operation(TableName=self.table_name, **arguments, **({"ExclusiveStartKey": start} if start else {}))
            items.extend(deserialise(i) for i in page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def all_items(self) -> list[dict]:
        """Every item of the table, by Scan: for tooling and tests, never on a request path."""
        return self._read_all(self.client.scan)

    def batch_get(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """Many items by key, 100 per round trip; unprocessed keys are asked again."""
        found: dict[tuple[str, str], dict] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in _chunks(unique, BATCH_GET_LIMIT):
            request = {
                self.table_name: {
                    "Keys": [self._key(pk, sk) for pk, sk in chunk],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for raw in answer["Responses"].get(self.table_name, []):
                    item = deserialise(raw)
                    found[(item["pk"], item["sk"])] = item
                request = answer.get("UnprocessedKeys") or None
        return found

    def batch_write(self, puts: list[dict], deletes: Iterable[tuple[str, str]] = ()) -> None:
        """Puts and deletes, 25 per round trip. Not atomic: callers validate everything first."""
        requests = [{"PutRequest": {"Item": serialise(item)}} for item in puts]
        requests += [
            {"DeleteRequest": {"Key": self._key(pk, sk)}} for pk, sk in deletes
        ]
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            pending = {self.table_name: chunk}
            while pending:
                answer = self.client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or None

    # families -------------------------------------------------------------------

    def family_state(self, family_number: str) -> FamilyState:
        """A family's whole state: one Query (paginated past 1 MB)."""
        return FamilyState.from_items(self.query_partition(family_pk(family_number)))

    def family_numbers(self) -> list[str]:
        return [item["family_number"] for item in self.query_index("FAMILIES")]

    def login(self, login: str) -> dict | None:
        """The login item: which family and responsable a login belongs to."""
        return self.get(login_pk(login), LOGIN)

    # one service on one day: its waiting list (`SERVICEDAY#<service>#<date>`, WAIT items) --

    def waiting_list(self, service: str, day: date) -> list[dict]:
        """A service's waiting list on one day, in order of arrival: one Query."""
        return self.query_partition(service_day_pk(service, day), WAIT)

    # the staff's lists: a range of an index partition, a page at a time, or its count ---

    def query_index_range(self, gsi1pk: str, low: str | None = None, high: str | None = None, *,
                          limit: int | None = None, after: dict | None = None) -> tuple[list[dict], dict | None]:
        """One page (`limit` items, 1 MB at most) of an index partition, sort keys from `low`
        to `high` (inclusive), resumed after the item whose key (pk, sk, gsi1pk, gsi1sk) is
        `after`; returns the items and the key to resume after (None: the end)."""
        page = self.client.query(TableName=self.table_name, IndexName="gsi1", **self._index_range(gsi1pk, low, high),
                                 **({"Limit": limit} if limit else {}),
                                 **({"ExclusiveStartKey": serialise(after)} if after else {}))
        last = page.get("LastEvaluatedKey")
        return [deserialise(i) for i in page["Items"]], deserialise(last) if last else None

    def count_index_range(self, gsi1pk: str, low: str | None = None, high: str | None = None) -> int:
        """How many items `query_index_range` would give, without reading them out (one round
        trip per 1 MB of the index)."""
        count, start = 0, None
        while True:
            page = self.client.query(TableName=self.table_name, IndexName="gsi1", Select="COUNT",
                                     **self._index_range(gsi1pk, low, high),
                                     **({"ExclusiveStartKey": start} if start else {}))
            count += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return count

    @staticmethod
    def _index_range(gsi1pk: str, low: str | None, high: str | None) -> dict:
        expression, values = "gsi1pk = :pk", {":pk": gsi1pk}
        if low is not None and high is not None:
            expression += " AND gsi1sk BETWEEN :low AND :high"
        elif low is not None:
            expression += " AND gsi1sk >= :low"
        elif high is not None:
            expression += " AND gsi1sk <= :high"
        values.update({k: v for k, v in ((":low", low), (":high", high)) if v is not None})
        return {"KeyConditionExpression": expression, "ExpressionAttributeValues": serialise(values)}

    # accounts and sessions ---------------------------------------------------------

    def login_records(self, login: str, login_digest: str, source: str,
                      counter: str = THROTTLE) -> tuple[dict | None, dict | None, dict | None]:
        """The login item, the login's counter and the source address's: one round trip."""
        keys = [(login_pk(login), LOGIN), (login_throttle_pk(login_digest), counter), (source_pk(source), counter)]
        found = self.batch_get(keys)
        return tuple(found.get(key) for key in keys)

    def prune_markers(self, pk: str, sk: str, markers: Iterable[str]) -> None:
        """Deletes exactly these markers (they left their window): one UpdateItem; nothing
        when the item went meanwhile (an update would make an empty one, without TTL)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(pk, sk),
                UpdateExpression="DELETE recent :gone",
                ConditionExpression="attribute_exists(recent)",
                ExpressionAttributeValues={":gone": {"SS": sorted(markers)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    def add_session(self, login: str, session_hash: str, new_password_hash: str | None = None) -> None:
        """`add_session_action` on its own (tooling and tests)."""
        self.client.update_item(**self.add_session_action(login, session_hash, new_password_hash)["Update"])

    def session(self, session_hash: str) -> dict | None:
        return self.get(session_pk(session_hash), SESSION)

    def revoke_sessions(self, login: str, keep: str | None = None, extra: list[dict] = ()) -> int:
        """Deletes every session of a login but `keep`; `extra` items are written alongside."""
        item = self.login(login) or {}
        revoked = [h for h in item.get("sessions", set()) if h != keep]
        self.batch_write(list(extra), [(session_pk(h), SESSION) for h in revoked])
        if revoked:
            if keep:
                expression, values = "DELETE sessions :gone", {":gone": {"SS": revoked}}
            else:
                expression, values = "REMOVE sessions", None
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(login_pk(login), LOGIN),
                UpdateExpression=expression,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        return len(revoked)

    def end_session(self, login: str, session_hash: str, extra: list[dict] = ()) -> None:
        self.batch_write(list(extra), [(session_pk(session_hash), SESSION)])
        self.client.update_item(
            TableName=self.table_name,
            Key=self._key(login_pk(login), LOGIN),
            UpdateExpression="DELETE sessions :gone",
            ExpressionAttributeValues={":gone": {"SS": [session_hash]}},
        )

    def update_attributes(self, pk: str, sk: str, attributes: dict, *, must_exist: bool = True) -> None:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":v{i}": value for i, value in enumerate(attributes.values())}
        arguments = {}
        if must_exist:
            arguments["ConditionExpression"] = "attribute_exists(pk)"
        self.client.update_item(
            TableName=self.table_name,
            Key=self._key(pk, sk),
            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(attributes))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialise(values),
            **arguments,
        )

    def take_reset_token(self, token_hash: str, now_epoch: int) -> dict | None:
        """Deletes a reset token that exists and has not expired, and returns it: used once,
        even when requests race (the condition and the delete are one atomic write)."""
        try:
            answer = self.client.delete_item(
                TableName=self.table_name,
                Key=self._key(reset_token_pk(token_hash), RESET),
                ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues=serialise({":now": now_epoch}),
                ReturnValues="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return deserialise(answer["Attributes"])

    # audit ----------------------------------------------------------------------

    def audit_item(self, when: datetime, actor: str, action: str, details: dict | None = None, *,
                   by_family: bool = False) -> dict:
        """An audit entry. Every entry is a staff entry, filed in the staff journal's indexes,
        but those of a family's own actions (`by_family`: its logins, its requests): a
        writer that forgets the flag shows in the journal rather than hides from it."""
        sk = f"{when.astimezone(UTC).isoformat()}#{secrets.token_hex(4)}"
        return {
            "pk": audit_pk(when),
            "sk": sk,
            "at": when,
            "actor": actor,
            "action": action,
            "details": details or {},
            **({} if by_family else journal_keys(actor, details or {}, sk)),
        }

    def audit(self, when: datetime, actor: str, action: str, details: dict | None = None, *,
              by_family: bool = False) -> None:
        self.put(self.audit_item(when, actor, action, details, by_family=by_family))

    def audit_entries(self, day: date) -> list[dict]:
        return self.query_partition(f"AUDIT#{day.isoformat()}")

    # billing ----------------------------------------------------------------------
    # The primitives of the gapless numbers of invoices and operations (chalicelib.numbering).

    def counter_values(self, *names: str) -> dict[str, int]:
        """The counters' last numbers (0 for a counter never used): one round trip."""
        found = self.batch_get([(counter_pk(name), COUNTER) for name in names])
        return {name: int(found.get((counter_pk(name), COUNTER), {}).get("value", 0)) for name in names}

    def counter_advance_action(self, name: str, expected: int, new: int) -> dict:
        """A transaction action: the counter goes from `expected` to `new`, or the whole
        transaction fails (another writer took numbers meanwhile)."""
        return {"Update": {
            "TableName": self.table_name,
            "Key": serialise({"pk": counter_pk(name), "sk": COUNTER}),
            "UpdateExpression": "SET #v = :new",
            "ConditionExpression": "attribute_not_exists(#v) OR #v = :expected",
            "ExpressionAttributeNames": {"#v": "value"},
            "ExpressionAttributeValues": serialise({":new": new, ":expected": expected}),
        }}

    def invoice(self, family_number: str, number: str) -> dict | None:
        """One invoice of one family: another family's number is simply not found."""
        return self.get(family_pk(family_number), invoice_sk(number))

    def billing_states(self, month: str, first_day: date, last_day: date,
                       since: str | None = None) -> dict[str, FamilyState]:
        """What an invoicing run of `month` (« 2017-06 ») needs of every family, from one
        Scan (paginated) rather than a Query per family, as a login's refresh of the pages does: the
        profile, responsables, children, certificates, the brackets set from a month, the markers, invoices and credit
        notes of the months from `since` (the earliest month its regularisations look at;
        `month` alone by default) with what credit notes took off them, the payments and
        credit notes that left a credit, and the days from `first_day` to `last_day`.
        The wider filter costs no round trip: a Scan's pages are counted before filtering."""
        since = since or month
        expression = (
            "begins_with(pk, :family) AND (sk = :profile OR begins_with(sk, :responsable) "
            "OR begins_with(sk, :child) OR begins_with(sk, :certificate) OR begins_with(sk, :bracket) "
            "OR (begins_with(sk, :billed) AND #month BETWEEN :since AND :month) "
            "OR (begins_with(sk, :invoice) AND #month BETWEEN :since AND :month) "
            "OR (begins_with(sk, :credited) AND #month BETWEEN :since AND :month) "
            "OR (begins_with(sk, :creditnote) AND (#month BETWEEN :since AND :month OR unallocated > :zero)) "
            "OR (begins_with(sk, :payment) AND unallocated > :zero) "
            "OR (begins_with(sk, :day) AND #date BETWEEN :first AND :last))")
        values = {":family": "FAMILY#", ":profile": PROFILE, ":responsable": "RESPONSABLE#", ":child": "CHILD#",
                  ":certificate": "CERTIFICATE#", ":bracket": "BRACKET#", ":billed": "BILLED#", ":invoice": "INVOICE#",
                  ":credited": "CREDITED#", ":creditnote": "CREDITNOTE#", ":since": since,
                  ":month": month, ":payment": "PAYMENT#", ":zero": 0, ":day": "DAY#",
                  ":first": first_day.isoformat(), ":last": last_day.isoformat()}
        return self.scan_family_states(expression, values, {"#month": "month", "#date": "date"})

    def scan_family_states(self, expression: str, values: dict, names: dict | None = None) -> dict[str, FamilyState]:
        """The family partitions' items that match a filter expression, from one Scan
        (paginated), grouped into states; for tooling, never on a request path."""
        items = self._read_all(
            self.client.scan, FilterExpression=expression, ExpressionAttributeValues=serialise(values),
            ConsistentRead=True, **({"ExpressionAttributeNames": names} if names else {}))
        by_family: dict[str, list[dict]] = {}
        for item in items:
            by_family.setdefault(item["pk"].removeprefix("FAMILY#"), []).append(item)
        return {number: FamilyState.from_items(sorted(items, key=lambda i: i["sk"]))
                for number, items in by_family.items() if any(i["sk"] == PROFILE for i in items)}


def invoice_sk(number: str) -> str:
    return f"INVOICE#{number}"


def operation_sk(number: int) -> str:
    return f"OPERATION#{number:09d}"


def credit_note_sk(number: str) -> str:
    return f"CREDITNOTE#{number}"


def credited_sk(invoice_number: str) -> str:
    """What credit notes took off one invoice: its `amount`, raised by each credit note on
    the condition that it stays within the invoice's total."""
    return f"CREDITED#{invoice_number}"


def payment_sk(day: date, reference: str) -> str:
    return f"PAYMENT#{day.isoformat()}#{reference}"

