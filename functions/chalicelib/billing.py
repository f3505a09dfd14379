"""Billing rules (docs/bookings.md, docs/billing.md): which days are billed, the absence and certificate rule,
invoice lines and deductions, invoice and due dates, payment allocation.

Pure functions over the table's items (dicts as `Storage.family_state` returns them);
the commune, its calendar and the clock are arguments. Months and school years are
chalicelib.calendar_rules', invoice numbers chalicelib.numbering's. The run that
stores, prints and announces invoices is `invoicing.py`; payments are imported
by `chalicelib/payments.py`. Items written: docs/data-model.md, docs/billing.md.

Every euro on an invoice is explained by its lines: a line is one child and one
service, `quantity` days at the tariff of the family's quotient bracket; a deduction
takes back, at the same unit price, the absent days a medical certificate excuses.
`total` = Σ lines + Σ deductions. Amounts are Decimal euros to the cent, never floats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from chalicelib.calendar_rules import (
    PREVIOUS_OPEN_DAY_LOOKBACK,
    month_end,
    month_key,
    school_year_of,
)
from chalicelib.formatting import of_month, short_date
from chalicelib.money import to_decimal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from chalicelib.calendar_rules import CommuneCalendar
    from chalicelib.config import Commune

ZERO = Decimal("0.00")
# Booked days that are billed: validated days, and absences (declared after the
# deadline). Cancellations are free; pending and refused days are not billed.
BILLED_STATUSES = ("validated", "absent")
CERTIFIED_REASON = "Absence justifiée par certificat médical"
PAYMENT_MODES = ("espèces", "chèque", "carte", "CESU", "prélèvement")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BillingError(ValueError):
    """A refusal in French (bad month, month not over…): nothing is written."""


# --- months, periods and dates -------------------------------------------------------

def parse_month(text: str) -> date:
    """« 2017-06 » → 1 June 2017; BillingError in French otherwise."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BillingError(f"Mois « {text} » invalide : écrivez-le AAAA-MM, par exemple 2017-06.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def period_label(month: date) -> str:
    """« 01/06/2017 - 30/06/2017 », as the guide's statement writes a period."""
    return f"{short_date(month)} - {short_date(month_end(month))}"


def invoice_dates(commune: Commune, month: date) -> tuple[date, date]:
    """(invoice date, due date): the `invoice_day`-th of the month after the period, and
    `due_days` days later ([invoicing] of commune.toml)."""
    following = month_end(month) + timedelta(days=1)
    issued = following.replace(day=commune.invoicing.invoice_day)
    return issued, issued + timedelta(days=commune.invoicing.due_days)


def check_month_over(commune: Commune, month: date, today: date) -> None:
    """A month is invoiced once it is over: its days can no longer change."""
    if month_end(month) >= today:
        raise BillingError(f"Le mois {of_month(month)} n'est pas terminé : il sera facturable "
                           f"à partir du {short_date(month_end(month) + timedelta(days=1))}.")


# --- which days are billed ------------------------------------------------------------

@dataclass(frozen=True)
class BilledDay:
    child_id: str
    service: str
    day: date
    status: str  # validated or absent
    rank: int  # the responsable who booked it, and is billed
    excused: bool  # an absent day after the first one, covered by a medical certificate


def certified_days(certificates: Iterable[dict]) -> set[tuple[str, date]]:
    """(child id, day) of every day a medical certificate accepted by staff covers: one
    awaiting its file, to be reviewed or refused excuses nothing (chalicelib.certificates)."""
    from chalicelib.certificates import excuses

    return {(c["child_id"], date.fromisoformat(d)) for c in certificates if excuses(c) for d in c.get("dates", [])}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def day_of(item: dict) -> date:
    if "date" in item:
        return _as_date(item["date"])
    return date.fromisoformat(item["sk"].split("#")[2])  # DAY#<child>#<date>#<service>


def first_day_read(month: date) -> date:
    """The first day whose booking can decide how the month is billed: an absence that
    began up to a month before (after the holidays) still counts as continuing."""
    return month - timedelta(days=PREVIOUS_OPEN_DAY_LOOKBACK)


