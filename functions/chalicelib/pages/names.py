"""Which pages a family has, where they are stored, and which ones a write makes stale.

Pages and the names `only` knows them by (docs/family-pages.md):
- `accueil` (index.html, the dashboard), `compte`, `enfants`, `factures`, `reglements`,
  `demandes`, `documents` (« Mes documents »): one file each;
- `releve`: `releve/` (the current school year) and `releve/<AAAA-AAAA>/` per school
  year of the account; `messages`: the inbox `messages/` and `messages/<id>/` per message;
  `message:<id>`: the inbox and that message's page;
- `agenda`: each subscribed responsable's calendar feed, `agenda/<feed key>.ics` at the
  bucket's root, outside the family's folder (chalicelib/calendar_feed.py);
- `mois:<child>:<AAAA-MM>`: each child enrolled in a service has one month page per
  month of the window around the clock (`MONTHS_SHOWN`), `enfants/<child>/<AAAA-MM>/`.

A write re-renders only the pages it makes stale: `pages_showing_days` (bookings),
`pages_showing_messages` (a message sent or read), `pages_showing_billing` (an invoice
run, payments).
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from chalicelib.calendar_rules import month_key, month_start

# Page name → (template, path under the family's folder): the pages of one file each.
PAGES = {
    "accueil": ("famille/accueil.html", "index.html"),
    "compte": ("famille/compte.html", "compte/index.html"),
    "enfants": ("famille/enfants.html", "enfants/index.html"),
    "factures": ("famille/factures.html", "factures/index.html"),
    "reglements": ("famille/reglements.html", "reglements/index.html"),
    "demandes": ("famille/demandes.html", "demandes/index.html"),
    # « Mes documents », the family menu's « Infos./Documents » (docs/family-documents.md).
    "documents": ("famille/documents.html", "documents/index.html"),
}
# The responsables' calendar feeds (chalicelib.calendar_feed): they show the booked days.
FEED = "agenda"
# Names of several files: the statement per school year, the inbox and its messages.
STATEMENT_TEMPLATE = "famille/releve.html"
INBOX_TEMPLATE = "famille/messages.html"
MESSAGE_TEMPLATE = "famille/message.html"
MONTH_TEMPLATE = "famille/mois.html"
# The entry of the family menu each page belongs to (aria-current).
MENU_SECTIONS = {"factures": "releve", "reglements": "releve", "mois": "enfants", "message": "messages"}

# The month pages exported around the clock's month: the previous one (absences of
# the last days), the current one and the next two (bookings close 5 weekdays ahead).
MONTHS_SHOWN = (-1, 0, 1, 2)


def shown_months(today: date) -> list[date]:
    """First days of the months whose pages are exported when the clock says `today`."""
    return [month_start(today, k) for k in MONTHS_SHOWN]


def month_page_name(child_id: str, month: date) -> str:
    """`mois:<child>:<AAAA-MM>`, the name `only` knows a month page by."""
    return f"mois:{child_id}:{month_key(month)}"


def month_page_path(child_id: str, month: date) -> str:
    """The month page's folder under famille/<key>/ (its address ends with this)."""
    return f"enfants/{child_id}/{month_key(month)}/"


def _page_id(value: str) -> str:
    """A name safe in a page's path (ids are hex; anything else is dropped)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", value)


def message_id(message: dict) -> str:
    """A message's id: its attribute, else the end of its sort key (MESSAGE#<instant>#<id>)."""
    return _page_id(str(message.get("message_id") or message["sk"].rsplit("#", 1)[-1]))


def credit_note_pdf_href(number: str) -> str:
    """The function's address of a credit note's PDF (ownership checked there)."""
    return f"/api/avoirs/{quote(number, safe='')}/pdf"


def invoice_pdf_href(number: str) -> str:
    """The function's address of an invoice's PDF (ownership checked there)."""
    return f"/api/invoices/{quote(number, safe='')}/pdf"


# --- which pages a write makes stale -----------------------------------------------------

def pages_showing_days(child_id: str, days) -> list[str]:
    """The pages a change of these booked days makes stale: the child's month pages of
    the months holding them (`render` skips those outside its window), the « liste
    des demandes » (a submission adds a request to it, and it says what became of a day
    waiting for a seat) and the calendar feeds (none written for a family without a
    subscriber). The bookings route re-renders exactly these."""
    months = set()
    for day in days:
        value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        months.add(month_start(value))
    if not months:
        return []
    return [*(month_page_name(child_id, month) for month in sorted(months)), "demandes", FEED]


def message_page_name(message: str) -> str:
    """`message:<id>`, the name `only` knows one message's page by (the inbox comes with it)."""
    return f"message:{message}"


def pages_showing_messages(*message_ids: str) -> list[str]:
    """The pages a message sent or read makes stale: the dashboard (its count of unread
    messages), the inbox and the pages of the messages `message_ids` (a message's page
    shows that message only: the others are not written again, each PUT being paid);
    without ids, every message's page."""
    if message_ids:
        return ["accueil", *(message_page_name(m) for m in message_ids)]
    return ["accueil", "messages"]


def pages_showing_documents() -> list[str]:
    """The pages a family's document changes (handed out, received, decided): « Mes
    documents » and the dashboard (what is missing or expires soon)."""
    return ["accueil", "documents"]


def pages_showing_billing() -> list[str]:
    """The pages an invoice run or a payment makes stale: the dashboard (balance, unpaid
    invoices), « Mes factures », « Mes règlements » and the statement's pages."""
    return ["accueil", "factures", "reglements", "releve"]
