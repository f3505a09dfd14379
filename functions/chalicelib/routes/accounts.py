"""Routes of the family's account: login and logout, the page cookies' renewal, the
account's details, passwords (docs/accounts.md)."""

from __future__ import annotations

from chalice import Response

from chalicelib import family_actions, sessions
from chalicelib.dependencies import (
    accounts,
    family_pages,
    password_reset,
    secret,
    site_url,
    storage,
)
from chalicelib.routes.calls import BODY_TYPES, Call, Routes, cleared_cookies, signed_cookies
from chalicelib.web import cookie_value, error_response, redirect

routes = Routes(__name__)

LOGIN_PAGE = "/connexion/"
FORGOT_PAGE = "/mot-de-passe/oublie/"
RESET_PAGE = "/mot-de-passe/nouveau/"
# The login page's way home without script: GET /api/session/renew?depuis=connexion.
FROM_LOGIN_PAGE = "connexion"


def account_page(call: Call) -> str:
    return call.session.home + "compte/"


@routes.route("/api/login", methods=["POST"], content_types=BODY_TYPES)
@routes.public_call(form_errors=LOGIN_PAGE)
def login(call: Call):
    token, session = accounts().login(call.field("login"), call.field("password"), call.source, call.now)
    pages_up_to_the_day(session, call.now, login=True)
    call.sets_page_cookies()
    cookies = [sessions.cookie_header(token), sessions.csrf_cookie_header(secret(), session.token_hash),
               *signed_cookies(session, call.now)]
    return call.answer(session.home, {"home": session.home}, cookies=cookies)


@routes.route("/api/logout", methods=["POST"], content_types=BODY_TYPES)
@routes.public_call()
def logout(call: Call):
    session = call.checked_session() if call.session is not None else None
    if session is not None:
        accounts().logout(session, call.source, call.now)
    call.sets_page_cookies()
    return call.answer(LOGIN_PAGE + "#deconnexion", cookies=cleared_cookies(session.page_key if session else None))


def pages_up_to_the_day(session, now, *, login: bool = False) -> None:
    """The family's pages brought up to the day before a page opens with the cookies
    given (chalicelib/page_freshness.py): at a login, and at a renewal of a session begun
    on an earlier day (one left open past midnight); other renewals read nothing."""
    from chalicelib.dependencies import commune

    tz = commune().tz
    if not login and session.created_at.astimezone(tz).date() == now.astimezone(tz).date():
        return
    from chalicelib.page_freshness import refresh_if_stale

    refresh_if_stale(storage(), family_pages, session.family_number, now, tz)


# --- the family pages' cookies ------------------------------------------------------------
# They open the pages for 5 minutes at most (chalicelib.signed_cookies.PAGE_COOKIE_LIFETIME):
# the family pages renew them while the session lives (docs/accounts.md).

@routes.route("/api/session/renew", methods=["POST"], content_types=BODY_TYPES)
@routes.public_call(reads_body=False)
def renew_page_cookies(call: Call):
    """Fresh page cookies for the session's family: 200 `{"home": "/famille/<key>/"}`
    (the « Accès réservé » page tells by it another family's page from its own); 401
    without a session. The family pages' script calls it while a page is open; like
    every call, it is activity (the middleware moved the session on)."""
    if call.session is None:
        # The public pages' « Mon espace » hint goes with the session (docs/accounts.md).
        return error_response(401, "not_authenticated",
                              "Votre session a pris fin : connectez-vous pour retrouver votre espace famille.",
                              {"Set-Cookie": [sessions.clear_espace_hint_header()]})
    pages_up_to_the_day(call.session, call.now)
    call.sets_page_cookies()
    return Response(body={"home": call.session.home}, status_code=200,
                    headers={"Set-Cookie": signed_cookies(call.session, call.now)})


@routes.route("/api/session/renew", methods=["GET"])
@routes.public_call()
def renew_page_cookies_and_return(call: Call):
    """The renewal without script (the « Accès réservé » page refreshes to it): fresh
    page cookies and 303 back to the family page the browser came from (`back`, else the
    Referer, when it is one of the family's own pages; else the family's home). Without
    a session: 303 to the login page, which says the session ended.

    `?depuis=connexion`: the login page's link « Retrouver mon espace famille » (how a
    logged-in parent without script gets back home): the family's home, always, since a
    parent's click is no refresh going round (the memory below is still set)."""
    from chalicelib import signed_cookies as cf

    request, session = call.request, call.session
    query = request.query_params or {}
    if session is None:
        return redirect(LOGIN_PAGE + "#session-expiree", [sessions.clear_espace_hint_header()])
    pages_up_to_the_day(session, call.now)
    call.sets_page_cookies()
    from_login_page = query.get("depuis") == FROM_LOGIN_PAGE
    target = (None if from_login_page else cf.return_path(query.get("back"), session.page_key)
              or cf.return_path_from_referer(request.headers.get("referer"), session.page_key, site_url())
              ) or session.home
    if not from_login_page and cookie_value(request.headers.get("cookie"), cf.RETURN_MARKER_COOKIE) == target:
        # Sent there a moment ago, and back already: that page does not open (missing,
        # or the browser is not at the portal's address). Home, then no more rounds.
        if target == session.home:
            return redirect(LOGIN_PAGE + "#acces-impossible", [cf.clear_return_marker_header()])
        target = session.home
    return redirect(target, [*signed_cookies(session, call.now), cf.return_marker_header(target)])


@routes.route("/api/me", methods=["GET"])
@routes.family_call()
def me(call: Call):
    return accounts().me(call.session)


@routes.route("/api/account", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call(form_errors=account_page)
def account(call: Call):
    contact = family_actions.update_contact(accounts(), family_pages(), call.session, call.field("email"),
                                            call.field("phone"), call.field("current_password"), call.source,
                                            call.now)
    return call.answer(account_page(call) + "#coordonnees-enregistrees", contact)


@routes.route("/api/password/change", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call(form_errors=account_page)
def change_password(call: Call):
    accounts().change_password(call.session, call.field("current_password"), call.field("new_password"),
                               call.source, call.now)
    return call.answer(account_page(call) + "#mot-de-passe-change")


@routes.route("/api/password/forgot", methods=["POST"], content_types=BODY_TYPES)
@routes.public_call(form_errors=FORGOT_PAGE)
def forgot_password(call: Call):
    """202 whatever the login: the mail, if any, is sent by a deferred job
    (`password_reset.RESET_LINK_JOB`), so the answer and its time say nothing."""
    password_reset().forgot_password(call.field("login"), call.source, call.now)
    return call.answer(FORGOT_PAGE + "#demande-envoyee", status=202, json={
        "message": "Si cet identifiant existe et qu'une adresse électronique lui est associée, "
                   "un lien pour choisir un nouveau mot de passe vient d'y être envoyé."})


@routes.route("/api/password/reset", methods=["POST"], content_types=BODY_TYPES)
@routes.public_call(form_errors=RESET_PAGE)
def reset_password(call: Call):
    password_reset().reset_password(call.field("token"), call.field("password"), call.source, call.now)
    return call.answer(LOGIN_PAGE + "#mot-de-passe-change")
