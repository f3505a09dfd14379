"""Routes of the Portail Famille function: parse, authorise, call the domain, answer.

The rules live in chalicelib; this module stays thin (DESIGN §2). Every call that
changes state passes the same-origin check of the middleware; forms also carry a
token. A form post answers 303 to a page; a JSON call gets JSON (DESIGN §4).
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, urlsplit

from chalice import Chalice, Response
from chalicelib import clock, sessions
from chalicelib.http_headers import API_HEADERS

app = Chalice(app_name="portail-famille")
app.api.binary_types.append("application/pdf")

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BODY_TYPES = [JSON, FORM]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
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
            storage(), Mailer(boto3.client("ses"), info.contact_email),
            site_url=site_url(), demo_mode=os.environ.get("PORTAIL_DEMO") == "1", commune_name=info.name,
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

        _dependencies["pages"] = FamilyPages(boto3.client("s3"), table.bucket_name("pages"), commune(), secret())
    return _dependencies["pages"]


def secret() -> str:
    return os.environ["PORTAIL_SECRET"]


def site_url() -> str:
    """The address parents use: the stage's (PORTAIL_SITE_URL), else commune.toml's."""
    return (os.environ.get("PORTAIL_SITE_URL") or commune().commune.site_url).rstrip("/")


# --- requests and answers ---------------------------------------------------------------

def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """The error shape of the HTTP contract (DESIGN §4)."""
    return Response(body={"error": {"code": code, "message": message}}, status_code=status, headers=headers or {})


def is_form(request) -> bool:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower() == FORM


def body(request) -> dict:
    """The fields of a form post or a JSON object; ValueError when unreadable."""
    raw = request.raw_body or b""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="strict")
    if is_form(request):
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
    data = json.loads(raw or "{}")
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def form_lists(request) -> dict[str, list[str]]:
    """A form's fields with every value (check boxes repeat their name)."""
    raw = request.raw_body or b""
    return parse_qs(raw.decode("utf-8") if isinstance(raw, bytes) else raw, keep_blank_values=True)


def field(data: dict, name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    headers = {"Location": location}
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body="", status_code=303, headers=headers)


def anchor(code: str) -> str:
    # Static pages show the message whose id is the URL's fragment (CSS :target), no script.
    return "#erreur-" + code.replace("_", "-")


def source_address(request) -> str:
    """The parent's address. Behind CloudFront, API Gateway sees CloudFront's: the viewer's
    is then in CloudFront-Viewer-Address, trusted only with the secret header CloudFront
    adds to its origin requests (anyone can send the header to API Gateway directly)."""
    import hmac

    origin_secret = os.environ.get("PORTAIL_ORIGIN_SECRET")
    viewer = request.headers.get("cloudfront-viewer-address")  # ip:port
    if viewer and origin_secret and hmac.compare_digest(request.headers.get("x-portail-origin", ""), origin_secret):
        return viewer.rsplit(":", 1)[0].strip("[]")
    return ((request.context.get("identity") or {}).get("sourceIp")) or "unknown"


