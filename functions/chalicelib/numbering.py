"""The gapless numbers of the régie: invoices (« FAC-000042 »), credit notes
(« AVO-000001 »), the statement's operations (an invoice's debit, a payment's or a
credit note's credit) and the receipts of payments made at the desk (« REC-000007 »).
Used by the invoicing run (invoicing.py), the credit notes (credit_notes.py), the
payment import (payments.py) and the desk (payment_desk.py).

Each sequence has a counter item, `COUNTER#<name>` / `COUNTER`, holding the last number
given (docs/data-model.md). A writer reads the counters (`Counters.last`, one round
trip), numbers its items from them, and advances them in the same TransactWriteItems
that writes those items (`Counters.advance_actions`), on the condition that they still
hold the values read. So a crash leaves neither a gap nor a duplicate, and two writers
at once cannot give one number twice: the one whose condition fails reads the counters
again (`Counters.forget`) and numbers its items anew. The transaction actions are
chalicelib.storage's primitives (`counter_values`, `counter_advance_action`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from chalicelib.config import Commune
    from chalicelib.storage import Storage

INVOICE = "INVOICE"  # invoices: « FAC-000042 » from 42
OPERATION = "OPERATION"  # the statement's operations, invoices and payments alike
RECEIPT = "RECEIPT"  # receipts (reçus) of payments recorded at the desk: « REC-000007 » from 7
RECEIPT_PREFIX = "REC"
CREDIT_NOTE = "CREDIT_NOTE"  # credit notes (avoirs): « AVO-000001 » from 1
CREDIT_NOTE_PREFIX = "AVO"


def invoice_number(commune: Commune, seq: int) -> str:
    """« FAC-000042 »: the régie's prefix ([invoicing] number_prefix) and the sequence on 6 digits."""
    return f"{commune.invoicing.number_prefix}-{seq:06d}"


def receipt_number(seq: int) -> str:
    """« REC-000007 »: a receipt's number, its own sequence on 6 digits."""
    return f"{RECEIPT_PREFIX}-{seq:06d}"


def credit_note_number(seq: int) -> str:
    """« AVO-000001 »: a credit note's number, its own gapless sequence on 6 digits."""
    return f"{CREDIT_NOTE_PREFIX}-{seq:06d}"


class Counters:
    """Some counters as a writer last read them; numbers are taken from there."""

    def __init__(self, storage: Storage, *names: str):
        self.storage = storage
        self.names = names
        self._last: dict[str, int] | None = None

    def last(self) -> dict[str, int]:
        """{name: the last number given} (0 for a counter never used), read once."""
        if self._last is None:
            self._last = self.storage.counter_values(*self.names)
        return self._last

    def number(self, name: str, k: int = 1) -> int:
        """The `k`-th number after the last one given (k = 1: the next one)."""
        return self.last()[name] + k

    def advance_actions(self, count: int) -> list[dict]:
        """The transaction's actions taking `count` numbers of every counter, on the
        condition that none was taken since `last` (else the transaction fails)."""
        last = self.last()
        return [self.storage.counter_advance_action(name, last[name], last[name] + count) for name in self.names]

    def advanced(self, count: int) -> None:
        """The transaction took `count` numbers of every counter (or a dry run plans so)."""
        for name in self.names:
            self.last()[name] += count

    def forget(self) -> None:
        """Numbers were taken meanwhile: the next `last` reads the counters again."""
        self._last = None


def start_numbers(storage: Storage, first: dict[str, int]) -> bool:
    """Sets the counters' starting values when none has been used yet (a régie whose
    numbering does not start at 1: the demo's « 21662 »); True when it did."""
    from chalicelib.storage import COUNTER, counter_pk

    if any(storage.counter_values(*first).values()):
        return False
    storage.batch_write([{"pk": counter_pk(name), "sk": COUNTER, "value": value} for name, value in first.items()])
    return True
