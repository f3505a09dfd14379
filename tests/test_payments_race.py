"""Desk payments racing, through the embedded AWS (moto's server behind its lock): the
same form sent by several threads at once records one payment, and receipts stay
gapless whatever the concurrency (docs/billing.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from chalicelib.payment_desk import Desk, DeskPayment

from tests.conftest import GUIDE_NOW, add_family, race
from tests.test_accounts_race import storage_for

pytestmark = pytest.mark.server
THREADS = 8


def test_one_form_sent_by_many_threads_records_once_and_receipts_stay_gapless(embedded_aws, embedded_resources,
                                                                              commune):
    storage = storage_for(embedded_aws, THREADS)
    add_family(storage, "300", "login300", None, last_name="NOM300", child="LEA", email="f300@example.org")

    def submit(n: int):
        token = "le-meme-formulaire-0" if n < 4 else f"un-autre-formulaire-{n}"  # 4 double submits, 4 forms
        form = DeskPayment("300", Decimal("2.50"), "espèces", date(2014, 11, 28), None, None, token)
        receipt, created = Desk(storage, commune, GUIDE_NOW, "regie").record(form)
        return receipt["number"], created, n < 4

    answers = race(THREADS, submit)
    same = {number for number, _, shared in answers if shared}
    assert len(same) == 1, answers  # every submission of that form got the one receipt
    assert sum(1 for _, created, shared in answers if shared and created) == 1
    numbers = sorted({number for number, _, _ in answers})
    assert numbers == [f"REC-{n:06d}" for n in range(1, 6)]  # 5 payments, gapless
    payments = storage.family_state("300").payments
    assert len(payments) == 5 and sum(p["amount"] for p in payments) == Decimal("12.50")
    assert storage.counter_values("RECEIPT", "OPERATION") == {"RECEIPT": 5, "OPERATION": 5}
