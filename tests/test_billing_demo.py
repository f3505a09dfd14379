"""The demo shows billing (`make run`): the past months invoiced by the real run, with
PDFs and announcements (made once the portal answers, by the run's resumption), and
payments imported by the real import."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest
from chalicelib.documents import Documents
from chalicelib.mail import Mailer
from chalicelib.table import bucket_name

from portail.demo import GUIDE_FAMILY, finish_demo_files, seed_demo
from tests.conftest import GUIDE_NOW


@pytest.fixture(scope="module")
def demo(shipped_commune):
    """The demo at the guide's date on moto, with its documents bucket and mail sender,
    on the commune's real configuration (as `make run` seeds it)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from tests.conftest import _new_storage, moto

    commune = shipped_commune
    with moto():
        storage = _new_storage()
        s3 = boto3.client("s3", region_name="eu-west-3")
        s3.create_bucket(Bucket=bucket_name("documents"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        ses = boto3.client("ses", region_name="eu-west-3")
        ses.verify_email_identity(EmailAddress=commune.commune.contact_email)
        documents, mailer = Documents(s3, bucket_name("documents")), Mailer(ses, commune.commune.contact_email)
        # As `portail serve --demo` does: the invoices first, their PDFs and mails once the
        # portal answers (the invoicing run's resumption, from the states read back).
        seed_demo(storage, commune, GUIDE_NOW, documents=documents, mailer=mailer, files_later=True)
        assert not s3.list_objects_v2(Bucket=bucket_name("documents"), Prefix="factures/").get("Contents")
        written = storage.scan_family_states(
            "sk = :profile OR begins_with(sk, :responsable) OR begins_with(sk, :invoice) OR begins_with(sk, :billed)",
            {":profile": "PROFILE", ":responsable": "RESPONSABLE#", ":invoice": "INVOICE#", ":billed": "BILLED#"})
        finish_demo_files(storage, commune, GUIDE_NOW, written.values(), documents=documents, mailer=mailer)
        keys = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket_name("documents"),
                                                                                  Prefix="factures/")
                for o in page.get("Contents", [])}
        mails = [m.destinations["ToAddresses"][0] for m in ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-3"].sent_messages]
        # The billing items of every family: one filtered Scan (a full Scan on moto takes seconds).
        states = storage.scan_family_states(
            "sk = :profile OR begins_with(sk, :invoice) OR begins_with(sk, :payment) OR begins_with(sk, :operation)",
            {":profile": "PROFILE", ":invoice": "INVOICE#", ":payment": "PAYMENT#", ":operation": "OPERATION#"})
        yield states, keys, mails


def test_september_and_october_are_invoiced_with_pdfs_and_one_mail_each(demo):
    states, keys, mails = demo
    invoices = [i for s in states.values() for i in s.invoices]
    assert {i["month"] for i in invoices} == {"2014-09", "2014-10"}
    assert sorted(i["number"] for i in invoices)[0] == "FAC-001001"
    assert {i["pdf_key"] for i in invoices} == keys
    assert len(mails) == len(invoices)
    # Separated parents (one family in five) each have their own invoice.
    assert any(len({i["responsable_rank"] for i in s.invoices}) == 2 for s in states.values())


def test_the_guides_family_has_an_excused_absence_and_has_paid_everything(demo):
    states, _, _ = demo
    guide = states[GUIDE_FAMILY]
    october = next(i for i in guide.invoices if i["month"] == "2014-10")
    (deduction,) = october["deductions"]
    assert deduction["quantity"] == 2 and deduction["amount"] < 0
    assert all(i["paid_amount"] == i["total"] for i in guide.invoices)
    balance = sum(o["credit"] - o["debit"] for o in guide.operations)
    assert balance == Decimal("0.00")
    assert {o["description"] for o in guide.operations} == {
        "Facture : 01/09/2014 - 30/09/2014", "Facture : 01/10/2014 - 31/10/2014", "Règlement : carte"}


def test_some_families_owe_their_last_invoice_and_one_has_a_credit(demo):
    states, _, _ = demo
    unpaid = [i for s in states.values() for i in s.invoices if i["paid_amount"] < i["total"]]
    assert unpaid and all(i["month"] == "2014-10" for i in unpaid)
    credits = [p for s in states.values() for p in s.payments if p["unallocated"] > 0]
    assert [p["unallocated"] for p in credits] == [Decimal("5.00")]
    for state in states.values():  # the statement's balance is the payments' credit less what is owed
        balance = sum(o["credit"] - o["debit"] for o in state.operations)
        owed = sum(i["total"] - i["paid_amount"] for i in state.invoices)
        assert balance == sum(p["unallocated"] for p in state.payments) - owed
