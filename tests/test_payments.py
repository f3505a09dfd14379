"""Payments (règlements, `portail payments import`): credits matched to the named invoice
or the oldest unpaid ones, overpayments kept as a credit for the next invoice, a bad
row imports nothing; the statement's and the dashboard's figures agree."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from chalicelib import billing
from chalicelib.formatting import euros
from chalicelib.payments import PaymentImport, parse_amount, parse_mode

from portail.importer import ImportRejected
from tests.conftest import GUIDE_NOW, all_items
from tests.test_billing_run import book, invoices, invoicing, new_family, snapshot, tools  # noqa: F401  (fixture)

HEADER = "date;numero_famille;numero_facture;montant;mode\n"


def write(tmp_path, text: str, name: str = "reglements.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def items(storage, prefix: str, family: str = "300") -> list[dict]:
    return sorted((i for i in all_items(storage) if i["pk"] == f"FAMILY#{family}" and i["sk"].startswith(prefix)),
                  key=lambda i: i["sk"])


@pytest.fixture
def two_invoices(storage, commune, tools):  # noqa: F811
    """Family 300, bracket B (RESTAURATION 2,45 € in tests/commune.toml): September's invoice FAC-000001 (7,35 €) and October's FAC-000002 (4,90 €)."""
    new_family(storage, "300")
    book(storage, "300", ["2014-09-02", "2014-09-04", "2014-09-05"])
    book(storage, "300", ["2014-10-02", "2014-10-03"])
    invoicing(storage, commune, tools).run(date(2014, 9, 1))
    invoicing(storage, commune, tools).run(date(2014, 10, 1))
    return {i["number"]: i for i in invoices(storage)}


def by_number(storage) -> dict:
    return {i["number"]: i for i in invoices(storage)}


def test_a_payment_is_split_across_the_oldest_unpaid_invoices(storage, commune, two_invoices, tmp_path):
    assert [(n, i["total"]) for n, i in two_invoices.items()] == [("FAC-000001", Decimal("7.35")),
                                                                 ("FAC-000002", Decimal("4.90"))]
    path = write(tmp_path, HEADER + "20/11/2014;300;;10,00;chèque\n")

    (result,) = PaymentImport(storage, commune, GUIDE_NOW).import_file(path.read_bytes(), path.name)

    assert result.allocations == [{"invoice_number": "FAC-000001", "amount": Decimal("7.35")},
                                  {"invoice_number": "FAC-000002", "amount": Decimal("2.65")}]
    stored = by_number(storage)
    assert stored["FAC-000001"]["paid_amount"] == Decimal("7.35")
    assert stored["FAC-000002"]["paid_amount"] == Decimal("2.65")  # 2,25 € left to pay
    (payment,) = items(storage, "PAYMENT#")
    assert payment["sk"].startswith("PAYMENT#2014-11-20#")
    assert (payment["amount"], payment["mode"], payment["unallocated"]) == (Decimal("10.00"), "chèque", Decimal("0.00"))
    credit = items(storage, "OPERATION#")[-1]
    assert (credit["number"], credit["date"], credit["description"], credit["credit"], credit["debit"]) == (
        3, "2014-11-20", "Règlement : chèque", Decimal("10.00"), Decimal("0.00"))
    assert credit["payment_reference"] == payment["reference"] and payment["operation_number"] == 3


def test_a_named_invoice_is_paid_first_and_an_overpayment_stays_a_credit_for_the_next_invoice(
        storage, commune, two_invoices, tools, tmp_path):  # noqa: F811
    path = write(tmp_path, HEADER + "2014-11-20;300;FAC-000002;12.75;CB\n")
    (result,) = PaymentImport(storage, commune, GUIDE_NOW).import_file(path.read_bytes(), path.name)
    assert result.allocations == [{"invoice_number": "FAC-000002", "amount": Decimal("4.90")},
                                  {"invoice_number": "FAC-000001", "amount": Decimal("7.35")}]
    assert result.unallocated == Decimal("0.50")

    # November is invoiced in December: the credit of 0,50 € settles part of it.
    book(storage, "300", ["2014-11-03"])
    later = datetime.fromisoformat("2014-12-05T10:00:00+01:00")
    from chalicelib.invoicing import Invoicing

    Invoicing(storage, commune, later, documents=tools.documents, mailer=tools.mailer).run(date(2014, 11, 1))
    november = by_number(storage)["FAC-000003"]
    assert (november["total"], november["paid_amount"]) == (Decimal("2.45"), Decimal("0.50"))
    (payment,) = items(storage, "PAYMENT#")
    assert payment["unallocated"] == Decimal("0.00")
    assert payment["allocations"][-1] == {"invoice_number": "FAC-000003", "amount": Decimal("0.50")}


def test_a_bad_row_imports_nothing_and_is_reported_with_its_line(storage, commune, two_invoices, tools, mails,  # noqa: F811
                                                                 tmp_path, capsys, frozen_clock):
    from portail.cli import main

    path = write(tmp_path, HEADER + "20/11/2014;300;;5,00;espèces\n20/11/2014;300;;abc;chèque\n"
                                    "21/11/2014;999;;5,00;chèque\n21/11/2014;300;FAC-000009;5,00;bitcoin\n"
                                    "30/11/2014;300;;5,00;carte\n")
    before = snapshot(storage, tools.s3, mails)
    with pytest.raises(ImportRejected) as rejected:
        PaymentImport(storage, commune, GUIDE_NOW).import_file(path.read_bytes(), path.name)
    assert [(e.line, e.reason) for e in rejected.value.errors] == [
        (3, "montant « abc » invalide (en euros, par exemple 41,40)"),
        (4, "famille 999 inconnue"),
        (5, "mode de règlement « bitcoin » inconnu (attendu : chèque, espèces, carte, CESU, virement, prélèvement)"),
        (6, "le 30/11/2014 est dans le futur"),
    ]
    assert snapshot(storage, tools.s3, mails) == before

    assert main(["payments", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Import refusé, rien n'a été écrit (4 erreur(s))" in err
    assert "reglements.csv, ligne 3 : montant « abc » invalide" in err
    assert "reglements.csv, ligne 4 : famille 999 inconnue" in err
    assert snapshot(storage, tools.s3, mails) == before


def test_importing_the_same_file_again_imports_nothing_twice(storage, commune, two_invoices, tmp_path, capsys,
                                                             frozen_clock):
    from portail.cli import main

    # Two identical cheques the same day are two payments; the file imported twice is still two.
    path = write(tmp_path, HEADER + "20/11/2014;300;;2,00;cheque\n20/11/2014;300;;2,00;cheque\n")
    assert main(["payments", "import", str(path), "--dry-run"]) == 0
    assert "rien n'est écrit" in capsys.readouterr().out and items(storage, "PAYMENT#") == []

    assert main(["payments", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ligne 2 : famille 300, 2,00\u00a0€ (chèque, 20/11/2014) : affecté à FAC-000001 (2,00\u00a0€)" in out
    assert "Règlement(s) importé(s) : 2, total 4,00\u00a0€" in out
    assert main(["payments", "import", str(path)]) == 0
    assert "déjà importé" in capsys.readouterr().out
    assert len(items(storage, "PAYMENT#")) == 2
    assert by_number(storage)["FAC-000001"]["paid_amount"] == Decimal("4.00")


def test_amounts_and_modes_are_read_the_french_way():
    assert parse_amount("1 234,56 €") == Decimal("1234.56") and parse_amount("41.4") == Decimal("41.40")
    for bad in ("0", "-3,00", "12,345", "1.234,56", "douze"):
        with pytest.raises(ValueError):
            parse_amount(bad)
    assert [parse_mode(m) for m in ("Espèces", "CHEQUE", "cb", "cesu", "Prélèvement")] == list(billing.PAYMENT_MODES)


def test_the_statement_balance_is_the_sum_of_its_operations_and_matches_the_unpaid_invoices(
        storage, commune, tools, tmp_path):  # noqa: F811
    """The contract's figures (docs/billing.md): « Ancien solde » from earlier school years,
    the year's balance, and the dashboard's balance against the unpaid invoices."""
    new_family(storage, "300")
    book(storage, "300", ["2014-06-02", "2014-06-03"])  # school year 2013-2014
    book(storage, "300", ["2014-09-02", "2014-09-04"])
    invoicing(storage, commune, tools).run(date(2014, 6, 1))
    invoicing(storage, commune, tools).run(date(2014, 9, 1))
    path = write(tmp_path, HEADER + "15/09/2014;300;FAC-000002;3,00;espèces\n20/11/2014;300;;10,00;carte\n")
    PaymentImport(storage, commune, GUIDE_NOW).import_file(path.read_bytes(), path.name)

    operations = items(storage, "OPERATION#")
    assert [o["number"] for o in operations] == [1, 2, 3, 4]
    assert [o["school_year"] for o in operations] == ["2013-2014", "2014-2015", "2014-2015", "2014-2015"]
    year = [o for o in operations if o["school_year"] == "2014-2015"]
    old_balance = sum(o["credit"] - o["debit"] for o in operations if o["school_year"] < "2014-2015")
    balance = old_balance + sum(o["credit"] - o["debit"] for o in year)
    assert euros(old_balance) == "-4,90\u00a0€"  # June's invoice, carried over
    assert balance == sum(o["credit"] - o["debit"] for o in operations) == Decimal("3.20")
    # The dashboard: what is left to pay on the invoices, less the credit not yet used.
    unpaid = sum(billing.remaining(i) for i in invoices(storage))
    credit = sum(p["unallocated"] for p in items(storage, "PAYMENT#"))
    assert balance == credit - unpaid == Decimal("3.20") and unpaid == 0
