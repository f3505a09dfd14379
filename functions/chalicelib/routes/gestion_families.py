"""The families' pages of the back office (page `familles`, docs/http-api.md): the search
and a family's file, and the forms of the file. Each form is checked whole before any
write (a French 4xx page otherwise), then answered 303 back to the file at the anchor of
its result. The work is chalicelib/staff/families.py's (`FamilyDesk`); the file's view
model chalicelib/staff/family_file.py's. Imported lazily: the function's cold start
loads only this blueprint.
"""

from __future__ import annotations

from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

PAGE = "familles"
BASE = "/gestion/familles"


def _desk():
    from chalicelib.dependencies import family_desk

    return family_desk()


def _rank(call: StaffCall) -> int:
    from chalicelib.refusals import Refusal

    value = call.field("rank") or "1"
    if value not in ("1", "2"):
        raise Refusal(400, "invalid_rank", "Responsable inconnu : rechargez la fiche et recommencez.")
    return int(value)


def _file(number: str) -> str:
    return f"{BASE}/{number}/"


# Routes never end with "/" (Chalice refuses it): these answer the addresses with one.
@routes.route(BASE, methods=["GET"])
@routes.staff_call(PAGE)
def search_page(call: StaffCall):
    """`?q=…`: the families found; without a query, the form alone."""
    query = call.query("q").strip()
    result = _desk().search(query) if query else None
    return call.render("gestion/familles.html", query=query[:200], result=result)


@routes.route(BASE + "/{family_number}", methods=["GET"])
@routes.staff_call(PAGE)
def family_page(call: StaffCall, family_number: str):
    """The family's file; `?enfant=<child id>&mois=AAAA-MM` chooses the grid shown."""
    from chalicelib import clock
    from chalicelib.staff.family_file import family_file

    desk = _desk()
    state = desk.state(family_number)
    view = family_file(state, desk.commune, call.now, child_id=call.query("enfant"), month=call.query("mois"),
                       calendar=desk.bookings.calendar, frozen=clock.is_frozen())
    return call.render("gestion/famille.html", **view)


@routes.route(BASE + "/{family_number}/coordonnees", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call(PAGE)
def contact(call: StaffCall, family_number: str):
    """`rank`, `email`, `phone`."""
    _desk().set_contact(family_number, _rank(call), call.field("email"), call.field("phone"), call.staff.login,
                        call.now)
    return call.redirect(_file(family_number) + "#coordonnees-enregistrees")


@routes.route(BASE + "/{family_number}/adresse", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call(PAGE)
def address(call: StaffCall, family_number: str):
    """`address`, `postal_code`, `city`."""
    _desk().set_address(family_number, call.field("address"), call.field("postal_code"), call.field("city"),
                        call.staff.login, call.now)
    return call.redirect(_file(family_number) + "#adresse-enregistree")


@routes.route(BASE + "/{family_number}/tranche", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call(PAGE)
def bracket(call: StaffCall, family_number: str):
    """`quotient_bracket`: a code of commune.toml's brackets."""
    _desk().set_bracket(family_number, call.field("quotient_bracket"), call.staff.login, call.now)
    return call.redirect(_file(family_number) + "#tranche-enregistree")


@routes.route(BASE + "/{family_number}/inscriptions", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call(PAGE)
def services(call: StaffCall, family_number: str):
    """`child_id`, `service` (repeated: the services the child is enrolled in)."""
    _desk().set_services(family_number, call.field("child_id"), call.fields("service"), call.staff.login, call.now)
    return call.redirect(_file(family_number) + "#inscriptions-enregistrees")


@routes.route(BASE + "/{family_number}/reservations", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call(PAGE)
def bookings(call: StaffCall, family_number: str):
    """`child_id`, `item` (repeated: « AAAA-MM-JJ|SERVICE|action »), `rank`, `override`
    (« passer outre la date limite »), `reason` (required with it), `month` (the grid's,
    where the answer returns)."""
    from urllib.parse import quote

    from chalicelib.refusals import Refusal

    child_id = call.field("child_id")
    items = call.fields("item")
    if not items:
        raise Refusal(400, "invalid_request", "Cochez au moins un jour à réserver, annuler ou déclarer absent.")
    _desk().book(family_number, child_id, items, _rank(call), call.field("override") == "1", call.field("reason"),
                 call.staff.login, call.now)
    month = call.field("month")
    back = f"?enfant={quote(child_id, safe='')}" + (f"&mois={quote(month, safe='')}" if month else "")
    return call.redirect(_file(family_number) + back + "#resultat")


@routes.route(BASE + "/{family_number}/mot-de-passe", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call(PAGE)
def password_link(call: StaffCall, family_number: str):
    """`rank`: « Envoyer un lien de mot de passe », the mail of « Mot de passe oublié »."""
    _desk().send_password_link(family_number, _rank(call), call.staff.login, call.now)
    return call.redirect(_file(family_number) + "#lien-envoye")
