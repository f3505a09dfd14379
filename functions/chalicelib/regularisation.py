"""Regularisations (docs/billing.md): what changed in a month after it was invoiced, put
right on the family's next invoice. Pure: the state, the commune, its calendar and the
months are arguments; nothing here reads the clock or the table.

A day of an invoiced month can change afterwards: a pending day validated by staff, a day
entered late from a paper planning, a certificate accepted (or refused) after the run, a
billed day removed by staff. At each run of month M, for every earlier month already
invoiced (in the twelve months before M), this module compares, day by day and per
responsable, child and service:

- what the rules bill today for the family's final days (`billing.billed_days`: a
  billed day counts 1, an excused absence 0), with
- what the documents already issued charged for that month: the month's invoice (its
  lines count +1 per day, its deductions −1) and every regularisation line about that
  month on later invoices or credit notes (+1 or −1 per day, by their sign).

Every day where the two differ gives a regularisation line on M's invoice, grouped by
child, service and cause, dated by the month it corrects and explained in French
(« Régularisation octobre 2014 : CONNIE, restauration, 3 jours validés après
facturation (14/10, 15/10, 16/10) »), at the unit price the month was invoiced at. So,
whatever the order of bookings, staff decisions, certificates and runs, the sum of a
family's invoices and credit notes equals what the rules bill for its final days once
a run followed the last change (tests/test_regularisation_property.py). Comparing
rather than logging each change means no write path (bookings, certificates, plannings,
staff decisions) has to remember billing, and a change undone before the next run costs
nothing.

A credit note the régie issues by hand (chalicelib.credit_notes) is a correction outside
the rules: it carries no `lines`, so this comparison never undoes it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from chalicelib.billing import billed_days, day_of
from chalicelib.calendar_rules import month_key, shift_months
from chalicelib.formatting import french_month, short_date
from chalicelib.money import to_decimal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from chalicelib.calendar_rules import CommuneCalendar
    from chalicelib.config import Commune

WINDOW_MONTHS = 12  # how far back a run looks for changes in months already invoiced
ADDED, REMOVED, EXCUSED, UNEXCUSED = "added", "removed", "excused", "unexcused"
_LISTED_DAYS = 6  # a line names its days up to this many (« (14/10, 15/10) »)


def months_to_check(month: date, invoiced: set[str]) -> list[date]:
    """The months a run of `month` regularises: those already invoiced (`invoiced`, their
    keys « 2014-10 ») among the `WINDOW_MONTHS` before it, oldest first."""
    candidates = [shift_months(month, -k) for k in range(WINDOW_MONTHS, 0, -1)]
    return [m for m in candidates if month_key(m) in invoiced]


def invoiced_months(states) -> set[str]:
    """The months the commune has invoiced, as the families' `BILLED#` markers show: a run
    of a month leaves one for every responsable it invoiced."""
    return {item["month"] for state in states for item in state.other
            if item["sk"].startswith("BILLED#") and item.get("month")}


def documents_of(state) -> list[dict]:
    """The family's issued documents that charge days: invoices, and the credit notes an
    invoicing run issued (a negative month); oldest first."""
    credit_notes = getattr(state, "credit_notes", [])
    return sorted([*state.invoices, *credit_notes], key=lambda d: (str(d.get("created_at", "")), str(d["number"])))


def _charged(documents: list[dict], month: str, rank: int) -> tuple[Counter, set, dict]:
    """What the issued documents charged for `month` and responsable `rank`: (net count per
    (child, service, day), the days charged then excused, unit price per (child, service))."""
    net: Counter = Counter()
    excused: set = set()
    prices: dict = {}
    for document in documents:
        if int(document.get("responsable_rank") or 1) != rank:
            continue
        if document.get("month") == month:
            for line in document.get("lines", []):
                prices.setdefault((line["child_id"], line["service"]), to_decimal(line["unit_price"]))
                for day in line.get("days", []):
                    net[(line["child_id"], line["service"], day)] += 1
            for line in document.get("deductions", []):
                for day in line.get("days", []):
                    net[(line["child_id"], line["service"], day)] -= 1
                    excused.add((line["child_id"], line["service"], day))
        for line in document.get("regularisations", []):
            if line.get("month") != month:
                continue
            key = (line["child_id"], line["service"])
            prices.setdefault(key, to_decimal(line["unit_price"]))
            step = 1 if to_decimal(line["amount"]) > 0 else -1
            for day in line.get("days", []):
                net[(*key, day)] += step
                if line.get("change") == EXCUSED:
                    excused.add((*key, day))
                elif line.get("change") == UNEXCUSED:
                    excused.discard((*key, day))
    return net, excused, prices


def _label(month: date, child: str, service: str, change: str, days: list[str]) -> str:
    count = len(days)
    listed = ", ".join(short_date(d)[:5] for d in days) if count <= _LISTED_DAYS else ""
    head = f"Régularisation {french_month(month)} : {child}, {service.lower()}, "
    if change == EXCUSED:
        what = (f"absence du {listed} justifiée" if count == 1 else
                f"{count} jours d'absence" + (f" ({listed})" if listed else "") + " justifiés")
        return head + what + " par certificat médical"
    if change == UNEXCUSED:
        what = (f"absence du {listed} n'est plus justifiée" if count == 1 else
                f"{count} jours d'absence" + (f" ({listed})" if listed else "") + " ne sont plus justifiés")
        return head + what + " (certificat refusé ou retiré)"
    word = {ADDED: ("validé", "validés"), REMOVED: ("retiré", "retirés")}[change]
    return (head + f"{count} jour{'s' if count > 1 else ''} {word[count > 1]} après facturation"
            + (f" ({listed})" if listed else ""))


def lines_for_month(state, commune: Commune, calendar: CommuneCalendar, month: date, rank: int,
                    bracket: str, children: dict[str, str]) -> list[dict]:
    """The regularisation lines of one invoiced `month` for responsable `rank`: today's
    rules against what was charged, one line per child, service and cause."""
    key = month_key(month)
    today: Counter = Counter()
    excused_today = set()
    for b in billed_days(state.days, state.certificates, commune, month, calendar):
        if b.rank == rank:
            day = b.day.isoformat()
            today[(b.child_id, b.service, day)] += 0 if b.excused else 1
            if b.excused:
                excused_today.add((b.child_id, b.service, day))
    charged, excused_then, prices = _charged(documents_of(state), key, rank)
    groups: dict[tuple[str, str, str], list[str]] = {}
    for day_key in sorted(set(today) | set(charged)):
        difference = today[day_key] - charged[day_key]
        if difference == 0:
            continue
        if difference > 0:
            change = UNEXCUSED if day_key in excused_then else ADDED
        else:
            change = EXCUSED if day_key in excused_today else REMOVED
        child, service, day = day_key
        groups.setdefault((child, service, change), []).extend([day] * abs(difference))
    order = {s.code: i for i, s in enumerate(commune.services)}
    lines = []
    for (child, code, change) in sorted(groups, key=lambda g: (g[0], order.get(g[1], 99), g[1],
                                                                 (ADDED, UNEXCUSED, EXCUSED, REMOVED).index(g[2]))):
        days = groups[(child, code, change)]
        service = commune.service(code)
        price = prices.get((child, code)) or to_decimal(service.tariffs[bracket])
        sign = 1 if change in (ADDED, UNEXCUSED) else -1
        name = children.get(child, child)
        lines.append({
            "child_id": child, "child_name": name, "service": code, "month": key,
            "change": change, "label": _label(month, name, service.label, change, days),
            "quantity": len(days), "unit_price": price, "amount": to_decimal(sign * price * len(days)),
            "days": days,
        })
    return lines


def regularisations(state, commune: Commune, calendar: CommuneCalendar, month: date, invoiced: set[str],
                    bracket: str, children: dict[str, str]) -> dict[int, list[dict]]:
    """{responsable rank: regularisation lines} for a run of `month`: every month already
    invoiced before it (`invoiced`), every responsable who booked or was charged."""
    documents = documents_of(state)
    result: dict[int, list[dict]] = {}
    for earlier in months_to_check(month, invoiced):
        key = month_key(earlier)
        ranks = {int(d.get("responsable_rank") or 1) for d in state.days if month_key(day_of(d)) == key}
        ranks |= {int(doc.get("responsable_rank") or 1) for doc in documents
                  if doc.get("month") == key or any(r.get("month") == key for r in doc.get("regularisations", []))}
        for rank in sorted(ranks):
            lines = lines_for_month(state, commune, calendar, earlier, rank, bracket, children)
            if lines:
                result.setdefault(rank, []).extend(lines)
    return result


def total(lines: list[dict]) -> Decimal:
    return to_decimal(sum((line["amount"] for line in lines), Decimal(0)))
