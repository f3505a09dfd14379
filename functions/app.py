"""Routes of the Portail Famille function: parse, authorise, call the domain, answer.

The rules live in chalicelib; this module stays thin (DESIGN §2). Every call that
changes state passes the same-origin check of the middleware; forms also carry a
token. A form post answers 303 to a page; a JSON call gets JSON (DESIGN §4).
"""

from __future__ import annotations

import os

from chalice import Chalice, Response
from chalicelib import clock, jobs, sessions
from chalicelib.web import (
    FORM,
    JSON,
    UNSAFE_METHODS,
    BodyTooLarge,
    anchor,
    back_to,
    body,
    booking_request,
    cookie_value,
    error_response,
    field,
    is_form,
    redirect,
    same_origin,
    source_address,
    unavailable_on_aws_error,
    with_headers,
)

app = Chalice(app_name="portail-famille")
app.api.binary_types.append("application/pdf")

BODY_TYPES = [JSON, FORM]
LOGIN_PAGE = "/connexion/"

# Built on first use, then kept for the life of the Lambda container (cold start).
_dependencies: dict = {}


def reset_dependencies() -> None:
    """Forgets the clients (tests switch AWS between cases)."""
    _dependencies.clear()


def commune():
    from chalicelib.config import get_commune

    return get_commune()


def storage():
    if "storage" not in _dependencies:
        import boto3
        from chalicelib import table
        from chalicelib.storage import Storage

        _dependencies["storage"] = Storage(boto3.client("dynamodb"), table.table_name())
    return _dependencies["storage"]


def accounts():
    if "accounts" not in _dependencies:
        import boto3
        from chalicelib.accounts import Accounts
        from chalicelib.mail import Mailer

        info = commune().commune
        _dependencies["accounts"] = Accounts(
            storage(), Mailer(boto3.client("ses"), info.contact_email), secret=secret(),
            site_url=site_url(), demo_mode=os.environ.get("PORTAIL_DEMO") == "1", commune_name=info.name,
            contact_email=info.contact_email, contact_phone=info.contact_phone, defer=jobs.defer,
        )
    return _dependencies["accounts"]


def bookings():
    if "bookings" not in _dependencies:
        from chalicelib.bookings import Bookings

        _dependencies["bookings"] = Bookings(storage(), commune())
    return _dependencies["bookings"]


def messages():
    if "messages" not in _dependencies:
        from chalicelib.messages import Messages

        _dependencies["messages"] = Messages(storage(), accounts().mailer, site_url(), commune().commune.name)
    return _dependencies["messages"]


def family_pages():
    if "pages" not in _dependencies:
        import boto3
        from chalicelib import table
        from chalicelib.pages import FamilyPages

        _dependencies["pages"] = FamilyPages(boto3.client("s3"), table.bucket_name("pages"), commune(), secret(),
                                             frozen=clock.is_frozen())
    return _dependencies["pages"]


def secret() -> str:
    from chalicelib.secret_parameters import load_secrets

    load_secrets()  # production: from SSM, once per container
    return os.environ["PORTAIL_SECRET"]


def site_url() -> str:
    """The address parents use: the stage's (PORTAIL_SITE_URL), else commune.toml's."""
    return (os.environ.get("PORTAIL_SITE_URL") or commune().commune.site_url).rstrip("/")


# --- requests and answers ---------------------------------------------------------------

def signed_cookies(session, now=None) -> list[str]:
    """The family's page cookies signed at `now` (default: the request's instant): they
    open its pages for 5 minutes at most, never beyond the session (page_cookies_end)."""
    from chalicelib import signed_cookies as cf
    from chalicelib.secret_parameters import load_secrets

    if now is None:
        now = context(app.current_request).get("now") or clock.now()
    load_secrets()  # production: the private key from SSM, once per container
    key_pair_id, private_key = cf.signing_config_from_environment()
    return cf.set_cookie_headers(session.page_key, cf.page_cookies_end(session.expires_at, now),
                                 key_pair_id, private_key, site_url=site_url())


def cleared_cookies(page_key: str | None) -> list[str]:
    from chalicelib import signed_cookies as cf

    return [sessions.clear_cookie_header(), sessions.clear_csrf_cookie_header(),
            *(cf.clear_cookie_headers(page_key) if page_key else [])]


def context(request) -> dict:
    return request.context.setdefault("portail", {})


def route(path: str, **options):
    """app.route with unavailable_on_aws_error: Chalice turns a view's exception into a
    bare 500 before any middleware sees it."""
    def decorate(view):
        return app.route(path, **options)(unavailable_on_aws_error(view))

    return decorate


