"""The billing rules (chalicelib.billing), pure: which days are billed, the absence and
certificate rule, lines and deductions, dates, allocation of payments (docs/bookings.md, docs/billing.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from chalicelib import billing
from chalicelib.calendar_rules import CommuneCalendar, school_year_of
from chalicelib.numbering import invoice_number
from chalicelib.storage import FamilyState


@pytest.fixture(scope="module")
def calendar(commune):
    return CommuneCalendar(commune)


def day(child: str, when: str, status: str, service: str = "RESTAURATION", rank: int = 1) -> dict:
    return {"sk": f"DAY#{child}#{when}#{service}", "child_id": child, "date": when, "service": service,
            "status": status, "responsable_rank": rank}


def certificate(child: str, *dates: str, state: str = "accepted") -> dict:
    return {"sk": f"CERTIFICATE#{child}#{dates[0]}#x", "child_id": child, "dates": list(dates), "state": state}


def state(days, certificates=(), bracket="B", ranks=(1,), other=()) -> FamilyState:
    items = [{"sk": "PROFILE", "family_number": "100", "quotient_bracket": bracket, "address": "3 rue des Écoles",
              "postal_code": "77124", "city": "Crégy-lès-Meaux"},
             *({"sk": f"RESPONSABLE#{r}", "rank": r, "civility": "Madame" if r == 1 else "Monsieur",
                "first_name": "ANNE" if r == 1 else "PAUL", "last_name": "ALPHA", "email": f"r{r}@example.org"}
               for r in ranks),
             {"sk": "CHILD#1", "child_id": "1", "first_name": "ANNA", "last_name": "ALPHA"},
             {"sk": "CHILD#2", "child_id": "2", "first_name": "LUC", "last_name": "ALPHA"},
             *days, *certificates, *other]
    return FamilyState.from_items(items)


OCTOBER = date(2014, 10, 1)
# Tariffs of the fixture commune (tests/commune.toml): RESTAURATION 2,45 € in bracket B;
# in bracket D, GARDERIE_MATIN 2,05 €, RESTAURATION 3,65 €, GARDERIE_SOIR 3,05 €.
# RESTAURATION opens Monday, Tuesday, Thursday, Friday; Wednesday 8 October is closed,
# the Toussaint holidays run from 18 October to 2 November 2014 (zone C).


def test_validated_days_are_billed_cancellations_pending_and_refused_are_not(commune, calendar):
    days = [day("1", "2014-10-02", "validated"), day("1", "2014-10-03", "validated"),
            day("1", "2014-10-06", "cancelled"), day("1", "2014-10-07", "pending"),
            day("1", "2014-10-09", "refused"), day("1", "2014-09-30", "validated")]
    (invoice,), skipped = billing.draft_invoices(state(days), commune, OCTOBER, calendar)
    assert skipped == []
    (line,) = invoice["lines"]
    assert line["days"] == ["2014-10-02", "2014-10-03"]  # September's day belongs to September
    assert (line["quantity"], line["unit_price"], line["amount"]) == (2, Decimal("2.45"), Decimal("4.90"))
    assert invoice["total"] == Decimal("4.90") and invoice["deductions"] == []


def test_absence_without_certificate_every_day_is_billed(commune, calendar):
    # Absent Monday 6, Tuesday 7 and Thursday 9 (Wednesday closed: still consecutive).
    days = [day("1", d, "absent") for d in ("2014-10-06", "2014-10-07", "2014-10-09")]
    (invoice,), _ = billing.draft_invoices(state(days), commune, OCTOBER, calendar)
    assert invoice["lines"][0]["quantity"] == 3
    assert invoice["deductions"] == []
    assert invoice["total"] == Decimal("7.35")


def test_absence_with_certificate_first_day_billed_following_days_deducted(commune, calendar):
    days = [day("1", d, "absent") for d in ("2014-10-06", "2014-10-07", "2014-10-09")]
    days.append(day("1", "2014-10-10", "validated"))
    certificates = [certificate("1", "2014-10-06", "2014-10-07", "2014-10-09")]
    (invoice,), _ = billing.draft_invoices(state(days, certificates), commune, OCTOBER, calendar)
    (line,) = invoice["lines"]
    (deduction,) = invoice["deductions"]
    assert line["quantity"] == 4 and line["amount"] == Decimal("9.80")
    assert deduction["days"] == ["2014-10-07", "2014-10-09"]  # the 6th, first day, stays billed
    assert (deduction["quantity"], deduction["unit_price"], deduction["amount"]) == (2, Decimal("2.45"), Decimal("-4.90"))
    assert deduction["reason"] == billing.CERTIFIED_REASON
    assert invoice["total"] == Decimal("4.90") == line["amount"] + deduction["amount"]


@pytest.mark.parametrize("not_accepted", ["awaited", "to_review", "refused"])
def test_only_an_accepted_certificate_excuses_days(commune, calendar, not_accepted):
    days = [day("1", d, "absent") for d in ("2014-10-06", "2014-10-07", "2014-10-09")]
    certificates = [certificate("1", "2014-10-06", "2014-10-07", "2014-10-09", state=not_accepted)]
    (invoice,), _ = billing.draft_invoices(state(days, certificates), commune, OCTOBER, calendar)
    assert invoice["deductions"] == []
    assert invoice["total"] == Decimal("7.35")


def test_a_certificate_covers_only_its_own_days(commune, calendar):
    days = [day("1", d, "absent") for d in ("2014-10-06", "2014-10-07", "2014-10-09")]
    (invoice,), _ = billing.draft_invoices(state(days, [certificate("1", "2014-10-07")]), commune, OCTOBER, calendar)
    assert invoice["deductions"][0]["days"] == ["2014-10-07"]  # the 9th has no certificate
    # Another child's certificate excuses nothing.
    (invoice,), _ = billing.draft_invoices(state(days, [certificate("2", "2014-10-07", "2014-10-09")]),
                                           commune, OCTOBER, calendar)
    assert invoice["deductions"] == []


def test_an_absence_after_a_day_of_presence_is_a_new_first_day(commune, calendar):
    days = [day("1", "2014-10-06", "absent"), day("1", "2014-10-07", "validated"), day("1", "2014-10-09", "absent")]
    certificates = [certificate("1", "2014-10-06", "2014-10-09")]
    (invoice,), _ = billing.draft_invoices(state(days, certificates), commune, OCTOBER, calendar)
    assert invoice["deductions"] == []


def test_an_absence_continues_across_the_holidays_and_the_month(commune, calendar):
    # Absent Friday 17 October, then Monday 3 November, the next open day after the holidays.
    days = [day("1", "2014-10-17", "absent"), day("1", "2014-11-03", "absent"), day("1", "2014-11-04", "absent"),
            day("1", "2014-11-06", "validated")]
    certificates = [certificate("1", "2014-10-17", "2014-11-03", "2014-11-04")]
    (invoice,), _ = billing.draft_invoices(state(days, certificates), commune, date(2014, 11, 1), calendar)
    assert invoice["lines"][0]["quantity"] == 3
    assert invoice["deductions"][0]["days"] == ["2014-11-03", "2014-11-04"]
    assert invoice["total"] == Decimal("2.45")


def test_nothing_to_pay_gives_no_invoice(commune, calendar):
    days = [day("1", "2014-10-17", "absent"), day("1", "2014-11-03", "absent")]
    drafts, skipped = billing.draft_invoices(state(days, [certificate("1", "2014-11-03")]), commune,
                                             date(2014, 11, 1), calendar)
    assert drafts == []
    assert [s.reason for s in skipped] == ["rien à payer (absences justifiées)"]


def test_one_line_per_child_and_service_at_the_brackets_tariff(commune, calendar):
    days = [day("2", "2014-10-02", "validated", "GARDERIE_SOIR"), day("1", "2014-10-02", "validated"),
            day("1", "2014-10-02", "validated", "GARDERIE_MATIN"), day("1", "2014-10-03", "validated")]
    (invoice,), _ = billing.draft_invoices(state(days, bracket="D"), commune, OCTOBER, calendar)
    assert [(x["child_name"], x["service"], x["quantity"], x["unit_price"]) for x in invoice["lines"]] == [
        ("ANNA ALPHA", "GARDERIE_MATIN", 1, Decimal("2.05")),
        ("ANNA ALPHA", "RESTAURATION", 2, Decimal("3.65")),
        ("LUC ALPHA", "GARDERIE_SOIR", 1, Decimal("3.05")),
    ]
    assert invoice["total"] == Decimal("12.40") == sum(x["amount"] for x in invoice["lines"])
    assert all(x["amount"] == x["quantity"] * x["unit_price"] for x in invoice["lines"])


def test_each_responsable_gets_the_days_they_booked(commune, calendar):
    days = [day("1", "2014-10-02", "validated", rank=1), day("1", "2014-10-03", "validated", rank=2),
            day("1", "2014-10-06", "validated", rank=2)]
    drafts, _ = billing.draft_invoices(state(days, ranks=(1, 2)), commune, OCTOBER, calendar)
    assert [(d["responsable_rank"], d["responsable_name"], d["lines"][0]["days"]) for d in drafts] == [
        (1, "Madame ANNE ALPHA", ["2014-10-02"]),
        (2, "Monsieur PAUL ALPHA", ["2014-10-03", "2014-10-06"]),
    ]


def test_skips_say_why(commune, calendar):
    assert [s.reason for s in billing.draft_invoices(state([]), commune, OCTOBER, calendar)[1]] == ["aucun jour facturable"]
    (skip,) = billing.draft_invoices(state([day("1", "2014-10-02", "validated")], bracket="Z"),
                                     commune, OCTOBER, calendar)[1]
    assert skip.problem and "tranche de quotient familial « Z » inconnue" in skip.reason
    (skip,) = billing.draft_invoices(state([day("1", "2014-10-02", "validated", rank=2)]), commune, OCTOBER, calendar)[1]
    assert skip.problem and skip.rank == 2
    marker = {"sk": "BILLED#2014-10#1", "invoice_number": "FAC-000007"}
    (skip,) = billing.draft_invoices(state([day("1", "2014-10-02", "validated")], other=[marker]),
                                     commune, OCTOBER, calendar)[1]
    assert skip.reason == "déjà facturée (FAC-000007)" and not skip.problem


def test_period_dates_and_school_year(commune):
    june = billing.parse_month("2017-06")
    assert billing.period_label(june) == "01/06/2017 - 30/06/2017"
    assert billing.invoice_dates(commune, june) == (date(2017, 7, 4), date(2017, 8, 3))
    assert billing.invoice_dates(commune, date(2014, 12, 1)) == (date(2015, 1, 4), date(2015, 2, 3))
    assert school_year_of(june, commune.year_start) == "2016-2017"
    assert school_year_of(date(2017, 9, 1), commune.year_start) == "2017-2018"
    assert invoice_number(commune, 42) == "FAC-000042"
    for bad in ("2017-13", "06/2017", "", "2017-6"):
        with pytest.raises(billing.BillingError, match="AAAA-MM"):
            billing.parse_month(bad)


def test_a_month_is_invoiced_once_it_is_over(commune):
    with pytest.raises(billing.BillingError, match="Le mois de novembre 2014 n'est pas terminé"):
        billing.check_month_over(commune, date(2014, 11, 1), date(2014, 11, 28))
    with pytest.raises(billing.BillingError, match="Le mois d'octobre 2014"):
        billing.check_month_over(commune, date(2014, 10, 1), date(2014, 10, 31))
    billing.check_month_over(commune, date(2014, 10, 1), date(2014, 11, 1))


def invoice(number: str, total: str, paid: str = "0", issued: str = "2014-10-04", seq: int = 1) -> dict:
    return {"number": number, "seq": seq, "total": Decimal(total), "paid_amount": Decimal(paid), "invoice_date": issued}


def test_a_payment_goes_to_the_oldest_unpaid_invoices_then_stays_a_credit():
    invoices = [invoice("FAC-000003", "30.00", issued="2014-11-04", seq=3), invoice("FAC-000001", "20.00", "20.00"),
                invoice("FAC-000002", "25.50", "5.50", issued="2014-10-04", seq=2)]
    allocations, credit = billing.allocate(Decimal("60.00"), invoices)
    assert allocations == [{"invoice_number": "FAC-000002", "amount": Decimal("20.00")},
                           {"invoice_number": "FAC-000003", "amount": Decimal("30.00")}]
    assert credit == Decimal("10.00")


def test_a_payment_naming_an_invoice_settles_it_first():
    invoices = [invoice("FAC-000001", "20.00", seq=1), invoice("FAC-000002", "25.00", issued="2014-11-04", seq=2)]
    allocations, credit = billing.allocate(Decimal("30.00"), invoices, "FAC-000002")
    assert allocations == [{"invoice_number": "FAC-000002", "amount": Decimal("25.00")},
                           {"invoice_number": "FAC-000001", "amount": Decimal("5.00")}]
    assert credit == Decimal("0.00")


def test_credits_of_earlier_payments_settle_a_new_invoice_oldest_first():
    payments = [{"sk": "PAYMENT#2014-10-20#b", "date": "2014-10-20", "unallocated": Decimal("7.00")},
                {"sk": "PAYMENT#2014-10-10#a", "date": "2014-10-10", "unallocated": Decimal("5.00")},
                {"sk": "PAYMENT#2014-10-01#z", "date": "2014-10-01", "unallocated": Decimal("0.00")}]
    taken = billing.credits_for(Decimal("9.20"), payments)
    assert [(p["sk"], amount) for p, amount in taken] == [("PAYMENT#2014-10-10#a", Decimal("5.00")),
                                                          ("PAYMENT#2014-10-20#b", Decimal("4.20"))]
