"""Jinja filters and data of the public site's theme (site/pelicanconf.py).

French words for dates are chalicelib.formatting's (Babel, never the system locale:
the machine has no fr_FR). An importable module, so Pelican's content cache can pickle
what refers to it.
"""

from __future__ import annotations

from chalicelib.config import Commune, Service
from chalicelib.formatting import weekday_name

PERIOD_LABELS = {
    "school": "les jours d'école",
    "holidays": "pendant les vacances scolaires",
}


def join_fr(words: list[str]) -> str:
    """« lundi, mardi et jeudi »."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} et {words[-1]}"


def weekdays_text(days: frozenset[int]) -> str:
    """« du lundi au vendredi », « lundi, mardi, jeudi et vendredi »."""
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"du {weekday_name(ordered[0])} au {weekday_name(ordered[-1])}"
    return join_fr([weekday_name(day) for day in ordered])


def service_row(service: Service) -> dict:
    return {
        "code": service.code,
        "label": service.label,
        "description": service.description,
        "days": weekdays_text(service.weekdays),
        "period": PERIOD_LABELS[service.period],
        "capacity": service.capacity,
    }


def services(commune: Commune) -> list[dict]:
    """The services as the guide shows them (commune.toml order)."""
    return [service_row(service) for service in commune.services]



def _rank(page) -> tuple[int, str]:
    try:
        order = int(getattr(page, "order", "") or 999)
    except ValueError:
        order = 999
    return order, page.title


def in_order(pages) -> list:
    """Pages in reading order: their `Order` metadata (a number; none: last), then title."""
    return sorted(pages, key=_rank)


def guide_pages(pages) -> list:
    """The guide's pages (content/guide/) in reading order."""
    return in_order(page for page in pages if getattr(page, "section", "") == "guide/")