@app.middleware("http")
def guard(event, get_response):
    """Same-origin check, session reading and the headers of every answer."""
    now = clock.now()
    state = context(event)
    state["now"] = now
    if event.method in UNSAFE_METHODS and not same_origin(event, site_url()):
        response = error_response(403, "cross_site_request",
                                  "Requête refusée : elle ne provient pas d'une page du Portail Famille.")
    else:
        token = cookie_value(event.headers.get("cookie"), sessions.COOKIE_NAME)
        # accounts() may read the stage's secrets (SSM) on a cold start: inside the guard too.
        found = unavailable_on_aws_error(lambda: accounts().current_session(token, now))() if token else (None, False)
        if isinstance(found, Response):  # AWS failed while reading the session: 503
            return with_headers(found)
        session, moved_on = found
        state["session"] = session
        with jobs.held():  # locally, deferred jobs start once the answer is built
            response = get_response(event)
        if session and moved_on and state.get("refresh_cookies", True):
            # The session moved on (at most once a minute): the page cookies follow its new end.
            existing = response.headers.get("Set-Cookie") or []
            response.headers["Set-Cookie"] = [*([existing] if isinstance(existing, str) else existing),
                                              *signed_cookies(session, now)]
    return with_headers(response)


def current_session():
    return context(app.current_request).get("session")


def require_session(request, data: dict | None = None):
    """The session, or an AccountError-like answer. A call that changes something (it has
    a body: `data`) must carry the CSRF cookie of this very session (set at login, never
    sent by another site), and a form also the family's token."""
    session = current_session()
    if session is None:
        return None, error_response(401, "not_authenticated", "Vous devez vous connecter pour accéder à cette page.")
    if data is not None and not sessions.session_csrf_valid(
            secret(), session.token_hash, cookie_value(request.headers.get("cookie"), sessions.CSRF_COOKIE_NAME)):
        return None, error_response(403, "invalid_form", "Ce formulaire ne correspond pas à votre connexion : "
                                                         "rechargez la page et recommencez.")
    if data is not None and is_form(request) and not sessions.csrf_token_valid(
            secret(), session.page_key, field(data, "csrf_token")):
        return None, error_response(403, "invalid_form", "Ce formulaire a expiré : rechargez la page et recommencez.")
    return session, None


def read_body(request):
    try:
        return body(request), None
    except BodyTooLarge:
        return None, error_response(413, "request_too_large", "La demande est trop volumineuse.")
    except (ValueError, UnicodeDecodeError):
        return None, error_response(400, "invalid_request", "La demande est illisible : données JSON ou formulaire attendues.")


def read_authenticated(request):
    """(body, session, None), or (None, None, the answer) when the body is unreadable, no
    one is logged in, or a form lacks the family's token."""
    data, problem = read_body(request)
    if problem:
        return None, None, problem
    session, problem = require_session(request, data)
    return (None, None, problem) if problem else (data, session, None)


def account_error(error, request, form_page: str) -> Response:
    if is_form(request):
        return redirect(form_page + anchor(error.code))
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return error_response(error.status, error.code, error.message, headers)


# --- routes --------------------------------------------------------------------------

@route("/api/login", methods=["POST"], content_types=BODY_TYPES)
def login():
    from chalicelib.accounts import AccountError

    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    try:
        token, session = accounts().login(field(data, "login"), field(data, "password"),
                                          source_address(request), context(request)["now"])
    except AccountError as error:
        return account_error(error, request, LOGIN_PAGE)
    context(request)["refresh_cookies"] = False
    cookies = [sessions.cookie_header(token), sessions.csrf_cookie_header(secret(), session.token_hash),
               *signed_cookies(session)]
    if is_form(request):
        return redirect(session.home, cookies)
    return Response(body={"home": session.home}, status_code=200, headers={"Set-Cookie": cookies})


@route("/api/logout", methods=["POST"], content_types=BODY_TYPES)
def logout():
    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    session = current_session()
    if session is not None:
        session, problem = require_session(request, data)
        if problem:
            return problem
        accounts().logout(session, source_address(request), context(request)["now"])
    context(request)["refresh_cookies"] = False
    cookies = cleared_cookies(session.page_key if session else None)
    if is_form(request):
        return redirect(LOGIN_PAGE + "#deconnexion", cookies)
    return Response(body="", status_code=204, headers={"Set-Cookie": cookies})


