"""The family's account (chalicelib.statement.account): the dashboard's balance « à la
date du … », its unpaid invoices, and the statement per school year with « Ancien
solde » and « Solde ». One function: the dashboard and the statement pages agree."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from chalicelib.calendar_rules import school_year_of
from chalicelib.statement import account, left_to_pay
from hypothesis import given
from hypothesis import strategies as st

REGIE = "REGIE UNIQUE DE CREGY LES MEAUX"


def operation(number: int, day: str, *, debit="0", credit="0", year: str | int | None = "auto",
              description: str = "") -> dict:
    """An OPERATION# item as the billing contract writes it."""
    item = {"pk": "FAMILY#100", "sk": f"OPERATION#{number:09d}", "number": number, "date": day,
            "description": description or ("Règlement : chèque" if Decimal(credit) else "Facture"),
            "regie": REGIE, "debit": Decimal(debit), "credit": Decimal(credit)}
    if year == "auto":
        item["school_year"] = school_year_of(date.fromisoformat(day))
    elif year is not None:
        item["school_year"] = year
    return item


def invoice(number: str, issued: str, total: str, paid: str = "0", due: str | None = None) -> dict:
    return {"pk": "FAMILY#100", "sk": f"INVOICE#{number}", "number": number, "invoice_date": issued,
            "due_date": due or issued, "total": Decimal(total), "paid_amount": Decimal(paid),
            "period_label": "01/10/2014 - 31/10/2014"}


OPERATIONS = [
    operation(20606, "2014-03-01", debit="30.00"),  # 2013-2014
    operation(20700, "2014-03-20", credit="30.00"),
    operation(20800, "2014-07-04", debit="12.50"),  # unpaid at the end of 2013-2014
    operation(21054, "2014-10-04", debit="97.35"),  # 2014-2015
    operation(21108, "2014-10-14", credit="90.00"),
    operation(21162, "2014-11-04", debit="57.45"),
    operation(21300, "2014-12-04", debit="40.00"),  # after the guide's day
]


def test_the_balance_at_a_date_counts_the_operations_dated_up_to_that_day():
    # -30 + 30 - 12.50 (2013-2014), then -97.35 + 90 (October 2014)
    assert account(OPERATIONS, [], date(2014, 11, 3)).balance == Decimal("-19.85")
    assert account(OPERATIONS, [], date(2014, 11, 4)).balance == Decimal("-77.30")  # the day's own count
    assert account(OPERATIONS, [], date(2014, 12, 31)).balance == Decimal("-117.30")
    assert account([], [], date(2014, 11, 3)).balance == Decimal("0.00")


def test_the_statement_of_a_school_year_carries_the_earlier_years_balance():
    found = account(OPERATIONS, [], date(2014, 11, 28))
    assert [y.school_year for y in found.years] == ["2013-2014", "2014-2015"]
    earlier, year = found.years
    assert (earlier.opening_balance, earlier.total_debit, earlier.total_credit, earlier.balance) == (
        Decimal("0.00"), Decimal("42.50"), Decimal("30.00"), Decimal("-12.50"))
    assert year.opening_balance == Decimal("-12.50")  # « Ancien solde »
    assert [o.number for o in year.operations] == [21054, 21108, 21162, 21300]  # number order
    assert (year.total_debit, year.total_credit) == (Decimal("194.80"), Decimal("90.00"))
    assert year.balance == Decimal("-117.30")  # « Solde » = ancien solde + the year's
    assert found.current_year == "2014-2015"
    # A year with no operation: an empty statement carrying the balance.
    empty = found.year("2015-2016")
    assert (empty.operations, empty.opening_balance, empty.balance) == ([], Decimal("-117.30"), Decimal("-117.30"))
    assert found.year("2012-2013").balance == Decimal("0.00")


def test_operations_in_number_order_whatever_their_dates():
    late = [operation(3, "2014-10-01", debit="1"), operation(1, "2014-10-09", debit="2"),
            operation(2, "2014-10-05", credit="3")]
    assert [o.number for o in account(late, [], date(2014, 11, 1)).years[0].operations] == [1, 2, 3]


def test_the_school_year_as_stored_or_from_the_date():
    items = [operation(1, "2014-08-31", debit="1", year=None), operation(2, "2014-09-01", debit="2", year=None),
             operation(3, "2014-09-02", debit="4", year=2014), operation(4, "2015-08-31", debit="8", year="2014-2015")]
    years = account(items, [], date(2015, 9, 1)).years
    assert [(y.school_year, len(y.operations)) for y in years] == [("2013-2014", 1), ("2014-2015", 3)]
    # The commune's first day of the school year (commune.toml) decides where a year starts.
    assert [y.school_year for y in account(items[:2], [], date(2015, 1, 1), year_start=(9, 2)).years] == ["2013-2014"]
    assert school_year_of(date(2015, 8, 31)) == "2014-2015" and school_year_of(date(2015, 9, 1)) == "2015-2016"


def test_unpaid_invoices_issued_up_to_that_day_with_what_is_left_to_pay():
    invoices = [invoice("FAC-000002", "2014-11-04", "57.45", due="2014-11-19"),
                invoice("FAC-000001", "2014-10-04", "97.35", paid="90.00", due="2014-10-19"),
                invoice("FAC-000003", "2014-09-04", "20.00", paid="20.00"),  # paid
                invoice("FAC-000004", "2014-12-04", "40.00")]  # not issued yet on the day
    found = account(OPERATIONS, invoices, date(2014, 11, 28))
    assert [(i.number, i.left_to_pay) for i in found.unpaid] == [
        ("FAC-000001", Decimal("7.35")), ("FAC-000002", Decimal("57.45"))]  # oldest first
    assert found.unpaid[1].due_date == date(2014, 11, 19) and found.unpaid[1].total == Decimal("57.45")
    assert found.unpaid_total == Decimal("64.80")
    assert left_to_pay(invoice("X", "2014-01-01", "10", paid="12")) == Decimal("0.00")  # overpaid: nothing left


amounts = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(st.integers(0, 900), amounts, st.booleans()), max_size=30), st.integers(0, 900))
def test_the_dashboard_and_the_statement_always_agree(entries, day_offset):
    start = date(2013, 6, 1)
    items = [operation(n + 1, (start + timedelta(days=offset)).isoformat(),
                       **({"credit": str(amount)} if is_credit else {"debit": str(amount)}))
             for n, (offset, amount, is_credit) in enumerate(entries)]
    today = start + timedelta(days=day_offset)
    found = account(items, [], today)
    # Each year opens on the balance the year before closed on.
    for before, after in zip(found.years, found.years[1:], strict=False):
        assert after.opening_balance == before.balance
    # Once every operation is dated up to the day, the balance is the last statement's.
    later = account(items, [], start + timedelta(days=1000))
    assert later.balance == (later.years[-1].balance if later.years else 0)
    # The balance on a day is the operations up to that day, whichever statement holds them.
    assert found.balance == sum((o.credit - o.debit for y in found.years for o in y.operations if o.day <= today),
                                Decimal("0"))