def billed_days(days: Iterable[dict], certificates: Iterable[dict], commune: Commune, month: date,
                calendar: CommuneCalendar) -> list[BilledDay]:
    """The month's billed days. An absence is billed on its first day; the following
    consecutive days (the service's previous open day was an absence too, even in the
    month before) are excused once a medical certificate covers them."""
    start, end = month, month_end(month)
    by_key = {(d["child_id"], day_of(d), d["service"]): d for d in days}
    certified = certified_days(certificates)
    billed = []
    for (child, day, code), item in by_key.items():
        status = item.get("status")
        if not start <= day <= end or status not in BILLED_STATUSES:
            continue
        excused = status == "absent" and (child, day) in certified and calendar.follows_absence(
            day, commune.service(code), lambda d, child=child, code=code: (by_key.get((child, d, code)) or {}).get("status"))
        billed.append(BilledDay(child, code, day, status, int(item.get("responsable_rank") or 1), excused))
    return sorted(billed, key=lambda b: (b.rank, _child_order(b.child_id), b.service, b.day))


def _child_order(child_id: str) -> tuple:
    return (0, int(child_id), "") if child_id.isdigit() else (1, 0, child_id)


# --- lines, deductions, totals -----------------------------------------------------------

def invoice_lines(billed: list[BilledDay], commune: Commune, bracket: str,
                  children: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """(lines, deductions) for one responsable's billed days: a line per child and service
    (every billed day, at the bracket's tariff), a deduction per child and service for
    the days a certificate excuses (amount = −quantity × unit price)."""
    order = {s.code: i for i, s in enumerate(commune.services)}
    groups: dict[tuple[str, str], list[BilledDay]] = {}
    for b in billed:
        groups.setdefault((b.child_id, b.service), []).append(b)
    lines, deductions = [], []
    for (child, code) in sorted(groups, key=lambda k: (_child_order(k[0]), order.get(k[1], 99), k[1])):
        service = commune.service(code)
        price = to_decimal(service.tariffs[bracket])
        group = groups[(child, code)]
        base = {"child_id": child, "child_name": children.get(child, child), "service": code,
                "label": service.label, "unit_price": price}
        lines.append({**base, "quantity": len(group), "amount": to_decimal(price * len(group)),
                      "days": [b.day.isoformat() for b in group]})
        excused = [b for b in group if b.excused]
        if excused:
            deductions.append({**base, "label": f"{service.label} : absences justifiées",
                               "quantity": len(excused), "amount": -to_decimal(price * len(excused)),
                               "days": [b.day.isoformat() for b in excused], "reason": CERTIFIED_REASON})
    return lines, deductions


def invoice_total(lines: list[dict], deductions: list[dict], regularisations: list[dict] = ()) -> Decimal:
    return to_decimal(sum((x["amount"] for x in [*lines, *deductions, *regularisations]), ZERO))


def responsable_name(responsable: dict) -> str:
    """« Madame PAYS ZTEST »."""
    return " ".join(p for p in (responsable.get("civility"), responsable.get("first_name"),
                                responsable.get("last_name")) if p)


def address_lines(profile: dict) -> list[str]:
    town = " ".join(p for p in (profile.get("postal_code"), profile.get("city")) if p)
    return [line for line in (profile.get("address"), town) if line]


@dataclass(frozen=True)
class Skip:
    """A family (or one of its responsables) the run leaves without an invoice, and why."""

    family_number: str
    rank: int | None
    reason: str
    problem: bool = False  # something staff must fix (unknown bracket, missing responsable)


def billed_marker_sk(month: date, rank: int) -> str:
    """The family's marker of one (month, responsable) invoiced: written in the same
    transaction as the invoice, on the condition that it does not exist yet."""
    return f"BILLED#{month_key(month)}#{rank}"


def bracket_for(state, month: date) -> str:
    """The family's quotient bracket for `month`'s invoice: the last one staff set from
    that month or an earlier one (`BRACKET#<AAAA-MM>`, set when they accept a quotient
    attestation, chalicelib.family_documents), else the profile's."""
    key = month_key(month)
    set_from = [c for c in getattr(state, "bracket_changes", []) if str(c.get("month", "")) <= key]
    if set_from:
        return max(set_from, key=lambda c: str(c["month"]))["bracket"]
    return (state.profile or {}).get("quotient_bracket") or ""


def draft_invoices(state, commune: Commune, month: date, calendar: CommuneCalendar,
                   invoiced: set[str] | frozenset = frozenset()) -> tuple[list[dict], list[Skip]]:
    """The invoices a family's state gives for `month`, not yet numbered: one per
    responsable with billed days or regularisations and no invoice for that month yet; and
    what is skipped. `invoiced`: the months already invoiced (« 2014-10 »), whose changes
    since become regularisation lines (chalicelib.regularisation). A draft whose total is
    negative (more deducted than billed) is issued by the run as a credit note."""
    from chalicelib import regularisation

    profile = state.profile or {}
    number = profile.get("family_number", "")
    bracket = bracket_for(state, month)
    billed = billed_days(state.days, state.certificates, commune, month, calendar)
    known = {b.code for b in commune.quotient_brackets}
    children = {c["child_id"]: " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p)
                for c in state.children}
    regularised = (regularisation.regularisations(state, commune, calendar, month, set(invoiced), bracket, children)
                   if invoiced and bracket in known else {})
    if not billed and not regularised:
        return [], [Skip(number, None, "aucun jour facturable")]
    if bracket not in known:
        return [], [Skip(number, None, f"tranche de quotient familial « {bracket} » inconnue de commune.toml "
                                       f"(attendu : {', '.join(sorted(known))})", problem=True)]
    markers = {item["sk"]: item for item in state.other if item["sk"].startswith("BILLED#")}
    responsables = {int(r["rank"]): r for r in state.responsables}
    issued, due = invoice_dates(commune, month)
    drafts, skipped = [], []
    for rank in sorted({b.rank for b in billed} | set(regularised)):
        marker = markers.get(billed_marker_sk(month, rank))
        if marker is not None:
            skipped.append(Skip(number, rank, f"déjà facturée ({marker['invoice_number']})"))
            continue
        responsable = responsables.get(rank)
        if responsable is None:
            skipped.append(Skip(number, rank, f"jours réservés par un responsable de rang {rank} "
                                              "absent de la famille", problem=True))
            continue
        lines, deductions = invoice_lines([b for b in billed if b.rank == rank], commune, bracket, children)
        regularisations = regularised.get(rank, [])
        total = invoice_total(lines, deductions, regularisations)
        if total <= 0 and not regularisations:
            skipped.append(Skip(number, rank, "rien à payer (absences justifiées)"))
            continue
        drafts.append({
            "family_number": number, "regie": commune.commune.regie, "responsable_rank": rank,
            "responsable_name": responsable_name(responsable), "address": address_lines(profile),
            "email": responsable.get("email") or None,
            "month": month_key(month), "period_start": month, "period_end": month_end(month),
            "period_label": period_label(month), "invoice_date": issued, "due_date": due,
            "school_year": school_year_of(month, commune.year_start), "quotient_bracket": bracket,
            "lines": lines, "deductions": deductions, "regularisations": regularisations,
            "total": total, "paid_amount": ZERO,
        })
    return drafts, skipped


def invoice_description(invoice: dict) -> str:
    """The statement's words: « Facture : 01/11/2014 - 30/11/2014 », and what its
    regularisations of earlier months add or take off."""
    text = f"Facture : {invoice['period_label']}"
    if invoice.get("regularisations"):
        from chalicelib.formatting import euros

        amount = to_decimal(sum((r["amount"] for r in invoice["regularisations"]), ZERO))
        text += f" (dont régularisations : {euros(amount)})"
    return text


def payment_description(mode: str) -> str:
    return f"Règlement : {mode}"


# --- payments ---------------------------------------------------------------------------

def remaining(invoice: dict) -> Decimal:
    """What is left to pay on an invoice (0 once paid): its total less what was paid and
    what credit notes took off it (`credited`, read with the invoice)."""
    return max(to_decimal(invoice["total"]) - to_decimal(invoice.get("paid_amount") or 0)
               - to_decimal(invoice.get("credited") or 0), ZERO)


def _oldest_first(invoices: Iterable[dict]) -> list[dict]:
    return sorted(invoices, key=lambda i: (str(i["invoice_date"]), int(i.get("seq") or 0), i["number"]))


def allocate(amount: Decimal, invoices: Iterable[dict], named: str | None = None) -> tuple[list[dict], Decimal]:
    """A payment's allocations: to the named invoice first, then to the oldest unpaid
    ones; what is left over stays a credit. Returns ([{invoice_number, amount}], credit)."""
    left = to_decimal(amount)
    ordered = _oldest_first(i for i in invoices if remaining(i) > 0)
    ordered.sort(key=lambda i: i["number"] != named)  # stable: the named one first
    allocations = []
    for invoice in ordered:
        if left <= 0:
            break
        share = min(left, remaining(invoice))
        allocations.append({"invoice_number": invoice["number"], "amount": share})
        left -= share
    return allocations, left


def credits_for(total: Decimal, payments: Iterable[dict]) -> list[tuple[dict, Decimal]]:
    """The credits left by earlier payments (oldest first) that settle a new invoice:
    [(payment, amount taken from its credit)]."""
    due = to_decimal(total)
    taken = []
    for payment in sorted(payments, key=lambda p: (str(p["date"]), p["sk"])):
        credit = to_decimal(payment.get("unallocated") or 0)
        if due <= 0:
            break
        if credit > 0:
            share = min(credit, due)
            taken.append((payment, share))
            due -= share
    return taken