# --- the family pages' cookies ------------------------------------------------------------
# They open the pages for 5 minutes at most (chalicelib.signed_cookies.PAGE_COOKIE_LIFETIME):
# the family pages renew them while the session lives (docs/accounts.md).

@route("/api/session/renew", methods=["POST"], content_types=BODY_TYPES)
def renew_page_cookies():
    """Fresh page cookies for the session's family: 200 `{"home": "/famille/<key>/"}`
    (the « Accès réservé » page tells by it another family's page from its own); 401
    without a session. The family pages' script calls it while a page is open; like
    every call, it is activity (the middleware moved the session on)."""
    session = current_session()
    if session is None:
        return error_response(401, "not_authenticated",
                              "Votre session a pris fin : connectez-vous pour retrouver votre espace famille.")
    context(app.current_request)["refresh_cookies"] = False
    return Response(body={"home": session.home}, status_code=200, headers={"Set-Cookie": signed_cookies(session)})


@route("/api/session/renew", methods=["GET"])
def renew_page_cookies_and_return():
    """The renewal without script (the « Accès réservé » page refreshes to it): fresh
    page cookies and 303 back to the family page the browser came from (`back`, else the
    Referer, when it is one of the family's own pages; else the family's home). Without
    a session: 303 to the login page, which says the session ended."""
    from chalicelib import signed_cookies as cf

    request = app.current_request
    session = current_session()
    if session is None:
        return redirect(LOGIN_PAGE + "#session-expiree")
    context(request)["refresh_cookies"] = False
    target = (cf.return_path((request.query_params or {}).get("back"), session.page_key)
              or cf.return_path_from_referer(request.headers.get("referer"), session.page_key, site_url())
              or session.home)
    if cookie_value(request.headers.get("cookie"), cf.RETURN_MARKER_COOKIE) == target:
        # Sent there a moment ago, and back already: that page does not open (missing,
        # or the browser is not at the portal's address). Home, then no more rounds.
        if target == session.home:
            return redirect(LOGIN_PAGE + "#acces-impossible", [cf.clear_return_marker_header()])
        target = session.home
    return redirect(target, [*signed_cookies(session), cf.return_marker_header(target)])


@route("/api/me", methods=["GET"])
def me():
    session, problem = require_session(app.current_request)
    if problem:
        return problem
    return accounts().me(session)


@route("/api/account", methods=["POST"], content_types=BODY_TYPES)
def account():
    from chalicelib.accounts import AccountError

    request = app.current_request
    data, session, problem = read_authenticated(request)
    if problem:
        return problem
    try:
        contact = accounts().update_contact(session, field(data, "email"), field(data, "phone"),
                                            field(data, "current_password"), source_address(request),
                                            context(request)["now"])
    except AccountError as error:
        return account_error(error, request, session.home + "compte/")
    # The account page shows the details: re-rendered before answering (DESIGN §1).
    family_pages().export(storage(), session.family_number, context(request)["now"], only=["compte"])
    if is_form(request):
        return redirect(session.home + "compte/#coordonnees-enregistrees")
    return contact


@route("/api/password/change", methods=["POST"], content_types=BODY_TYPES)
def change_password():
    from chalicelib.accounts import AccountError

    request = app.current_request
    data, session, problem = read_authenticated(request)
    if problem:
        return problem
    try:
        accounts().change_password(session, field(data, "current_password"), field(data, "new_password"),
                                   source_address(request), context(request)["now"])
    except AccountError as error:
        return account_error(error, request, session.home + "compte/")
    if is_form(request):
        return redirect(session.home + "compte/#mot-de-passe-change")
    return Response(body="", status_code=204)


@route("/api/password/forgot", methods=["POST"], content_types=BODY_TYPES)
def forgot_password():
    """202 whatever the login: the mail, if any, is sent by a deferred job
    (`accounts.RESET_LINK_JOB`), so the answer and its time say nothing."""
    from chalicelib.accounts import AccountError

    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    try:
        accounts().forgot_password(field(data, "login"), source_address(request), context(request)["now"])
    except AccountError as error:
        return account_error(error, request, "/mot-de-passe/oublie/")
    if is_form(request):
        return redirect("/mot-de-passe/oublie/#demande-envoyee")
    return Response(body={"message": "Si cet identifiant existe et qu'une adresse électronique lui est associée, "
                                     "un lien pour choisir un nouveau mot de passe vient d'y être envoyé."},
                    status_code=202)