def cookie_value(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def same_origin(request) -> bool:
    """A state-changing call must come from the portal's own pages (OWASP CSRF)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    if not origin:
        return False
    allowed = {urlsplit(site_url()).netloc, request.headers.get("host", "")}
    return urlsplit(origin).netloc in allowed


def signed_cookies(session) -> list[str]:
    from chalicelib import signed_cookies as cf

    key_pair_id, private_key = cf.signing_config_from_environment()
    return cf.set_cookie_headers(session.page_key, session.expires_at, key_pair_id, private_key, site_url=site_url())


def cleared_cookies(page_key: str | None) -> list[str]:
    from chalicelib import signed_cookies as cf

    return [sessions.clear_cookie_header(), *(cf.clear_cookie_headers(page_key) if page_key else [])]


def context(request) -> dict:
    return request.context.setdefault("portail", {})


def unavailable_on_aws_error(function):
    """An AWS failure (throttling, an outage) answers 503 in French rather than a stack
    trace. Writes are transactions: nothing is half-done."""
    import functools

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(*args, **kwargs)
        except (ClientError, BotoCoreError):
            import logging

            logging.getLogger("portail").exception("AWS call failed in %s", function.__name__)
            return error_response(503, "service_unavailable",
                                  "Le service est momentanément indisponible : réessayez dans un instant.",
                                  {"Retry-After": "5"})

    return guarded


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
    if event.method in UNSAFE_METHODS and not same_origin(event):
        response = error_response(403, "cross_site_request",
                                  "Requête refusée : elle ne provient pas d'une page du Portail Famille.")
    else:
        token = cookie_value(event.headers.get("cookie"), sessions.COOKIE_NAME)
        found = unavailable_on_aws_error(accounts().current_session)(token, now) if token else (None, False)
        if isinstance(found, Response):  # AWS failed while reading the session: 503
            return with_headers(found)
        session, moved_on = found
        state["session"] = session
        response = get_response(event)
        if session and moved_on and state.get("refresh_cookies", True):
            # The session moved on (at most once a minute): the page cookies follow its new end.
            existing = response.headers.get("Set-Cookie") or []
            response.headers["Set-Cookie"] = [*([existing] if isinstance(existing, str) else existing),
                                              *signed_cookies(session)]
    return with_headers(response)


def with_headers(response: Response) -> Response:
    for name, value in API_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def current_session():
    return context(app.current_request).get("session")


def require_session(request, data: dict | None = None):
    """The session, or an AccountError-like answer; forms must carry the family's token."""
    session = current_session()
    if session is None:
        return None, error_response(401, "not_authenticated", "Vous devez vous connecter pour accéder à cette page.")
    if data is not None and is_form(request) and not sessions.csrf_token_valid(
            secret(), session.page_key, field(data, "csrf_token")):
        return None, error_response(403, "invalid_form", "Ce formulaire a expiré : rechargez la page et recommencez.")
    return session, None


def read_body(request):
    try:
        return body(request), None
    except (ValueError, UnicodeDecodeError):
        return None, error_response(400, "invalid_request", "La demande est illisible : données JSON ou formulaire attendues.")


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
    cookies = [sessions.cookie_header(token), *signed_cookies(session)]
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
    data, problem = read_body(request)
    if problem:
        return problem
    session, problem = require_session(request, data)
    if problem:
        return problem
    try:
        contact = accounts().update_contact(session, field(data, "email"), field(data, "phone"),
                                            source_address(request), context(request)["now"])
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
    data, problem = read_body(request)
    if problem:
        return problem
    session, problem = require_session(request, data)
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
    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    accounts().forgot_password(field(data, "login"), source_address(request), context(request)["now"])
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
    certificate, the family's request line and the audit entry are one batch write."""
    from chalicelib.documents import DocumentError, certificate_request_item, parse_dates

    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    session, problem = require_session(request, data)
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
        certificate_request_item(session.family_number, child_id, dates, session.rank, now),
        storage().audit_item(now, session.login, "certificate_upload", {
            "source": source_address(request), "child_id": child_id,
            "dates": certificate["dates"], "document_key": upload["key"]}),
    ])
    return {"upload": upload,
            "message": "Envoyez maintenant le fichier du certificat médical : ce formulaire d'envoi "
                       "reste valable 5 minutes."}


# --- bookings ----------------------------------------------------------------------------

def _booking_request(request, data: dict) -> tuple[list | None, dict | None]:
    """(items, pattern) from JSON, or from a form: `item` = « AAAA-MM-JJ|SERVICE|action »
    repeated, or the week pattern's fields."""
    if not is_form(request):
        return data.get("items"), data.get("pattern")
    lists = form_lists(request)
    if lists.get("pattern_from"):
        return None, {"weekdays": [int(v) if v.isdigit() else v for v in lists.get("pattern_weekdays", [])],
                      "services": lists.get("pattern_services", []),
                      "from": lists["pattern_from"][0], "to": (lists.get("pattern_to") or [""])[0]}
    items = []
    for value in lists.get("item", []):
        day, _, rest = value.partition("|")
        service, _, action = rest.partition("|")
        items.append({"date": day, "service": service, "action": action or field(data, "action")})
    return items, None


@route("/api/bookings", methods=["POST"], content_types=BODY_TYPES)
def book():
    from chalicelib.bookings import BookingRequestError, expand_pattern, parse_items

    request = app.current_request
    data, problem = read_body(request)
    if problem:
        return problem
    session, problem = require_session(request, data)
    if problem:
        return problem
    now = context(request)["now"]
    back = field(data, "back") if field(data, "back").startswith(session.home) else session.home
    try:
        raw_items, pattern = _booking_request(request, data)
        if pattern is not None and raw_items is None:
            items = expand_pattern(pattern, commune(), bookings().calendar)
        else:
            items = parse_items(raw_items, commune())
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
    from chalicelib.bookings import french_day

    for service, day in freed:
        for promoted in bookings().promote(service, day, now):
            label = commune().service(service).label
            messages().send(
                promoted["family_number"], f"Réservation validée : {label}, {french_day(day)}",
                f"Une place s'est libérée : la réservation de **{label}** du **{french_day(day)}** "
                "pour votre enfant, qui était en liste d'attente, est validée.", now)
            from chalicelib.pages import pages_showing_days

            family_pages().export(storage(), promoted["family_number"], now,
                                  only=pages_showing_days(promoted["child_id"], [day]))
