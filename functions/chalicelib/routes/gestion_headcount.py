"""The kitchen's headcount and the paper plannings in the back office (docs/staff.md):
`/gestion/effectifs/` (a day, a week, its CSV, its printed sheets) and
`/gestion/plannings/` (upload, preview, confirmation). The rules are in
chalicelib/staff/headcount.py and chalicelib/staff/plannings.py, which `portail
headcount` and `portail plannings import` call too; imported in the views, so that the
function's cold start does not grow.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, timedelta

from chalice import Response

from chalicelib.refusals import Refusal
from chalicelib.routes.gestion import DaySummary, day_summary
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

# A month of paper plannings for a whole commune is a few thousand lines of about 40
# bytes; the confirmation carries the file back in the form (base64: a third more), and
# a staff form is bounded at 1 MB (routes/staff_calls.py).
MAX_PLANNING_BYTES = 512 * 1024
HEADCOUNT_PAGE = "/gestion/effectifs/"
PLANNINGS_PAGE = "/gestion/plannings/"


def _headcount():
    from chalicelib.dependencies import bookings, commune, storage
    from chalicelib.staff.headcount import Headcount

    return Headcount(storage(), commune(), bookings().calendar)


def _today(call: StaffCall) -> date:
    from chalicelib.dependencies import commune

    return call.now.astimezone(commune().tz).date()


# --- /gestion/effectifs/ -----------------------------------------------------------------------------

@routes.route("/gestion/effectifs", methods=["GET"])
@routes.staff_call("effectifs")
def headcount_page(call: StaffCall):
    """`?date=AAAA-MM-JJ` (default: today) or `?week=AAAA-Wnn`, `&service=` one service,
    `&format=csv` the rows of `portail headcount --csv`. A bad value: a French 400."""
    from chalicelib.formatting import french_day
    from chalicelib.staff import headcount as hc

    service = call.query("service") or None
    output = call.query("format")
    if output not in ("", "csv", "html"):
        raise Refusal(400, "invalid_format", f"Format « {output} » inconnu : « csv » ou rien (la page).")
    week = call.query("week")
    if week:
        days = hc.week_days(week)
        found = _headcount().week(days, service)
        name, title = week, f"semaine du {french_day(days[0])} au {french_day(days[-1])}"
    else:
        text = call.query("date")
        day = hc.parse_day(text) if text else _today(call)
        found = _headcount().day(day, service)
        days, name, title = [day], day.isoformat(), french_day(day)
    if output == "csv":
        call.audit("headcount_exported", **{"week" if week else "date": name, "service": service})
        return Response(body=hc.csv_text(found), status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="effectifs-{name}.csv"'})
    return call.render("gestion/effectifs.html", **_headcount_view(call, found, days, week, service, title))


def _headcount_view(call: StaffCall, found, days: list[date], week: str, service: str | None, title: str) -> dict:
    """What the template shows: each service's sheet, the week's grid, the links around."""
    from urllib.parse import urlencode

    from chalicelib.dependencies import commune
    from chalicelib.formatting import french_day
    from chalicelib.staff.headcount import week_of

    def address(**query) -> str:
        return HEADCOUNT_PAGE + "?" + urlencode({k: v for k, v in {**query, "service": service or ""}.items() if v})

    sheets: dict[str, list] = {}
    for service_day in found:
        sheets.setdefault(service_day.service.code, []).append(service_day)
    if week:
        before, after = days[0] - timedelta(days=7), days[0] + timedelta(days=7)
        neighbours = [(address(week=week_of(before)), "Semaine précédente"),
                      (address(week=week_of(after)), "Semaine suivante"),
                      (address(date=_today(call).isoformat()), "Aujourd'hui")]
        csv_url = address(week=week, format="csv")
    else:
        day = days[0]
        neighbours = [(address(date=(day - timedelta(days=1)).isoformat()), f"Veille ({french_day(day - timedelta(days=1))})"),
                      (address(date=(day + timedelta(days=1)).isoformat()), f"Lendemain ({french_day(day + timedelta(days=1))})"),
                      (address(week=week_of(day)), "Toute la semaine")]
        csv_url = address(date=day.isoformat(), format="csv")
    grid = [(s, [next((d for d in sheets.get(s.code, []) if d.day == day), None) for day in days])
            for s in commune().services if s.code in sheets] if week else []
    return {"title": title, "week": week, "days": days, "day_value": days[0].isoformat(), "service": service or "",
            "services": commune().services, "sheets": [(code, sheet) for code, sheet in sheets.items()],
            "grid": grid, "neighbours": neighbours, "csv_url": csv_url, "french_day": french_day}


@day_summary("effectifs")
def headcount_summary(call: StaffCall) -> DaySummary:
    """Today's and tomorrow's numbers per open service (one Query each, no names)."""
    from chalicelib.formatting import french_day

    headcount = _headcount()
    lines = []
    for when, day in (("Aujourd'hui", _today(call)), ("Demain", _today(call) + timedelta(days=1))):
        services = [s for s in headcount.commune.services if headcount.calendar.is_open(day, s)]
        found = headcount.read([(s, day) for s in services], with_names=False)
        numbers = ", ".join(f"{d.service.label} {len(d.expected)}" + (f" / {d.capacity}" if d.capacity else "")
                            + (f" (+{len(d.waiting)} en attente)" if d.waiting else "") for d in found)
        lines.append(f"{when}, {french_day(day)} : {numbers or 'aucun service ouvert'}.")
    return DaySummary("Effectifs (enfants attendus / capacité)", tuple(lines), HEADCOUNT_PAGE,
                      "Voir et imprimer les effectifs")


# --- /gestion/plannings/ -----------------------------------------------------------------------------

@routes.route("/gestion/plannings", methods=["GET"])
@routes.staff_call("plannings")
def plannings_form(call: StaffCall):
    """The upload form, the columns expected and this month's deadline."""
    return call.render("gestion/plannings.html", **_plannings_context(call))


