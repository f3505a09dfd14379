"""The régie's daily list of payments (`/gestion/reglements/?date=…`): every payment of
one day, grouped by mode, with a total per mode and a grand total, to check against the
till and the bank. One Query of gsi1 `PAYMENTS#<date>` (chalicelib/payments.py writes
the key on every payment, imported or recorded at the desk), never a Scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.money import to_decimal
from chalicelib.payments import MODES, PAYMENTS_INDEX

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ModePayments:
    mode: str
    payments: list[dict]  # PAYMENT items, in the order they were recorded
    total: Decimal


@dataclass(frozen=True)
class DayPayments:
    day: date
    modes: list[ModePayments]  # in MODES order, then any other mode
    total: Decimal

    @property
    def count(self) -> int:
        return sum(len(m.payments) for m in self.modes)


def group(day: date, payments: list[dict]) -> DayPayments:
    """Pure: the day's payments by mode, each with its total, and the day's total."""
    by_mode: dict[str, list[dict]] = {}
    for payment in sorted(payments, key=lambda p: str(p.get("gsi1sk", ""))):
        by_mode.setdefault(str(payment["mode"]), []).append(payment)
    order = [m for m in MODES if m in by_mode] + sorted(m for m in by_mode if m not in MODES)
    modes = [ModePayments(m, by_mode[m], sum((to_decimal(p["amount"]) for p in by_mode[m]), ZERO)) for m in order]
    return DayPayments(day, modes, sum((m.total for m in modes), ZERO))


def day_payments(storage, day: date) -> DayPayments:
    """The payments dated `day`: one Query of the index (every page of it)."""
    return group(day, storage.query_index(f"{PAYMENTS_INDEX}{day.isoformat()}"))
