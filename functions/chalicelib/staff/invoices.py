"""The staff's list and search of invoices (`/gestion/factures/`, docs/staff.md): by
number, by family, by month, unpaid only; each a Query, never a Scan
(docs/data-model.md): a number is one Query of gsi2, a family its partition's `INVOICE#`
items, a month one Query of gsi1 (by number, 100 a page; unpaid: a filter on it).
Invoices written before these index keys existed are found by their family only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.refusals import Refusal

PAGE_SIZE = 100
_NUMBER = re.compile(r"[A-Za-z0-9-]{1,30}")
_FAMILY = re.compile(r"[A-Za-z0-9]{1,20}")


@dataclass(frozen=True)
class Search:
    """What was asked (already checked): any of number, family, month; unpaid; after."""

    number: str = ""
    family: str = ""
    month: str = ""
    unpaid: bool = False
    after: str = ""


@dataclass
class Found:
    invoices: list[dict]
    more: bool  # another page follows (a month's list)
    search: Search


def parse(number: str, family: str, month: str, unpaid: str, after: str, default_month: str) -> Search:
    """The search's fields as typed; a French 400 for a value no invoice could have. With
    neither a number nor a family, the month (by default the last month over)."""
    number, family, month, after = (v.strip() for v in (number, family, month, after))
    if number and not _NUMBER.fullmatch(number):
        raise Refusal(400, "invalid_number", f"Numéro de facture « {number[:40]} » invalide : par exemple FAC-000042.")
    if family and not _FAMILY.fullmatch(family):
        raise Refusal(400, "invalid_family", f"Numéro de famille « {family[:40]} » invalide : des chiffres.")
    if month:
        from chalicelib.billing import BillingError, parse_month

        try:
            parse_month(month)
        except BillingError as error:
            raise Refusal(400, "invalid_month", str(error)) from None
    if after and not _NUMBER.fullmatch(after):
        raise Refusal(400, "invalid_request", "Page de la liste invalide : repartez de la recherche.")
    if not number and not family and not month:
        month = default_month
    return Search(number.upper(), family, month, unpaid in ("1", "on", "oui"), after.upper())


def search(storage, wanted: Search) -> Found:
    from chalicelib.invoicing_store import InvoicingStore

    store = InvoicingStore(storage)
    if wanted.number:
        invoice = store.invoice_by_number(wanted.number)
        found = [invoice] if invoice and _keeps(invoice, wanted) else []
        return Found(found, False, wanted)
    if wanted.family:
        from chalicelib.keys import family_pk

        items = storage.query_partition(family_pk(wanted.family), "INVOICE#")
        return Found(sorted((i for i in items if _keeps(i, wanted)), key=lambda i: i["number"]), False, wanted)
    invoices, more = store.month_invoices(wanted.month, after=wanted.after or None, unpaid=wanted.unpaid,
                                          limit=PAGE_SIZE)
    return Found(invoices, more, wanted)


def _keeps(invoice: dict, wanted: Search) -> bool:
    return (not wanted.month or invoice.get("month") == wanted.month) and (not wanted.unpaid or unpaid(invoice))


def unpaid(invoice: dict) -> bool:
    return Decimal(str(invoice.get("paid_amount") or 0)) < Decimal(str(invoice.get("total") or 0))


def invoice(storage, number: str) -> dict:
    """One invoice by its number; a French 404 for none."""
    from chalicelib.invoicing_store import InvoicingStore

    found = InvoicingStore(storage).invoice_by_number(number) if _NUMBER.fullmatch(number or "") else None
    if found is None:
        raise Refusal(404, "invoice_not_found", f"Aucune facture ne porte le numéro « {(number or '')[:40]} ».")
    return found


def pdf_url(storage, documents, number: str) -> str:
    """A presigned GET (5 minutes) of the invoice's PDF, once it is known to be in the
    bucket (a HEAD); a French 404 otherwise (an interrupted run writes it later)."""
    found = invoice(storage, number)
    if not found.get("pdf_key") or not documents.has_object(found["pdf_key"]):
        raise Refusal(404, "invoice_pdf_missing", f"Le PDF de la facture {found['number']} n'est pas encore "
                                                   "enregistré : reprenez la facturation de son mois, puis réessayez.")
    return documents.invoice_download_url(found["pdf_key"])


def default_month(today: date) -> str:
    """The last month over: the month before `today`'s."""
    first = today.replace(day=1)
    previous = date(first.year - (first.month == 1), 12 if first.month == 1 else first.month - 1, 1)
    return previous.strftime("%Y-%m")


def months_over(today: date, count: int = 12) -> list[str]:
    """The `count` last months over, the most recent first (the form's choices)."""
    months, current = [], default_month(today)
    for _ in range(count):
        months.append(current)
        year, month = int(current[:4]), int(current[5:])
        current = f"{year - (month == 1)}-{12 if month == 1 else month - 1:02d}"
    return months


def row(invoice: dict) -> dict:
    """What a line of the list shows."""
    from chalicelib.formatting import euros, french_month, short_date

    month = invoice.get("month") or ""
    due = invoice.get("due_date")
    return {
        "number": invoice["number"], "family": invoice.get("family_number", ""),
        "responsable": invoice.get("responsable_name", ""),
        "month": french_month(date.fromisoformat(month + "-01")) if month else "",
        "total": euros(invoice.get("total") or 0), "paid": euros(invoice.get("paid_amount") or 0),
        "due": short_date(due) if due else "", "unpaid": unpaid(invoice),
        "href": f"/gestion/factures/{invoice['number']}/",
    }