@routes.route("/gestion/plannings", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("plannings")
def plannings_post(call: StaffCall):
    """`fichier` (multipart): the preview, nothing written. `confirm=1` with `contenu`
    (the file, base64) and `nom`: checked again, then imported (nothing if a line is bad);
    each family's pages rendered again, one journal entry per family."""
    if call.field("confirm") == "1":
        return _confirm(call)
    upload = call.upload("fichier")
    if upload is None:
        raise Refusal(400, "file_required", "Choisissez le fichier du planning (CSV) avant d'envoyer.")
    name, content = upload
    return _preview(call, _file_name(name), _bounded(content))


def _preview(call: StaffCall, name: str, content: bytes, *, message: str = "", status: int | None = None):
    from chalicelib.dependencies import bookings, commune, storage
    from chalicelib.staff.plannings import Plannings

    late = call.field("late") == "1"
    preview = Plannings(storage(), commune(), bookings()).preview(content, call.now, file=name, late=late)
    return call.render("gestion/plannings.html", status=status or (200 if not preview.errors else 422),
                       preview=preview, file_name=name, message=message,
                       content_b64=base64.urlsafe_b64encode(content).decode("ascii"),
                       **_plannings_context(call))


def _confirm(call: StaffCall):
    from chalicelib.dependencies import bookings, commune, storage
    from chalicelib.staff.csv_input import ImportRejected
    from chalicelib.staff.plannings import Plannings, PlanningsTooLate

    name = _file_name(call.field("nom"))
    try:
        content = _bounded(base64.b64decode(call.field("contenu").encode("ascii"), altchars=b"-_", validate=True))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Refusal(400, "invalid_request", "Le fichier confirmé est illisible : envoyez-le de nouveau.") from None
    late = call.field("late") == "1"
    try:
        applied = Plannings(storage(), commune(), bookings()).apply(content, call.now, file=name, late=late)
    except PlanningsTooLate as error:
        return _preview(call, name, content, message=error.message + " Cochez « planning arrivé en retard » pour "
                        "le saisir quand même.", status=409)
    except ImportRejected:
        return _preview(call, name, content, message="Le fichier a des lignes à corriger : rien n'a été importé.",
                        status=422)
    from chalicelib.staff.plannings import count

    for family, lines in applied.by_family():
        call.audit("plannings_imported", family_number=family, file=name, month=applied.month.isoformat(),
                   late=late, **count(lines))
    stale = _export_pages(applied, call.now)
    return call.render("gestion/plannings.html", applied=applied, file_name=name, stale=stale,
                       **_plannings_context(call))


def _export_pages(applied, now) -> list[str]:
    """Each family's pages that show its new days; returns the families whose pages could
    not be rendered (their bookings stand: the next action or the first login of a day renders them)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.dependencies import family_pages, storage
    from chalicelib.pages import pages_showing_days

    stale = []
    for family, lines in applied.by_family():
        rows = [x.row for x in lines]
        names = {page for child in {r.child for r in rows}
                 for page in pages_showing_days(child, [r.day for r in rows if r.child == child])}
        try:
            family_pages().export(storage(), family, now, only=sorted(names))
        except (BotoCoreError, ClientError):
            stale.append(family)
    return stale


def _plannings_context(call: StaffCall) -> dict:
    from chalicelib.calendar_rules import month_start, plannings_deadline
    from chalicelib.dependencies import commune
    from chalicelib.formatting import french_day, french_month
    from chalicelib.staff.plannings import COLUMNS, example_line

    today = _today(call)
    month = month_start(today, 1)
    deadline = plannings_deadline(today, month)
    return {"month_label": french_month(month), "deadline_label": french_day(deadline), "too_late": today > deadline,
            "columns": COLUMNS, "example": example_line(commune(), month), "max_kb": MAX_PLANNING_BYTES // 1024, "french_day": french_day}


def _bounded(content: bytes) -> bytes:
    if len(content) > MAX_PLANNING_BYTES:
        raise Refusal(413, "file_too_large", f"Le fichier dépasse {MAX_PLANNING_BYTES // 1024} Ko : "
                                             "découpez le planning en plusieurs fichiers.")
    return content


def _file_name(name: str) -> str:
    """The file's own name (no folder a browser may send), for the messages: at most 100 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:100] or "planning.csv"
