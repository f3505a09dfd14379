"""The family's account: the balance « à la date du … », the unpaid invoices and the
account statement (relevé) per school year, from the OPERATION# and INVOICE# items of
its state (docs/data-model.md, the billing contract).

One function, `account`, computes all of it; the dashboard, the statement pages and
the tests read the same figures, so they always agree. Pure: the day (`today`, in the
commune's time zone) is an argument. Amounts are Decimal euros; a negative balance is
an amount the family owes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from chalicelib.calendar_rules import SCHOOL_YEAR_START, school_year_label, school_year_of
from chalicelib.money import to_decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Operation:
    number: int
    day: date
    description: str
    regie: str
    debit: Decimal
    credit: Decimal
    school_year: str


@dataclass(frozen=True)
class YearStatement:
    """The relevé of one school year (« 2014-2015 »)."""

    school_year: str
    opening_balance: Decimal  # « Ancien solde »: every earlier year's operations
    operations: list[Operation]
    total_debit: Decimal
    total_credit: Decimal
    balance: Decimal  # « Solde »: the opening balance plus this year's operations


@dataclass(frozen=True)
class UnpaidInvoice:
    number: str
    invoice_date: date
    due_date: date | None
    total: Decimal
    left_to_pay: Decimal
    period_label: str


@dataclass(frozen=True)
class Account:
    today: date
    balance: Decimal  # Σ(credit − debit) of the operations dated up to `today`
    unpaid: list[UnpaidInvoice]
    unpaid_total: Decimal
    years: list[YearStatement] = field(default_factory=list)  # oldest first
    current_year: str = ""  # the school year holding `today`

    def year(self, school_year: str) -> YearStatement:
        """The statement of that year (an empty one, carrying the balance, when the year
        has no operation)."""
        for statement in self.years:
            if statement.school_year == school_year:
                return statement
        opening = sum((y.balance - y.opening_balance for y in self.years if y.school_year < school_year), ZERO)
        return YearStatement(school_year, opening, [], ZERO, ZERO, opening)


def _school_year(item: dict, day: date, year_start: tuple[int, int]) -> str:
    """The operation's school year as stored (« 2014-2015 », or the first year alone),
    else the one holding its date."""
    value = item.get("school_year")
    if isinstance(value, str) and len(value) == 9 and value[4] == "-":
        return value
    if value not in (None, ""):
        return school_year_label(int(value))
    return school_year_of(day, year_start)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def operation(item: dict, year_start: tuple[int, int] = SCHOOL_YEAR_START) -> Operation:
    day = _day(item["date"])
    return Operation(
        number=int(item.get("number") or item["sk"].rsplit("#", 1)[-1]),
        day=day,
        description=str(item.get("description", "")),
        regie=str(item.get("regie", "")),
        debit=to_decimal(item.get("debit") or 0),
        credit=to_decimal(item.get("credit") or 0),
        school_year=_school_year(item, day, year_start),
    )


def left_to_pay(invoice: dict) -> Decimal:
    """What is left to pay of an invoice: total − paid_amount − what credit notes took off
    it (`credited`, chalicelib.credit_notes), never below zero."""
    rest = (to_decimal(invoice.get("total") or 0) - to_decimal(invoice.get("paid_amount") or 0)
            - to_decimal(invoice.get("credited") or 0))
    return max(rest, ZERO)


def account(operations: list[dict], invoices: list[dict], today: date,
            year_start: tuple[int, int] = SCHOOL_YEAR_START) -> Account:
    """The family's account on `today` (its OPERATION# and INVOICE# items).

    - balance: Σ(credit − debit) of the operations dated up to `today`;
    - unpaid: the invoices issued up to `today` with something left to pay, oldest first;
    - years: per school year present, its operations in number order, « Ancien solde »
      = Σ(credit − debit) of the earlier years, « Solde » = ancien solde + the year's.
    `year_start` is (month, day) of the first day of a school year (commune.toml)."""
    ops = sorted((operation(item, year_start) for item in operations), key=lambda o: o.number)
    balance = sum((o.credit - o.debit for o in ops if o.day <= today), ZERO)

    unpaid = []
    for item in invoices:
        issued = _day(item.get("invoice_date") or item.get("created_at") or today)
        rest = left_to_pay(item)
        if issued <= today and rest > 0:
            unpaid.append(UnpaidInvoice(
                number=str(item["number"]), invoice_date=issued,
                due_date=_day(item["due_date"]) if item.get("due_date") else None,
                total=to_decimal(item.get("total") or 0), left_to_pay=rest,
                period_label=str(item.get("period_label", ""))))
    unpaid.sort(key=lambda i: (i.invoice_date, i.number))

    years = []
    carried = ZERO
    for label in sorted({o.school_year for o in ops}):
        lines = [o for o in ops if o.school_year == label]
        debit = sum((o.debit for o in lines), ZERO)
        credit = sum((o.credit for o in lines), ZERO)
        years.append(YearStatement(label, carried, lines, debit, credit, carried + credit - debit))
        carried += credit - debit
    return Account(today=today, balance=balance, unpaid=unpaid,
                   unpaid_total=sum((i.left_to_pay for i in unpaid), ZERO),
                   years=years, current_year=school_year_of(today, year_start))
