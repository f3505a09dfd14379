"""What every staff route (`/gestion/`, docs/staff.md) does before and after its own work.

A staff page is a Chalice view on a `StaffRoutes` blueprint, decorated by the page of
the registry it belongs to (chalicelib/staff/roles.py):

    routes = StaffRoutes(__name__)

    # Routes never end with "/" (Chalice refuses it: API Gateway drops a trailing
    # slash), so this one answers /gestion/demandes/, the address links use.
    @routes.route("/gestion/demandes", methods=["GET"])
    @routes.staff_call("demandes")
    def requests_page(call: StaffCall):
        return call.render("gestion/demandes.html", days=...)

    @routes.route("/gestion/demandes", methods=["POST"], content_types=STAFF_BODY_TYPES)
    @routes.staff_call("demandes")
    def decide(call: StaffCall):
        ...
        call.audit("requests_decided", family_number="…", items=…)
        return call.redirect("/gestion/demandes/#decision-enregistree")

`staff_call` requires a staff session (its own cookie, read on the real clock): a GET
without one answers the staff login page (401, never data), a POST a French 401 page.
Then the page's role (403 with a French page otherwise), then for a POST the form's
`csrf_token` of that session (403). The view receives a `StaffCall`. A domain `Refusal`
raised by the view is answered as a French error page with its status; an AWS failure
with the French 503. A family session opens nothing here: only the staff cookie counts.

`staff_public` is for the pages anyone may open (the login, the enrolment link): the
session, if any, is handed as is. Every `/gestion/` view carries `staff_page` (the
registry's page) or `staff_public`: the role-matrix test (tests/test_staff_access.py)
walks every route by them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.dependencies import secret, staff_accounts, staff_templates, storage
from chalicelib.refusals import Refusal
from chalicelib.web import (
    FORM,
    UNSAFE_METHODS,
    cookie_value,
    source_address,
    unavailable_on_aws_error,
)

MULTIPART = "multipart/form-data"
STAFF_BODY_TYPES = [FORM, MULTIPART]
# Bounds of a staff form, checked before parsing: a bulk decision on 2,000 days is
# about 120 KB; a paper-planning CSV of a whole commune's month, a few hundred KB.
# (API Gateway hands Lambda at most 6 MB, base64-encoded for a multipart body.)
MAX_FORM_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_FORM_FIELDS = 10_000

LOGIN_PAGE = "/gestion/connexion/"
HOME_PAGE = "/gestion/"
FORBIDDEN = "Votre rôle ne donne pas accès à cette page : demandez à un administrateur si votre travail le demande."
NOT_LOGGED_IN = "Votre session a pris fin : connectez-vous de nouveau."
EXPIRED_FORM = "Ce formulaire a expiré : rechargez la page et recommencez."
TOO_LARGE = "Le formulaire envoyé est trop volumineux."
UNREADABLE = "Le formulaire envoyé est illisible : rechargez la page et recommencez."
_SAFE_NEXT = re.compile(r"/gestion/[A-Za-z0-9/_.~%=&+-]*(\?[A-Za-z0-9/_.~%=&+-]*)?")


class StaffCallError(Refusal):
    """The call itself is refused (unreadable body, no session, a stale form)."""


@dataclass
class StaffCall:
    """What a staff view receives. `now`: the portal's clock (frozen by `--now` in the
    demo), for every domain decision; `real_now`: the real clock, for staff sessions and
    codes only. `staff`: the session (`.login`, `.role`); None on a public page."""

    request: Request
    staff: object | None
    now: datetime
    real_now: datetime
    page: str | None = None
    _fields: dict[str, list[str]] = field(default_factory=dict)
    _uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return source_address(self.request)

    @property
    def csrf_token(self) -> str | None:
        from chalicelib.staff import sessions

        return sessions.csrf_token(secret(), self.staff.token_hash) if self.staff else None

    def field(self, name: str) -> str:
        """A form field's (first) value; "" when absent."""
        values = self._fields.get(name)
        return values[0] if values else ""

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated form field (check boxes: `item`)."""
        return list(self._fields.get(name, []))

    def query(self, name: str) -> str:
        """A query-string parameter; "" when absent."""
        value = (self.request.query_params or {}).get(name)
        return value if isinstance(value, str) else ""

    def upload(self, name: str) -> tuple[str, bytes] | None:
        """(file name, content) of a multipart/form-data file field; None when no file was chosen."""
        return self._uploads.get(name)

    def render(self, template: str, *, status: int = 200, **context) -> Response:
        """The page `template` (under chalicelib/templates/) in the staff layout."""
        return render_page(template, status=status, staff=self.staff, page=self.page,
                           csrf_token=self.csrf_token, now=self.now, **context)

    def redirect(self, location: str) -> Response:
        return Response(body="", status_code=303, headers={"Location": location})

    def redirect_with_cookie(self, location: str, cookie: str) -> Response:
        return Response(body="", status_code=303, headers={"Location": location, "Set-Cookie": cookie})

    def audit(self, action: str, family_number: str | None = None, **details) -> None:
        """An entry of the staff journal: the actor is the staff login."""
        if family_number is not None:
            details["family_number"] = family_number
        storage().audit(self.now, self.staff.login, action, details)


def render_page(template: str, *, status: int = 200, staff=None, page: str | None = None, **context) -> Response:
    """A staff page: HTML, never stored (`no-store`), with the role's menu."""
    from chalicelib.staff import roles

    html = staff_templates().get_template(template).render(
        staff=staff, current=page, menu=roles.menu(staff.role) if staff else [],
        role_label=roles.ROLE_LABELS.get(staff.role, "") if staff else "", **context)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


