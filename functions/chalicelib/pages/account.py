"""View models of the pages about money: the dashboard's balance, unpaid invoices and
notices, « Mes factures », « Mes règlements » and the statement (relevé) per school year.

The figures come from `statement.account`, one function for the dashboard and the
statement, so they always agree. The notices for all parents are one item
(`NOTICES`/`CURRENT`, written by `portail build`), read once per export run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib import statement
from chalicelib.calendar_rules import school_year_label
from chalicelib.formatting import euros, short_date
from chalicelib.pages.names import credit_note_pdf_href, invoice_pdf_href
from chalicelib.storage import FamilyState

# The notices for all parents (portail/notices.py writes them at `portail build`).
NOTICES_PK, NOTICES_SK = "NOTICES", "CURRENT"
NOTICES_SHOWN = 5  # on the dashboard, the most recent current ones


def current_notices(item: dict | None, now: datetime) -> list[dict]:
    """The notices of the NOTICES item still current at `now`, the most recent first.

    `expires` is the last instant a notice is shown (portail/notices.py: the end of its
    `Expires` day or minute): past it, the next export leaves the notice out."""
    shown = []
    for notice in (item or {}).get("notices", []):
        starts = notice.get("starts")  # a commune's document: shown from its period's first day
        if starts and now < datetime.fromisoformat(str(starts)):
            continue
        expires = notice.get("expires")
        if expires:
            moment = datetime.fromisoformat(str(expires))
            if now > (moment if moment.tzinfo else moment.replace(tzinfo=UTC)):
                continue
        shown.append(notice)
    shown.sort(key=lambda n: str(n.get("date", "")), reverse=True)
    return shown


def dashboard_context(account: statement.Account, notices: list[dict] | None) -> dict:
    """What famille/accueil.html shows besides the family: balance, unpaid, notices."""
    return {
        "account": {"balance": euros(account.balance), "owes": account.balance < 0},
        "unpaid": {
            "invoices": [{"number": i.number, "invoice_date": short_date(i.invoice_date),
                          "due_date": short_date(i.due_date), "total": euros(i.total),
                          "left": euros(i.left_to_pay), "pdf_href": invoice_pdf_href(i.number)}
                         for i in account.unpaid],
            "total": euros(account.unpaid_total),
        },
        "notices": [{"title": n.get("title", ""), "url": n.get("url", ""), "summary": n.get("summary", ""),
                     "date": short_date(n.get("date"))} for n in (notices or [])[:NOTICES_SHOWN]],
    }


def invoices_view(state: FamilyState, account: statement.Account) -> list[dict]:
    """« Mes factures », the most recent first, each with what is left to pay, its
    regularisations of earlier months and the credit notes that corrected it."""
    unpaid = {i.number for i in account.unpaid}
    corrected: dict[str, list[str]] = {}
    for note in sorted(state.credit_notes, key=lambda n: str(n["number"])):
        if note.get("invoice_number"):
            corrected.setdefault(str(note["invoice_number"]), []).append(str(note["number"]))
    views = []
    for item in sorted(state.invoices, key=lambda i: (str(i.get("invoice_date", "")), str(i["number"])),
                       reverse=True):
        left = statement.left_to_pay(item)
        paid = item.get("paid_amount") or 0
        views.append({
            "number": str(item["number"]), "period": item.get("period_label", ""),
            "responsable": item.get("responsable_name", ""),
            "invoice_date": short_date(item.get("invoice_date")), "due_date": short_date(item.get("due_date")),
            "total": euros(item.get("total") or 0), "paid": euros(paid), "left": euros(left),
            "state": "payée" if left == 0 else ("à payer" if str(item["number"]) in unpaid else "à venir"),
            "pdf_href": invoice_pdf_href(str(item["number"])),
            "regularisations": [{"label": r["label"], "amount": euros(r["amount"])}
                                for r in item.get("regularisations", [])],
            "corrected_by": corrected.get(str(item["number"]), []),
        })
    return views


def credit_notes_view(state: FamilyState) -> list[dict]:
    """The family's credit notes (« avoirs ») on « Mes factures », the most recent first."""
    return [{"number": str(n["number"]), "date": short_date(n.get("date")), "amount": euros(n.get("amount") or 0),
             "about": (f"Facture {n['invoice_number']}" if n.get("invoice_number")
                       else f"Régularisation ({n.get('period_label', '')})"),
             "reason": n.get("reason", ""),
             "regularisations": [{"label": r["label"], "amount": euros(r["amount"])}
                                 for r in n.get("regularisations", [])],
             "pdf_href": credit_note_pdf_href(str(n["number"])) if n.get("pdf_written_at") else ""}
            for n in sorted(state.credit_notes, key=lambda n: str(n["number"]), reverse=True)]


def payments_view(state: FamilyState) -> list[dict]:
    """« Mes règlements », the most recent first, with the invoices each one settled."""
    views = []
    for item in sorted(state.payments, key=lambda p: p["sk"], reverse=True):
        allocations = item.get("allocations")
        if allocations is None:  # before the billing contract: the invoices' numbers only
            allocations = [{"invoice_number": n} for n in item.get("invoice_numbers", [])]
        views.append({
            "date": short_date(item.get("date")), "mode": item.get("mode", ""),
            "amount": euros(item.get("amount") or 0),
            "invoices": [{"number": a["invoice_number"],
                          "amount": euros(a["amount"]) if a.get("amount") is not None else ""}
                         for a in allocations],
            "unallocated": euros(item["unallocated"]) if item.get("unallocated") else "",
        })
    return views


def statement_years(account: statement.Account) -> list[str]:
    """The school years with a statement page, oldest first: every year from the account's
    first one to the current one (or to a later one holding an operation), none skipped,
    so that the selector never offers a year without its page; a year between two with
    operations has its page, which says it has none."""
    firsts = [int(y.school_year[:4]) for y in account.years] + [int(account.current_year[:4])]
    return [school_year_label(year) for year in range(min(firsts), max(firsts) + 1)]


def statement_context(account: statement.Account, year: str, years: list[str]) -> dict:
    """What famille/releve.html shows of one school year."""
    shown = account.year(year)
    return {
        "school_year": year,
        "years": [{"label": y, "current": y == year} for y in years],
        "opening_balance": euros(shown.opening_balance),
        "operations": [{"number": o.number, "date": short_date(o.day), "description": o.description,
                        "regie": o.regie, "debit": euros(o.debit) if o.debit else "",
                        "credit": euros(o.credit) if o.credit else ""} for o in shown.operations],
        "total_debit": euros(shown.total_debit),
        "total_credit": euros(shown.total_credit),
        "balance": euros(shown.balance),
        "owes": shown.balance < 0,
    }
