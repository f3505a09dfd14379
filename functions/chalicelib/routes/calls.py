"""What every route does before and after its own work, written once.

A route is a Chalice view on a blueprint (`Routes`), decorated, as Flask's
`login_required` is, by the kind of call it answers:

    @routes.route("/api/password/change", methods=["POST"], content_types=BODY_TYPES)
    @routes.family_call(form_errors=account_page)
    def change_password(call):
        ...

`family_call` reads the body, requires the session and, for a call that changes
something, its CSRF cookie (and a form's token); `public_call` only reads the body
(login, forgotten password). Both hand the view a `Call` (request, body, session, the
middleware's instant), answer a domain `Refusal` (JSON error shape, or for a form a 303
to `form_errors` with the error's anchor), and an AWS failure with a 503.

The session itself is read by app.py's middleware (Chalice's local authorizer
emulation reads only `Authorization`; the session is a cookie).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import sessions
from chalicelib.dependencies import secret, site_url
from chalicelib.refusals import Refusal
from chalicelib.web import (
    FORM,
    JSON,
    UNSAFE_METHODS,
    BodyTooLarge,
    anchor,
    body,
    cookie_value,
    error_response,
    field,
    is_form,
    redirect,
    source_address,
    unavailable_on_aws_error,
)

BODY_TYPES = [JSON, FORM]


class CallError(Refusal):
    """The call itself is refused (its body unreadable, no session, a form of another
    session): answered as JSON whatever its content type, since no form's page shows it."""


def context(request) -> dict:
    """The portal's state of one request (its instant, its session), set by the middleware."""
    return request.context.setdefault("portail", {})


@dataclass
class Call:
    """What a view receives: the request, its body's fields ({} when it has none), the
    session (None when nobody is logged in) and the instant of the call."""

    request: Request
    data: dict
    session: sessions.Session | None
    now: datetime

    @property
    def is_form(self) -> bool:
        return is_form(self.request)

    @property
    def source(self) -> str:
        return source_address(self.request)

    def field(self, name: str) -> str:
        return field(self.data, name)

    def checked_session(self) -> sessions.Session:
        """The session, which must carry its CSRF cookie (and a form its token) since the
        call changes something; CallError otherwise."""
        return _checked_session(self.request, self.session, self.data)

    def sets_page_cookies(self) -> None:
        """The view sets the page cookies itself (or clears them): the middleware adds none."""
        context(self.request)["refresh_cookies"] = False

    def answer(self, page: str, json=None, *, status: int | None = None, cookies: list[str] | None = None):
        """A form post goes to `page` (303); a JSON call gets `json` (204 when None)."""
        if self.is_form:
            return redirect(page, cookies)
        headers = {"Set-Cookie": cookies} if cookies else {}
        if json is None:
            return Response(body="", status_code=status or 204, headers=headers)
        return Response(body=json, status_code=status or 200, headers=headers)


FormErrors = str | Callable[[Call], str] | None


class Routes(Blueprint):
    """A blueprint of the portal's routes, with the calls' decorators bound to it (they
    need its `current_request`, which Chalice keeps per thread under `portail serve`)."""

    def family_call(self, form_errors: FormErrors = None):
        """A call of a logged-in family (401 without a session). A call with a body (every
        method but GET) must carry the session's CSRF cookie, and a form the family's token."""
        return self._call(form_errors, session_required=True)

    def public_call(self, form_errors: FormErrors = None, *, reads_body: bool = True):
        """A call anyone may make (login, forgotten password): the session, if any, is
        handed as is (`call.checked_session()` checks it)."""
        return self._call(form_errors, session_required=False, reads_body=reads_body)

    def _call(self, form_errors: FormErrors, *, session_required: bool, reads_body: bool = True):
        def decorate(view):
            @functools.wraps(view)
            def call_view(**parameters):
                try:
                    call = _open(self.current_request, session_required, reads_body)
                    return view(call, **parameters)
                except CallError as error:
                    return refusal_response(error)
                except Refusal as error:  # the view's (`_open` raises CallError only): `call` is set
                    if form_errors is not None and call.is_form:
                        page = form_errors(call) if callable(form_errors) else form_errors
                        return redirect(page + anchor(error.code))
                    return refusal_response(error)

            # Chalice turns a view's exception into a bare 500 before any middleware sees it.
            return unavailable_on_aws_error(call_view)

        return decorate


def _open(request, session_required: bool, reads_body: bool) -> Call:
    """The call handed to the view, or CallError. Only a call that changes something
    (every method but GET) has a body."""
    state = context(request)
    has_body = request.method in UNSAFE_METHODS
    data = _read_body(request) if reads_body and has_body else {}
    session = state.get("session")
    if session_required:
        session = _checked_session(request, session, data if has_body else None)
    return Call(request, data, session, state["now"])


def refusal_response(error: Refusal) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return error_response(error.status, error.code, error.message, headers)


def _read_body(request) -> dict:
    try:
        return body(request)
    except BodyTooLarge:
        raise CallError(413, "request_too_large", "La demande est trop volumineuse.") from None
    except (ValueError, UnicodeDecodeError):
        raise CallError(400, "invalid_request",
                        "La demande est illisible : données JSON ou formulaire attendues.") from None


def _checked_session(request, session, data: dict | None) -> sessions.Session:
    """The session, or CallError. A call that changes something (it has a body: `data`)
    must carry the CSRF cookie of this very session (set at login, never sent by another
    site), and a form also the family's token."""
    if session is None:
        raise CallError(401, "not_authenticated", "Vous devez vous connecter pour accéder à cette page.")
    if data is not None and not sessions.session_csrf_valid(
            secret(), session.token_hash, cookie_value(request.headers.get("cookie"), sessions.CSRF_COOKIE_NAME)):
        raise CallError(403, "invalid_form", "Ce formulaire ne correspond pas à votre connexion : "
                                             "rechargez la page et recommencez.")
    if data is not None and is_form(request) and not sessions.csrf_token_valid(
            secret(), session.page_key, field(data, "csrf_token")):
        raise CallError(403, "invalid_form", "Ce formulaire a expiré : rechargez la page et recommencez.")
    return session


# --- the family pages' cookies -------------------------------------------------------------

def signed_cookies(session, now: datetime) -> list[str]:
    """The family's page cookies signed at `now`: they open its pages for 5 minutes at
    most, never beyond the session (page_cookies_end); and the public pages' hint that
    the parent is logged in, until the session's end (sessions.espace_hint_header)."""
    from chalicelib import signed_cookies as cf
    from chalicelib.secret_parameters import load_secrets

    load_secrets()  # production: the private key from SSM, once per container
    key_pair_id, private_key = cf.signing_config_from_environment()
    return [*cf.set_cookie_headers(session.page_key, cf.page_cookies_end(session.expires_at, now),
                                   key_pair_id, private_key, site_url=site_url()),
            sessions.espace_hint_header(session, now)]


def cleared_cookies(page_key: str | None) -> list[str]:
    from chalicelib import signed_cookies as cf

    return [sessions.clear_cookie_header(), sessions.clear_csrf_cookie_header(), sessions.clear_espace_hint_header(),
            *(cf.clear_cookie_headers(page_key) if page_key else [])]