@route("/api/password/reset", methods=["POST"], content_types=BODY_TYPES)
def reset_password():
    from chalicelib.accounts import AccountError

    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    try:
        accounts().reset_password(field(data, "token"), field(data, "password"),
                                  source_address(request), context(request)["now"])
    except AccountError as error:
        return account_error(error, request, "/mot-de-passe/nouveau/")
    if is_form(request):
        return redirect(LOGIN_PAGE + "#mot-de-passe-change")
    return Response(body="", status_code=204)


def documents():
    if "documents" not in _dependencies:
        import boto3
        from chalicelib import table
        from chalicelib.documents import Documents

        _dependencies["documents"] = Documents(boto3.client("s3"), table.bucket_name("documents"))
    return _dependencies["documents"]


@route("/api/absences/certificate", methods=["POST"], content_types=[JSON])
def absence_certificate():
    """A presigned S3 POST for one medical certificate (PDF, JPEG or PNG, ≤ 5 MB); the
    certificate (awaited: it excuses nothing until staff accept its file), the family's
    request line and the audit entry are one batch write."""
    from chalicelib.documents import DocumentError, certificate_request_item, parse_dates

    request = app.current_request
    data, session, problem = read_authenticated(request)
    if problem:
        return problem
    now = context(request)["now"]
    child_id = field(data, "child_id")
    state = storage().family_state(session.family_number)
    if not child_id or not any(child.get("child_id") == child_id for child in state.children):
        return error_response(404, "not_found", "Enfant inconnu.")
    try:
        dates = parse_dates(data.get("dates"))
        upload = documents().certificate_upload(session.family_number, child_id, dates,
                                                data.get("content_type"), data.get("size"), now)
    except DocumentError as error:
        return error_response(error.status, error.code, error.message)
    certificate = documents().record_certificate_item(session.family_number, child_id, dates, upload["key"],
                                                      "parent", now, upload["fields"]["Content-Type"])
    storage().batch_write([
        certificate,
        certificate_request_item(session.family_number, child_id, dates, session.rank, now, certificate),
        storage().audit_item(now, session.login, "certificate_upload", {
            "source": source_address(request), "child_id": child_id, "certificate_id": certificate["certificate_id"],
            "dates": certificate["dates"], "document_key": upload["key"]}),
    ])
    # The request now shows in « Liste des demandes »: that page is rendered again.
    family_pages().export(storage(), session.family_number, now, only=["demandes"])
    return {"upload": upload,
            "message": "Envoyez maintenant le fichier du certificat médical : ce formulaire d'envoi "
                       "reste valable 5 minutes. Le service enfance examinera ensuite le certificat : les "
                       "jours d'absence qu'il couvre ne sont déduits qu'une fois le certificat accepté."}


# --- bookings ----------------------------------------------------------------------------

@route("/api/bookings", methods=["POST"], content_types=BODY_TYPES)
def book():
    from chalicelib.bookings import BookingRequestError, expand_pattern, parse_items

    request = app.current_request
    data, session, problem = read_authenticated(request)
    if problem:
        return problem
    now = context(request)["now"]
    back = back_to(data.get("back"), session.home)
    try:  # everything is checked before the first write
        raw_items, pattern = booking_request(request, data)
        today = now.astimezone(commune().tz).date()
        if pattern is not None and raw_items is None:
            items = expand_pattern(pattern, commune(), bookings().calendar, today)
        else:
            items = parse_items(raw_items, commune(), today)
        key = data.get("idempotency_key")
        results, freed = bookings().submit(session.family_number, field(data, "child_id"), session.rank, items, now,
                                           idempotency_key=key if key is not None else None)
    except BookingRequestError as error:
        if is_form(request):
            return redirect(back + anchor(error.code))
        return error_response(error.status, error.code, error.message)
    promote_waiting(freed, now)
    # The pages that show these days are re-rendered before answering (DESIGN §1).
    from chalicelib.pages import pages_showing_days

    family_pages().export(storage(), session.family_number, now,
                          only=pages_showing_days(field(data, "child_id"), [i.day for i in items]))
    if is_form(request):
        return redirect(back + "#resultat")
    return {"results": results}


def promote_waiting(freed: list, now) -> None:
    """Freed seats go to the oldest waiting requests; those families are told."""
    from chalicelib.formatting import french_day

    for service, day in freed:
        for promoted in bookings().promote(service, day, now):
            label = commune().service(service).label
            messages().send(
                promoted["family_number"], f"Réservation validée : {label}, {french_day(day)}",
                f"Une place s'est libérée : la réservation de **{label}** du **{french_day(day)}** "
                "pour votre enfant, qui était en liste d'attente, est validée.", now)
            from chalicelib.pages import pages_showing_days, pages_showing_messages

            # The promoted day, and the message that says so (dashboard count, inbox).
            family_pages().export(storage(), promoted["family_number"], now,
                                  only=[*pages_showing_days(promoted["child_id"], [day]), *pages_showing_messages()])


