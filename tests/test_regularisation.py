"""Regularisations (chalicelib.regularisation, docs/billing.md): a change after a month was
invoiced (a day validated or entered late, a certificate accepted afterwards) becomes a
dated, explained line on the family's next invoice; more deducted than billed becomes a
credit note, whose credit settles the next invoice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from chalicelib import regularisation
from chalicelib.calendar_rules import CommuneCalendar
from chalicelib.documents import record_staff_certificate
from chalicelib.invoicing import Invoicing, summary

from tests.conftest import all_items
from tests.test_billing_run import book, new_family

OCTOBER, NOVEMBER, DECEMBER = date(2014, 10, 1), date(2014, 11, 1), date(2014, 12, 1)
PRICE = Decimal("2.45")  # RESTAURATION, bracket B (tests/commune.toml)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def run(storage, commune, month: date, now: str, **options):
    return Invoicing(storage, commune, at(now)).run(month, **options)


def documents(storage, family: str) -> list[dict]:
    items = [i for i in all_items(storage) if i["pk"] == f"FAMILY#{family}"]
    return sorted((i for i in items if i["sk"].startswith(("INVOICE#", "CREDITNOTE#"))), key=lambda i: i["created_at"])


def test_days_validated_after_invoicing_are_billed_on_the_next_invoice(storage, commune):
    new_family(storage, "300")
    book(storage, "300", ["2014-10-02", "2014-10-03"])
    book(storage, "300", ["2014-10-13", "2014-10-14", "2014-10-16"], status="pending")
    october = run(storage, commune, OCTOBER, "2014-11-04T09:00:00+01:00")
    assert october.invoices[0]["total"] == 2 * PRICE
    book(storage, "300", ["2014-10-13", "2014-10-14", "2014-10-16"])  # validated by staff in November
    book(storage, "300", ["2014-11-03"])

    november = run(storage, commune, NOVEMBER, "2014-12-04T09:00:00+01:00")

    (invoice,) = november.invoices
    (line,) = invoice["regularisations"]
    assert line["label"] == ("Régularisation octobre 2014 : LEA NOM300, restauration, 3 jours validés après "
                             "facturation (13/10, 14/10, 16/10)")
    assert (line["month"], line["quantity"], line["amount"]) == ("2014-10", 3, 3 * PRICE)
    assert invoice["total"] == 4 * PRICE  # 1 day of November and 3 of October
    operation = next(i for i in all_items(storage) if i.get("invoice_number") == invoice["number"]
                     and i["sk"].startswith("OPERATION#"))
    assert operation["description"] == "Facture : 01/11/2014 - 30/11/2014 (dont régularisations : 7,35\u00a0€)"
    # Run again (the same month, then the next): nothing is billed twice.
    assert run(storage, commune, NOVEMBER, "2014-12-05T09:00:00+01:00").invoices == []
    book(storage, "300", ["2014-12-01"])
    december = run(storage, commune, DECEMBER, "2015-01-05T09:00:00+01:00")
    assert december.invoices[0]["regularisations"] == [] and december.invoices[0]["total"] == PRICE


def test_a_certificate_accepted_after_invoicing_is_deducted_on_the_next_invoice(storage, commune):
    new_family(storage, "300")
    book(storage, "300", ["2014-10-02"])
    book(storage, "300", ["2014-10-06", "2014-10-07", "2014-10-09"], status="absent")
    assert run(storage, commune, OCTOBER, "2014-11-04T09:00:00+01:00").invoices[0]["total"] == 4 * PRICE
    record_staff_certificate(storage, "300", "1", ["2014-10-06", "2014-10-07", "2014-10-09"],
                             at("2014-11-10T09:00:00+01:00"))
    book(storage, "300", ["2014-11-03", "2014-11-04", "2014-11-06"])

    (invoice,) = run(storage, commune, NOVEMBER, "2014-12-04T09:00:00+01:00").invoices

    (line,) = invoice["regularisations"]
    assert line["label"] == ("Régularisation octobre 2014 : LEA NOM300, restauration, 2 jours d'absence "
                             "(07/10, 09/10) justifiés par certificat médical")  # the 6th, first day, stays billed
    assert (line["change"], line["amount"]) == ("excused", -2 * PRICE)
    assert invoice["total"] == PRICE


def test_one_excused_day_says_its_date(storage, commune):
    new_family(storage, "300")
    book(storage, "300", ["2014-10-13", "2014-10-14"], status="absent")
    run(storage, commune, OCTOBER, "2014-11-04T09:00:00+01:00")
    record_staff_certificate(storage, "300", "1", ["2014-10-13", "2014-10-14"], at("2014-11-10T09:00:00+01:00"))
    book(storage, "300", ["2014-11-03", "2014-11-04"])

    (invoice,) = run(storage, commune, NOVEMBER, "2014-12-04T09:00:00+01:00").invoices

    assert [r["label"] for r in invoice["regularisations"]] == [
        "Régularisation octobre 2014 : LEA NOM300, restauration, absence du 14/10 justifiée par certificat médical"]


def test_more_deducted_than_billed_is_a_credit_note_that_settles_the_next_invoice(storage, commune):
    new_family(storage, "300")
    book(storage, "300", ["2014-10-02", "2014-10-03", "2014-10-06"])
    run(storage, commune, OCTOBER, "2014-11-04T09:00:00+01:00")
    book(storage, "300", ["2014-10-03", "2014-10-06"], status="cancelled")  # corrected by staff, no November day

    november = run(storage, commune, NOVEMBER, "2014-12-04T09:00:00+01:00")

    assert november.invoices == []
    (note,) = november.credit_notes
    assert (note["number"], note["amount"], note["unallocated"]) == ("AVO-000001", 2 * PRICE, 2 * PRICE)
    assert note["regularisations"][0]["label"] == ("Régularisation octobre 2014 : LEA NOM300, restauration, "
                                                   "2 jours retirés après facturation (03/10, 06/10)")
    assert any("Avoirs de régularisation" in line and "AVO-000001" in line for line in summary(november))
    credit = next(i for i in all_items(storage) if i.get("credit_note_number") == "AVO-000001")
    assert (credit["credit"], credit["debit"]) == (2 * PRICE, 0)
    # A re-run issues nothing more; the next invoice takes the credit.
    assert run(storage, commune, NOVEMBER, "2014-12-05T09:00:00+01:00").credit_notes == []
    book(storage, "300", ["2014-12-01", "2014-12-02", "2014-12-04"])
    (december,) = run(storage, commune, DECEMBER, "2015-01-05T09:00:00+01:00").invoices
    assert december["regularisations"] == []  # the credit note's lines count as charged
    assert (december["total"], december["paid_amount"]) == (3 * PRICE, 2 * PRICE)


def test_a_day_entered_late_for_a_month_without_invoice_is_billed(storage, commune):
    new_family(storage, "300")
    new_family(storage, "400")
    book(storage, "400", ["2014-10-02"])  # October is invoiced for the commune (family 400)
    run(storage, commune, OCTOBER, "2014-11-04T09:00:00+01:00")
    book(storage, "300", ["2014-10-20", "2014-10-21"])  # a paper planning entered late

    november = run(storage, commune, NOVEMBER, "2014-12-04T09:00:00+01:00")

    (invoice,) = [i for i in november.invoices if i["family_number"] == "300"]
    assert invoice["lines"] == [] and invoice["total"] == 2 * PRICE
    assert "2 jours validés après facturation" in invoice["regularisations"][0]["label"]


def test_dry_run_shows_the_regularisations_and_writes_nothing(storage, commune):
    new_family(storage, "300")
    book(storage, "300", ["2014-10-02"])
    run(storage, commune, OCTOBER, "2014-11-04T09:00:00+01:00")
    book(storage, "300", ["2014-10-03"])
    before = all_items(storage)

    november = run(storage, commune, NOVEMBER, "2014-12-04T09:00:00+01:00", dry_run=True)

    assert november.invoices[0]["regularisations"][0]["amount"] == PRICE
    assert all_items(storage) == before


def test_months_to_check_are_the_invoiced_ones_of_the_year_before():
    invoiced = {"2013-10", "2014-09", "2014-10", "2014-11", "2014-12"}  # 2013-10: 13 months before
    assert regularisation.months_to_check(date(2014, 11, 1), invoiced) == [date(2014, 9, 1), date(2014, 10, 1)]


def test_regularisation_lines_are_pure(commune):
    from chalicelib.storage import FamilyState

    state = FamilyState.from_items([
        {"pk": "FAMILY#1", "sk": "DAY#1#2014-10-02#RESTAURATION", "child_id": "1", "date": "2014-10-02",
         "service": "RESTAURATION", "status": "validated", "responsable_rank": 1},
        {"pk": "FAMILY#1", "sk": "INVOICE#FAC-000001", "number": "FAC-000001", "month": "2014-10",
         "responsable_rank": 1, "created_at": "2014-11-04", "deductions": [], "regularisations": [],
         "lines": [{"child_id": "1", "service": "RESTAURATION", "unit_price": Decimal("3.00"),
                    "days": ["2014-10-02", "2014-10-03"]}]},
    ])
    (line,) = regularisation.lines_for_month(state, commune, CommuneCalendar(commune), OCTOBER, 1, "B", {"1": "LEA"})
    # The day removed is taken back at the price it was invoiced at, not today's tariff.
    assert (line["change"], line["days"], line["amount"]) == ("removed", ["2014-10-03"], Decimal("-3.00"))
