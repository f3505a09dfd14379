"""The property of regularisations (docs/billing.md): whatever the order of bookings, staff
decisions, certificates and invoicing runs, once a run followed the last change, the sum
of a family's invoices less its credit notes equals what the rules bill for its final
days. In process (moto), with the domain functions, a few seconds."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from chalicelib import billing
from chalicelib.calendar_rules import CommuneCalendar, month_end
from chalicelib.documents import record_staff_certificate
from chalicelib.invoicing import Invoicing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as sample

from tests.conftest import all_items
from tests.test_billing_run import new_family

MONTHS = [date(2014, 9, 1), date(2014, 10, 1), date(2014, 11, 1)]
# School days of the canteen (closed on Wednesdays), across the months' ends, with runs
# of consecutive open days so that absences continue (even from one month to the next).
DAYS = ["2014-09-25", "2014-09-26", "2014-09-29", "2014-09-30", "2014-10-02", "2014-10-03",
        "2014-10-13", "2014-10-14", "2014-10-30", "2014-10-31", "2014-11-03", "2014-11-04", "2014-11-17"]
STATUSES = ["validated", "pending", "absent", "cancelled", "refused"]
SERVICES = ["RESTAURATION", "GARDERIE_SOIR"]
_tables = itertools.count()

day_change = sample.tuples(sample.just("day"), sample.sampled_from(DAYS), sample.sampled_from(SERVICES),
                           sample.sampled_from(STATUSES), sample.sampled_from([1, 2]))
certificate = sample.tuples(sample.just("certificate"), sample.integers(0, len(DAYS) - 1), sample.integers(1, 4))
invoicing_run = sample.tuples(sample.just("run"))
events = sample.lists(sample.one_of(day_change, day_change, certificate, invoicing_run), min_size=1, max_size=14)


def fresh_storage():
    """A new, empty table for each example (the `storage` fixture is one per test)."""
    import boto3
    from chalicelib import table
    from chalicelib.storage import Storage

    client = boto3.client("dynamodb", region_name="eu-west-3")
    name = f"{table.table_name()}-{next(_tables)}"
    table.create_table(client, name, wait=False)
    return Storage(client, name)


def run_month(storage, commune, month: date) -> None:
    after = month_end(month) + timedelta(days=5)
    Invoicing(storage, commune, datetime(after.year, after.month, after.day, 9, tzinfo=commune.tz)).run(month)


def billed_by_the_rules(storage, commune, family: str) -> Decimal:
    state = storage.family_state(family)
    calendar = CommuneCalendar(commune)
    total = Decimal("0.00")
    for month in MONTHS:
        billed = billing.billed_days(state.days, state.certificates, commune, month, calendar)
        for rank in {b.rank for b in billed}:
            lines, deductions = billing.invoice_lines([b for b in billed if b.rank == rank], commune, "B", {})
            total += billing.invoice_total(lines, deductions)
    return total


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(events=events)
def test_invoices_and_credit_notes_sum_to_what_the_rules_bill(aws, commune, events):
    storage = fresh_storage()
    new_family(storage, "300", second_responsable=True)
    storage.update_attributes("FAMILY#300", "CHILD#1", {"services": SERVICES})
    new_family(storage, "400")  # another family, invoiced every month: the commune's runs happen
    runs = 0
    clock = datetime(2014, 9, 20, 9, tzinfo=commune.tz)
    for event in events:
        if event[0] == "run" and runs < len(MONTHS):
            storage.put({"pk": "FAMILY#400", "sk": f"DAY#1#{MONTHS[runs].isoformat()[:8]}15#RESTAURATION",
                         "child_id": "1", "date": MONTHS[runs].isoformat()[:8] + "15", "service": "RESTAURATION",
                         "status": "validated", "responsable_rank": 1})
            run_month(storage, commune, MONTHS[runs])
            runs += 1
        elif event[0] == "day":
            _, day, service, status, rank = event
            storage.put({"pk": "FAMILY#300", "sk": f"DAY#1#{day}#{service}", "kind": "day", "child_id": "1",
                         "date": day, "service": service, "status": status, "responsable_rank": rank})
        elif event[0] == "certificate":
            _, first, length = event
            clock += timedelta(minutes=1)
            record_staff_certificate(storage, "300", "1", DAYS[first:first + length], clock)
    for month in MONTHS[runs:]:
        run_month(storage, commune, month)
    run_month(storage, commune, date(2014, 12, 1))  # the next run puts the last changes right

    mine = [i for i in all_items(storage) if i["pk"] == "FAMILY#300"]
    invoiced = sum((i["total"] for i in mine if i["sk"].startswith("INVOICE#")), Decimal(0))
    credited = sum((i["amount"] for i in mine if i["sk"].startswith("CREDITNOTE#")), Decimal(0))
    assert invoiced - credited == billed_by_the_rules(storage, commune, "300")
    assert all(i["total"] >= 0 for i in mine if i["sk"].startswith("INVOICE#"))