# --- invoices (issue 6) ------------------------------------------------------------------

@route("/api/invoices/{number}/pdf", methods=["GET"])
def invoice_pdf(number):
    """The session family's invoice PDF: a redirect to a presigned S3 URL (≤ 5 minutes,
    downloaded as `<number>.pdf`). Any other number, another family's included, is 404."""
    session, problem = require_session(app.current_request)
    if problem:
        return problem
    plausible = 0 < len(number) <= 30 and number.isascii() and number.replace("-", "").isalnum()
    invoice = storage().invoice(session.family_number, number) if plausible else None
    if invoice is None or not invoice.get("pdf_key"):
        return error_response(404, "invoice_not_found", "Cette facture est introuvable dans votre espace famille.")
    return Response(body="", status_code=302, headers={
        "Location": documents().invoice_download_url(invoice["pdf_key"]), "Cache-Control": "no-store"})


# --- messages (issue 7) ------------------------------------------------------------------

@route("/api/messages/{message_id}/read", methods=["POST"], content_types=BODY_TYPES)
def read_message(message_id):
    """Marks one of the family's messages read (204; a form post: 303 back to its page),
    after re-rendering the pages that show it; another family's message is 404: it is
    looked for in this family's partition only."""
    from chalicelib.pages import message_id as id_of
    from chalicelib.pages import pages_showing_messages

    request = app.current_request
    data, session, problem = read_authenticated(request)
    if problem:
        return problem
    now = context(request)["now"]
    state = storage().family_state(session.family_number)
    message = next((m for m in state.messages if id_of(m) == message_id), None)
    if message is None:
        return error_response(404, "message_not_found", "Ce message est introuvable dans votre boîte de réception.")
    if not message.get("read_at"):  # read again: the first instant stays, nothing to write
        message["read_at"] = now.isoformat()
        storage().update_attributes(message["pk"], message["sk"], {"read_at": message["read_at"]})
        family_pages().export(storage(), session.family_number, now, only=pages_showing_messages(), state=state)
    if is_form(request):
        return redirect(f"{session.home}messages/{message_id}/")
    return Response(body="", status_code=204)


# --- nightly re-export (issue 5) ---------------------------------------------------------

# Every night from 01:00 UTC (02:00 in Paris in winter, 03:00 in summer: EventBridge
# rules know only UTC), after the deadlines of 23:59: every family's pages are rendered
# again, so a day whose deadline has passed is no longer offered, the balance is « à la
# date du » the new day and an expired notice is gone. One invocation every 5 minutes
# for an hour, each exporting one slice of the families (pages.nightly_slice), so that
# no invocation nears Lambda's 15 minutes, however many families the commune has.
NIGHTLY_EXPORT = "cron(0/5 1 * * ? *)"


@app.schedule(NIGHTLY_EXPORT, name="nightly-export")
def nightly_export(event):
    from datetime import datetime

    from chalicelib.pages import NIGHTLY_SLICES, nightly_slice

    now = clock.now()
    try:  # the time the run was scheduled for (a retried run keeps it)
        scheduled_at = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        scheduled_at = now
    index = nightly_slice(scheduled_at)
    report = family_pages().export_all(storage(), now, family_slice=(index, NIGHTLY_SLICES))
    app.log.info("nightly export, slice %d/%d: %d families, %d pages written, %d unchanged",
                 index + 1, NIGHTLY_SLICES, report.families, report.pages, report.unchanged)
    if report.failed:  # each one's traceback is logged by export_all
        app.log.error("nightly export: %d families not exported: %s", len(report.failed), ", ".join(report.failed))
    return {"slice": index, "families": report.families, "pages": report.pages,
            "unchanged": report.unchanged, "failed": report.failed}


# --- deferred jobs (chalicelib/jobs.py) ----------------------------------------------------

def _reset_link(payload: dict) -> None:
    accounts().send_reset_link(payload)


# chalicelib.accounts.RESET_LINK_JOB (not imported here: the cold start stays light;
# jobs.defer refuses a kind nobody registered).
jobs.register("password_reset_link", _reset_link)


@app.lambda_function(name=jobs.FUNCTION)
def run_job(event, context):
    """The jobs function: requests hand it work with an asynchronous invocation."""
    jobs.run(event)
