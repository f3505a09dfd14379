"""The statement's year selector (docs/family-pages.md): the « Année scolaire » form of
the static « Relevé de compte » page is a plain GET form; a static page cannot read a
query string, so the form asks this route, which answers 303 to that year's page.

Every year the selector offers has its page (`pages.account.statement_years`, the same
function the export renders them by); a year outside them (a hand-made address) is a
French 404 that says the year has no operation, a malformed one a French 400: a page
for a browser, the JSON error shape for a script (docs/http-api.md).
"""

from __future__ import annotations

import re

from chalice import Response

from chalicelib.dependencies import commune, storage
from chalicelib.family_actions import own_operations
from chalicelib.keys import family_pk
from chalicelib.routes.calls import Call, Routes
from chalicelib.routes.family_page import family_page
from chalicelib.web import error_response, redirect

routes = Routes(__name__)

LOGIN_PAGE = "/connexion/"
# « 2014-2015 »: two years in a row (the label pages and operations use).
YEAR = re.compile(r"(\d{4})-(\d{4})")


@routes.route("/api/releve", methods=["GET"])
@routes.public_call()
def statement_year(call: Call):
    """`?annee=AAAA-AAAA` → 303 to `/famille/<key>/releve/AAAA-AAAA/`. Without a session:
    303 to the login page (a link followed, like the page cookies' renewal)."""
    session = call.session
    if session is None:
        return redirect(LOGIN_PAGE + "#session-expiree")
    year = str((call.request.query_params or {}).get("annee") or "").strip()
    found = YEAR.fullmatch(year)
    if not found or int(found.group(2)) != int(found.group(1)) + 1:
        return _refused(call, 400, "invalid_year",
                        "Choisissez une année scolaire de la liste (par exemple 2014-2015).")
    operations = storage().query_partition(family_pk(session.family_number), "OPERATION#")
    # Separate accounts: the years of this responsable's statement (their own folder's).
    operations = own_operations(storage(), session.family_number, session.page_key, operations)
    today = call.now.astimezone(commune().tz).date()
    # Imported here: the pages' modules (and the commune's) stay off the cold start.
    from chalicelib import statement
    from chalicelib.pages.account import statement_years

    years = statement_years(statement.account(operations, [], today, commune().year_start))
    if year not in years:
        return _refused(call, 404, "unknown_year",
                        f"Aucune opération sur l'année scolaire {year} : votre relevé de compte "
                        f"commence en {years[0]} et va jusqu'à {years[-1]}.")
    return Response(body="", status_code=303,
                    headers={"Location": f"{session.home}releve/{year}/", "Cache-Control": "no-store"})


def _refused(call: Call, status: int, code: str, message: str) -> Response:
    """A browser following the form gets a page of the family layout in words, with the
    way back to the statement; a script (Accept: application/json) the contract's JSON error."""
    if "text/html" not in (call.request.headers.get("accept") or ""):
        return error_response(status, code, message)
    return family_page(call, "famille/refus.html", status, section="releve", current="refus",
                       title="Relevé de compte", message=message, back=f"{call.session.home}releve/",
                       back_label="Retour au relevé de compte")
