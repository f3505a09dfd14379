"""The back office's door (docs/staff.md): the staff login and logout, and the day's
page `/gestion/`. The other pages are blueprints of their own (`gestion_<concern>.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.dependencies import staff_accounts
from chalicelib.routes.staff_calls import (
    HOME_PAGE,
    LOGIN_PAGE,
    STAFF_BODY_TYPES,
    StaffCall,
    StaffRoutes,
    login_page,
    safe_next,
)

routes = StaffRoutes(__name__)

# The day page's summaries, in page order: each page's module registers its own with
# `@day_summary("demandes")` (a function of the call returning a DaySummary, or None
# for nothing to show); shown only to the roles that may open that page.
_SUMMARIES: dict[str, object] = {}


@dataclass(frozen=True)
class DaySummary:
    """One block of the day page: a title (h2), French lines, and the page it links to."""

    title: str
    lines: tuple[str, ...]
    url: str
    link_label: str


def day_summary(page: str):
    from chalicelib.staff.roles import PAGES

    if page not in PAGES:
        raise ValueError(f"page {page!r} is not in chalicelib/staff/roles.py's PAGES")

    def register(function):
        _SUMMARIES[page] = function
        return function

    return register


@routes.route("/gestion/connexion", methods=["GET"])
@routes.staff_public()
def login_form(call: StaffCall):
    """The login form; already logged in: straight to the page asked for."""
    if call.staff is not None:
        return call.redirect(safe_next(call.query("suite")) or HOME_PAGE)
    return login_page(call.request, next_page=call.query("suite"))


@routes.route("/gestion/connexion", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_public()
def login(call: StaffCall):
    """`login`, `password`, `code` → 303 to `suite` (a page of the back office) or
    /gestion/, with the staff cookie. Any wrong part: the same sentence (401); throttled:
    429 with Retry-After; the form again in each case."""
    from chalicelib.staff import sessions
    from chalicelib.staff.accounts import StaffError

    try:
        token, _ = staff_accounts().login(call.field("login"), call.field("password"), call.field("code"),
                                          call.source, call.real_now)
    except StaffError as error:
        response = login_page(call.request, status=error.status, message=error.message,
                              next_page=call.field("suite"))
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    return call.redirect_with_cookie(safe_next(call.field("suite")) or HOME_PAGE, sessions.cookie_header(token))


@routes.route("/gestion/deconnexion", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_public()
def logout(call: StaffCall):
    """Ends the staff session on the server (its form token checked), clears the cookie."""
    from chalicelib.staff import sessions

    if call.staff is not None:
        staff_accounts().logout(call.staff, call.source, call.real_now)
    return call.redirect_with_cookie(LOGIN_PAGE + "#deconnexion", sessions.clear_cookie_header())


@routes.route("/gestion", methods=["GET"])
@routes.staff_call("accueil")
def home(call: StaffCall):
    """The day: a greeting, the day's summaries (pending requests, certificates to
    review, today's and tomorrow's headcount: registered by their pages' modules with
    `day_summary`) and the role's pages."""
    from chalicelib.formatting import french_day
    from chalicelib.staff.roles import PAGES, allowed

    today = call.now.astimezone(_tz()).date()
    summaries = [summary(call) for page, summary in sorted(_SUMMARIES.items(), key=lambda s: list(PAGES).index(s[0]))
                 if allowed(call.staff.role, page)]
    return call.render("gestion/accueil.html", today_label=french_day(today),
                       summaries=[s for s in summaries if s is not None])


def _tz():
    from chalicelib.dependencies import commune

    return commune().tz
