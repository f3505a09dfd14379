"""Rendering a family's pages: its state (read by the caller) through the view models
and the shared layout's templates, into {path under famille/<key>/: HTML}. No I/O but
the templates' files: reading the state and writing the pages are chalicelib.pages.export's."""

from __future__ import annotations

import re
from datetime import datetime

from chalicelib import sessions, statement
from chalicelib.agenda import account_context
from chalicelib.calendar_rules import CommuneCalendar
from chalicelib.config import Commune
from chalicelib.formatting import french_day, short_date
from chalicelib.layout import TEMPLATES_DIR, layout_globals
from chalicelib.pages.account import (
    credit_notes_view,
    dashboard_context,
    invoices_view,
    payments_view,
    statement_context,
    statement_years,
)
from chalicelib.pages.certificate_offers import certificate_context, certificate_offers
from chalicelib.pages.documents_view import dashboard_documents, documents_context, split_notices
from chalicelib.pages.exchanges import messages_view, requests_context
from chalicelib.pages.month import month_context, month_link
from chalicelib.pages.names import (
    INBOX_TEMPLATE,
    MENU_SECTIONS,
    MESSAGE_TEMPLATE,
    MONTH_TEMPLATE,
    MONTHS_SHOWN,
    PAGES,
    STATEMENT_TEMPLATE,
    message_page_name,
    month_page_name,
    month_page_path,
    shown_months,
)
from chalicelib.pages.responsables import AccountView, own_money
from chalicelib.storage import FamilyState

_INDENT = re.compile(r"\n[ \t]+")


def unindented(html: str) -> str:
    """The page without its lines' indentation (the templates' own, for their readers): a
    parent's phone downloads none of it (docs/family-pages.md « Bytes »). A newline stays
    where the spaces were, so the text reads the same; a page holding preformatted text
    (a message's <pre>) is left as it is."""
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENT.sub("\n", html)


class PageRenderer:
    """The commune's family pages. `frozen`: the portal's clock is frozen (`portail
    serve --now`); the month pages then give their instant to the booking script. It is
    told by whoever builds the renderer, never read from the environment here."""

    def __init__(self, commune: Commune, secret: str, *, frozen: bool = False,
                 calendar: CommuneCalendar | None = None, site_url: str | None = None):
        self.commune = commune
        # « Mon compte » gives the calendar feed's whole address (chalicelib/agenda.py).
        self.site_url = (site_url or commune.commune.site_url).rstrip("/")
        self.secret = secret
        self.frozen = frozen
        self.calendar = calendar or CommuneCalendar(commune)
        self._environment = None

    @property
    def environment(self):
        if self._environment is None:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            self._environment = Environment(
                loader=FileSystemLoader(str(TEMPLATES_DIR)),
                autoescape=select_autoescape(default=True),
                trim_blocks=True,
                lstrip_blocks=True,
                # The templates do not change while the function runs (a Lambda's package, a
                # CLI run): without this, each get_template (~70 per family: pages, bases,
                # includes) stats its file, and each stat lets the export's upload threads
                # take the GIL from the rendering for up to 5 ms (docs/family-pages.md).
                auto_reload=False,
            )
            self._environment.globals["portail"] = layout_globals(self.commune)
        return self._environment

    def render(self, state: FamilyState, rank: int, now: datetime, only: list[str] | None = None,
               notices: list[dict] | None = None, *, view: AccountView | None = None) -> dict[str, str]:
        """{path under famille/<key>/: HTML} for one responsable's view of the family (all
        its pages, or `only` those named, chalicelib.pages.names); `notices` are the
        current notices for all parents (`account.current_notices`). `view` (pages.responsables):
        the folder and whose money its pages show; none: the family's folder, all its money."""
        commune = self.commune
        view = view or AccountView(rank, state.profile["page_key"], None)
        page_key = view.page_key
        home = f"/famille/{page_key}/"
        responsable = next((r for r in state.responsables if int(r["rank"]) == view.rank), state.responsables[0])
        # The money pages show the view's responsable's money only (separate accounts).
        money = own_money(state, view.money_rank)
        today = now.astimezone(commune.tz).date()
        months = shown_months(today)
        this_month = months[MONTHS_SHOWN.index(0)]
        children = [
            {**c, "birth_date": short_date(c["birth_date"]),
             "month_href": home + month_page_path(c["child_id"], this_month) if c.get("services") else None,
             "months": [month_link(c["child_id"], m, home) for m in months] if c.get("services") else []}
            for c in state.children
        ]
        context = {
            "home": home,
            "csrf_token": sessions.csrf_token(self.secret, page_key),
            "family_number": state.profile["family_number"],
            "responsable": responsable,
            "children": children,
            "unread": state.unread_messages,
            "now": now,
            "today_label": french_day(today),
        }

        def wanted(name: str) -> bool:
            return only is None or name in only

        def page(template: str, name: str, **extra) -> str:
            section = MENU_SECTIONS.get(name.split(":")[0], name)
            return unindented(self.environment.get_template(template).render(
                current=name, section=section, **context, **extra))

        account = None
        if any(wanted(name) for name in ("accueil", "factures", "releve")):
            account = statement.account(money.operations, money.invoices, today, commune.year_start)
        extras = {
            # « Mes documents »: the dashboard's notices leave the commune's documents to its own block.
            "accueil": lambda: {**dashboard_context(account, split_notices(notices)[0]),
                                **dashboard_documents(state, commune, today, notices)},
            "documents": lambda: documents_context(state, commune, today, home),
            "factures": lambda: {"invoices": invoices_view(money, account), "credit_notes": credit_notes_view(money)},
            "reglements": lambda: {"payments": payments_view(money)},
            "compte": lambda: account_context(state, int(responsable["rank"]), self.site_url),
            "demandes": lambda: {**requests_context(state, commune), **certificate_context(
                certificate_offers(state, commune, self.calendar, today), home + "demandes/")},
        }
        pages = {}
        for name, (template, path) in PAGES.items():
            if wanted(name):
                pages[path] = page(template, name, **extras.get(name, dict)())
        if wanted("releve"):
            years = statement_years(account)
            for year in years:
                html = page(STATEMENT_TEMPLATE, "releve", **statement_context(account, year, years))
                pages[f"releve/{year}/index.html"] = html
                if year == account.current_year:
                    pages["releve/index.html"] = html
        if wanted("messages") or any(name.startswith("message:") for name in only or ()):
            messages = messages_view(state, home, commune.tz)
            pages["messages/index.html"] = page(INBOX_TEMPLATE, "messages", messages=messages)
            for message in messages:
                if wanted("messages") or wanted(message_page_name(message["id"])):
                    pages[f"messages/{message['id']}/index.html"] = page(MESSAGE_TEMPLATE, "message",
                                                                         message=message)
        for child in state.children:
            if not child.get("services"):
                continue
            for month in months:
                name = month_page_name(child["child_id"], month)
                if wanted(name):
                    # The certificates of the child's absences with a day in this month
                    # (famille/certificat_mois.html: their state, a link to the form).
                    offers = certificate_context(certificate_offers(state, commune, self.calendar, today,
                                                                    child["child_id"], month),
                                                 home + month_page_path(child["child_id"], month))
                    pages[month_page_path(child["child_id"], month) + "index.html"] = page(
                        MONTH_TEMPLATE, name, **month_context(state, child, month, months, now, home, commune=commune,
                                                             calendar=self.calendar, frozen=self.frozen), **offers)
        return pages