def error_page(status: int, message: str, staff=None, retry_after: int | None = None) -> Response:
    response = render_page("gestion/erreur.html", status=status, staff=staff, message=message)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def login_page(request, *, status: int = 200, message: str | None = None, next_page: str = "") -> Response:
    # Never echoes what was typed: a password typed in the login field stays nowhere.
    return render_page("gestion/connexion.html", status=status, message=message, next_page=safe_next(next_page))


def safe_next(value: str | None) -> str:
    """Where a login goes next: a page of the back office (no other site, no `..`), else ""."""
    if isinstance(value, str) and len(value) <= 300 and _SAFE_NEXT.fullmatch(value) and "//" not in value \
            and ".." not in value:
        return value
    return ""


def requested_path(request) -> str:
    """The page asked for, with its query string (where the login page sends back).
    Pages' addresses end with "/", which API Gateway drops before the route sees them."""
    path = request.path.format(**(request.uri_params or {})).rstrip("/") + "/"
    query = urlencode([(k, v) for k in (request.query_params or {}) for v in request.query_params.getlist(k)])
    return path + ("?" + query if query else "")


class StaffRoutes(Blueprint):
    """A blueprint of staff routes, with the staff calls' decorators bound to it."""

    def staff_call(self, page: str):
        """A page of the registry (chalicelib/staff/roles.py): session, role, CSRF."""
        from chalicelib.staff.roles import PAGES

        if page not in PAGES:
            raise ValueError(f"page {page!r} is not in chalicelib/staff/roles.py's PAGES")

        def decorate(view):
            @functools.wraps(view)
            def call_view(**parameters):
                from chalicelib.staff import roles

                request = self.current_request
                call = _open(request, page)
                if call.staff is None:
                    if request.method == "GET":
                        expired = cookie_value(request.headers.get("cookie"), _cookie_name()) is not None
                        return login_page(request, status=401, message=NOT_LOGGED_IN if expired else None,
                                          next_page=requested_path(request))
                    return error_page(401, NOT_LOGGED_IN)
                if not roles.allowed(call.staff.role, page):
                    return error_page(403, FORBIDDEN, call.staff)
                return _answer(view, call, parameters)

            guarded = unavailable_on_aws_error(call_view)
            guarded.staff_page = page
            return guarded

        return decorate

    def staff_public(self):
        """A page anyone may open (the login, an enrolment link): the staff session, if
        any, is handed as is; a POST carrying a session must carry its form token."""
        def decorate(view):
            @functools.wraps(view)
            def call_view(**parameters):
                return _answer(view, _open(self.current_request, None), parameters)

            guarded = unavailable_on_aws_error(call_view)
            guarded.staff_public = True
            return guarded

        return decorate


def _cookie_name() -> str:
    from chalicelib.staff.sessions import COOKIE_NAME

    return COOKIE_NAME


def _open(request, page: str | None) -> StaffCall:
    """The call with its staff session (None without a valid one); the body is read later."""
    from chalicelib import clock

    real_now = datetime.now(UTC)
    token = cookie_value(request.headers.get("cookie"), _cookie_name())
    staff = staff_accounts().current_session(token, real_now) if token else None
    now = request.context.get("portail", {}).get("now") or clock.now()
    return StaffCall(request, staff, now, real_now, page)


def _answer(view, call: StaffCall, parameters: dict) -> Response:
    try:
        if call.request.method in UNSAFE_METHODS:
            call._fields, call._uploads = read_form(call.request)
            if call.staff is not None and not _csrf_valid(call):
                raise StaffCallError(403, "invalid_form", EXPIRED_FORM)
        return view(call, **parameters)
    except Refusal as error:
        return error_page(error.status, error.message, call.staff, error.retry_after)


def _csrf_valid(call: StaffCall) -> bool:
    from chalicelib.staff import sessions

    return sessions.csrf_token_valid(secret(), call.staff.token_hash, call.field("csrf_token"))


# --- reading a form: urlencoded or multipart/form-data ------------------------------------

def read_form(request) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes]]]:
    """(fields, uploads) of a form post; StaffCallError (French 400 or 413) when the body
    is too large or unreadable, before anything is written."""
    content_type = request.headers.get("content-type") or ""
    kind = content_type.split(";")[0].strip().lower()
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > (MAX_UPLOAD_BYTES if kind == MULTIPART else MAX_FORM_BYTES):
        raise StaffCallError(413, "request_too_large", TOO_LARGE)
    try:
        if kind == MULTIPART:
            return _multipart(content_type, raw)
        if kind == FORM or not raw:
            return parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS), {}
    except (ValueError, UnicodeDecodeError):
        raise StaffCallError(400, "invalid_request", UNREADABLE) from None
    raise StaffCallError(400, "invalid_request", UNREADABLE)


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes]]]:
    """A multipart/form-data body, by the standard library's MIME parser."""
    from email.parser import BytesParser
    from email.policy import HTTP

    if "boundary=" not in content_type.lower():
        raise ValueError("no boundary")
    message = BytesParser(policy=HTTP).parsebytes(
        b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart() or message.defects:
        raise ValueError("not a multipart body")
    fields: dict[str, list[str]] = {}
    uploads: dict[str, tuple[str, bytes]] = {}
    parts = list(message.iter_parts())
    if len(parts) > MAX_FORM_FIELDS:
        raise ValueError("too many parts")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_content_disposition() != "form-data":
            raise ValueError("a part without its name")
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            if filename or content:  # a file field left empty sends no name and no content
                uploads[name] = (filename, content)
        else:
            fields.setdefault(name, []).append(content.decode("utf-8"))
    return fields, uploads
