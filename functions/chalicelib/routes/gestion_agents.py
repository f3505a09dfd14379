"""The staff accounts' administration (`/gestion/agents/`, admin only) and the enrolment
link's page (`/gestion/inscription/<token>`, public): docs/staff.md. The rules are
chalicelib/staff/accounts.py's, which `portail staff` calls too.

Accounts are staff authentication: their changes and the enrolment link's 7 days are on
the real clock (`call.real_now`), as the link's page and the login read them, never the
demo's frozen `--now` (a link made in 2014 would be expired at once). The journal's
entries keep the portal's clock, as every staff action's (`call.audit`).

The enrolment link is never put in an address the back office redirects to (browser
history, logs): creating an account or resetting its second factor answers the page that
shows the link, once (`no-store`); the other actions answer 303 back to the list with a
result message named in the query string.
"""

from __future__ import annotations

from chalicelib.dependencies import commune, site_url, staff_accounts
from chalicelib.routes.staff_calls import LOGIN_PAGE, STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

AGENTS_PAGE = "/gestion/agents/"
# The result messages of the list's actions, by the `fait` of the 303's address.
DONE = {
    "desactive": "Le compte « {agent} » est désactivé : ses sessions ont pris fin.",
    "active": "Le compte « {agent} » est de nouveau actif.",
    "role": "Le rôle de « {agent} » est changé : il s'applique dès sa prochaine connexion.",
}
NOT_YOURSELF = {
    "disable": "Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre administrateur.",
    "role": "Vous ne pouvez pas changer votre propre rôle : demandez-le à un autre administrateur.",
}
INVALID_LINK = "Ce lien d'inscription n'est plus valable : demandez-en un nouveau à un administrateur."
PASSWORDS_DIFFER = "Les deux mots de passe saisis ne sont pas identiques."


# --- the list and its actions (admin) -----------------------------------------------------

@routes.route("/gestion/agents", methods=["GET"])
@routes.staff_call("agents")
def agents_page(call: StaffCall):
    """Every staff account (one Query of the index `STAFF`), the creation form and each
    account's actions."""
    from chalicelib.staff.roles import ROLE_LABELS, ROLES

    done = DONE.get(call.query("fait"))
    message = done.format(agent=call.query("agent")[:64]) if done else None
    return call.render("gestion/agents.html", accounts=staff_accounts().accounts(), roles=ROLES,
                       role_labels=ROLE_LABELS, message=message, tz=commune().tz)


@routes.route("/gestion/agents/creer", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("agents")
def create(call: StaffCall):
    """`login`, `role` → the page with the new account's enrolment link (shown once)."""
    account, _ = staff_accounts().create(call.field("login"), call.field("role"), call.real_now)
    call.audit("staff_added", login=account.login, role=account.role)
    return _link_page(call, account, created=True)


@routes.route("/gestion/agents/second-facteur", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("agents")
def reset_second_factor(call: StaffCall):
    """`agent` → a new TOTP secret, the account's sessions ended, and the page with the
    new enrolment link (shown once)."""
    account, _ = staff_accounts().reset_second_factor(call.field("agent"), call.real_now)
    call.audit("staff_totp_reset", login=account.login)
    return _link_page(call, account, created=False)


def _link_page(call: StaffCall, account, created: bool):
    from chalicelib.staff.accounts import enrolment_link

    return call.render("gestion/agents_lien.html", account=account, created=created, tz=commune().tz,
                       link=enrolment_link(site_url(), account.enrolment_token))


@routes.route("/gestion/agents/desactiver", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("agents")
def disable(call: StaffCall):
    login = _other_account(call, "disable")
    staff_accounts().disable(login, call.real_now)
    call.audit("staff_disabled", login=login)
    return _done(call, "desactive", login)


@routes.route("/gestion/agents/activer", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("agents")
def enable(call: StaffCall):
    login = _login(call)
    staff_accounts().enable(login, call.real_now)
    call.audit("staff_enabled", login=login)
    return _done(call, "active", login)


@routes.route("/gestion/agents/role", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("agents")
def change_role(call: StaffCall):
    login = _other_account(call, "role")
    role = call.field("role")
    staff_accounts().set_role(login, role, call.real_now)
    call.audit("staff_role_changed", login=login, role=role)
    return _done(call, "role", login)


def _login(call: StaffCall) -> str:
    from chalicelib import storage as st

    return st.normalise_login(call.field("agent"))


def _other_account(call: StaffCall, action: str) -> str:
    """The form's account, when it is not the admin's own (who would lock themselves out)."""
    from chalicelib.staff.accounts import StaffError

    login = _login(call)
    if login == call.staff.login:
        raise StaffError(409, "own_account", NOT_YOURSELF[action])
    return login


def _done(call: StaffCall, done: str, login: str):
    from urllib.parse import urlencode

    return call.redirect(f"{AGENTS_PAGE}?{urlencode({'fait': done, 'agent': login})}#resultat")


# --- the enrolment link's page (public) ---------------------------------------------------

@routes.route("/gestion/inscription/{token}", methods=["GET"])
@routes.staff_public()
def enrolment_page(call: StaffCall, token: str):
    """The account's login, its TOTP secret as a QR code and as text, and the form."""
    found = staff_accounts().enrolment(token, call.real_now)
    if found is None:
        return _invalid_link(call)
    return _enrolment_form(call, token, *found)


@routes.route("/gestion/inscription/{token}", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_public()
def enrol(call: StaffCall, token: str):
    """`password`, `password_again`, `code` → the password set and the link used up (once),
    303 to the login page; the form again with the reason otherwise (nothing written)."""
    from chalicelib.staff.accounts import StaffError

    accounts = staff_accounts()
    try:
        if call.field("password") != call.field("password_again"):
            raise StaffError(400, "passwords_differ", PASSWORDS_DIFFER)
        accounts.take_enrolment(token, call.field("password"), call.field("code").replace(" ", ""), call.real_now)
    except StaffError as error:
        # The link is read again for the form only when it is to be shown again: the
        # enrolment that works reads it once (in take_enrolment).
        found = None if error.code == "invalid_enrolment" else accounts.enrolment(token, call.real_now)
        if found is None:  # used, expired or replaced: no form to fill again
            return call.render("gestion/erreur.html", status=error.status, message=error.message)
        return _enrolment_form(call, token, *found, message=error.message, status=error.status)
    return call.redirect(LOGIN_PAGE + "#inscription")


def _invalid_link(call: StaffCall):
    return call.render("gestion/erreur.html", status=404, message=INVALID_LINK)


def _enrolment_form(call: StaffCall, token: str, login: str, secret: str, *, message: str | None = None,
                    status: int = 200):
    from chalicelib.staff.accounts import ENROLMENT_PATH, provisioning_uri

    uri = provisioning_uri(login, secret, f"{commune().commune.name} (gestion)")
    return call.render("gestion/inscription.html", status=status, login=login, message=message,
                       action=ENROLMENT_PATH + token, qr_svg=qr_svg(uri),
                       secret_groups=[secret[i:i + 4] for i in range(0, len(secret), 4)])


def qr_svg(text: str) -> str:
    """`text` as a QR code: an inline `<svg>` element (no image source for the page's
    Content-Security-Policy to allow), dark on white whatever the theme."""
    import segno  # only here: the function's other calls do not load it

    svg = segno.make(text, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=False)
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code du secret de votre compte" ', 1)
