"""The public site's content in the back office (docs/staff.md), `admin` only:
`/gestion/informations/` (the notices, the guide's pages, a new notice), a page's
editing (`…/avis/<slug>/`, `…/guide/<slug>/`: preview, publish, its versions and
« Restaurer cette version ») and the publication's progress (`…/publication/`).

A preview writes nothing; a publication stores a new version (chalicelib/site_store.py)
and asks the publishing code to build the site with Pelican (chalicelib/publishing.py).
"""

from __future__ import annotations

from urllib.parse import quote

from chalicelib.refusals import Refusal
from chalicelib.routes.staff_calls import STAFF_BODY_TYPES, StaffCall, StaffRoutes

routes = StaffRoutes(__name__)

LIST_PAGE = "/gestion/informations/"
STATUS_PAGE = "/gestion/informations/publication/"
EDIT_PAGES = {"notice": "/gestion/informations/avis/{}/", "guide": "/gestion/informations/guide/{}/"}
PUBLIC_PAGES = {"notice": "/informations/{}/", "guide": "/guide/{}/"}
REFRESH_SECONDS = 2


def _store():
    from chalicelib.dependencies import storage
    from chalicelib.site_store import SiteStore

    return SiteStore(storage())


def _texts(call: StaffCall) -> dict[str, str]:
    from chalicelib.dependencies import commune
    from chalicelib.site_texts import rule_texts

    return rule_texts(commune(), call.now)


def _today(call: StaffCall):
    from chalicelib.dependencies import commune

    return call.now.astimezone(commune().tz).date()


def _stored_page(kind: str, slug: str) -> dict:
    from chalicelib.site_store import checked_slug

    page = _store().page(kind, checked_slug(slug))
    if page is None:
        raise Refusal(404, "unknown_page", "Cette page n'existe pas (ou plus).")
    return page


def _state_view(call: StaffCall) -> dict:
    from chalicelib.dependencies import commune
    from chalicelib.formatting import french_day, time_of_day
    from chalicelib.site_store import publishing_state

    state = publishing_state(_store().state())
    when = state["published_at"]
    if when:
        from datetime import datetime

        local = datetime.fromisoformat(str(when)).astimezone(commune().tz)
        state["published_text"] = f"le {french_day(local.date())} à {time_of_day(local.time())}"
    return state


# --- the list and a new notice --------------------------------------------------------------------

@routes.route("/gestion/informations", methods=["GET"])
@routes.staff_call("informations")
def informations_page(call: StaffCall):
    return _list(call)


def _list(call: StaffCall, *, form: dict | None = None, preview: tuple[str, str] | None = None, status: int = 200):
    from datetime import datetime

    from chalicelib.site_store import GUIDE, NOTICE, PUBLISHING

    items = [i for i in _store().pages() if i["sk"] != PUBLISHING]
    guide = sorted((i for i in items if i["kind"] == GUIDE),
                   key=lambda i: (int(i.get("meta", {}).get("order", 999) or 999), i["slug"]))
    notices = sorted((i for i in items if i["kind"] == NOTICE),
                     key=lambda i: str(i.get("meta", {}).get("date", "")), reverse=True)
    today = _today(call)
    for notice in notices:
        expires = notice.get("meta", {}).get("expires")
        notice["expired"] = bool(expires) and datetime.fromisoformat(str(expires)[:10]).date() < today
    return call.render("gestion/informations.html", status=status, guide=guide, notices=notices,
                       state=_state_view(call), form=form or {"title": "", "body": "", "expires": ""},
                       preview=preview, edit_pages=EDIT_PAGES, today=today.isoformat())


@routes.route("/gestion/informations", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("informations")
def new_notice(call: StaffCall):
    """`title`, `body`, `expires`: the preview; with `publish=1`, a new notice published."""
    from chalicelib.site_store import NOTICE, parse_fields, preview_html

    texts = _texts(call)
    form = {"title": call.field("title"), "body": call.field("body"), "expires": call.field("expires")}
    fields = parse_fields(NOTICE, form["title"], form["body"], form["expires"], today=_today(call), texts=texts)
    if call.field("publish") != "1":
        return _list(call, form=form, preview=preview_html(fields, texts))
    store = _store()
    slug = store.new_notice_slug(fields.title)
    local = call.now.astimezone(_tz())
    meta = {"date": local.strftime("%Y-%m-%d %H:%M"), "expires": fields.expires}
    version = store.save(NOTICE, slug, fields.title, fields.body, meta, expected=0, by=call.staff.login, now=call.now)
    return _published(call, NOTICE, slug, version)


def _tz():
    from chalicelib.dependencies import commune

    return commune().tz


def _published(call: StaffCall, kind: str, slug: str, version: int, action: str = "content_published"):
    from chalicelib.publishing import request_publication

    call.audit(action, kind=kind, slug=slug, version=version)
    request_publication(int(_store().state().get("requested", 0)))
    return call.redirect(f"{STATUS_PAGE}?{'avis' if kind == 'notice' else 'guide'}={quote(slug)}")


# --- a page: its editing and its versions ------------------------------------------------------------

@routes.route("/gestion/informations/avis/{slug}", methods=["GET"])
@routes.staff_call("informations")
def notice_page(call: StaffCall, slug: str):
    return _edit(call, "notice", slug)


@routes.route("/gestion/informations/guide/{slug}", methods=["GET"])
@routes.staff_call("informations")
def guide_page(call: StaffCall, slug: str):
    return _edit(call, "guide", slug)


@routes.route("/gestion/informations/avis/{slug}", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("informations")
def save_notice(call: StaffCall, slug: str):
    return _save(call, "notice", slug)


@routes.route("/gestion/informations/guide/{slug}", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("informations")
def save_guide_page(call: StaffCall, slug: str):
    return _save(call, "guide", slug)


def _edit(call: StaffCall, kind: str, slug: str, *, form: dict | None = None, preview=None):
    from chalicelib.site_store import VERSIONS_SHOWN

    page = _stored_page(kind, slug)
    meta = page.get("meta", {})
    if form is None:
        form = {"title": page["title"], "body": page["body"], "expires": str(meta.get("expires") or "")[:10],
                "version": page["version"]}
    versions = _store().versions(kind, page["slug"])[:VERSIONS_SHOWN]
    return call.render("gestion/informations_page.html", kind=kind, item=page, form=form, preview=preview,
                       versions=versions, state=_state_view(call), today=_today(call).isoformat(),
                       action=EDIT_PAGES[kind].format(page["slug"]), public=PUBLIC_PAGES[kind].format(page["slug"]))


def _save(call: StaffCall, kind: str, slug: str):
    from chalicelib.site_store import NOTICE, parse_expected, parse_fields, preview_html

    page = _stored_page(kind, slug)
    texts = _texts(call)
    form = {"title": call.field("title"), "body": call.field("body"), "expires": call.field("expires"),
            "version": call.field("version")}
    expected = parse_expected(form["version"])
    fields = parse_fields(kind, form["title"], form["body"], form["expires"], today=_today(call), texts=texts)
    if call.field("publish") != "1":
        return _edit(call, kind, slug, form=form, preview=preview_html(fields, texts))
    meta = dict(page.get("meta", {}))
    if kind == NOTICE:
        meta["expires"] = fields.expires
        if fields.body != page["body"]:  # the summary follows the text written now
            meta.pop("description", None)
            meta.pop("summary", None)
    version = _store().save(kind, page["slug"], fields.title, fields.body, meta, expected=expected,
                            by=call.staff.login, now=call.now)
    return _published(call, kind, page["slug"], version)


@routes.route("/gestion/informations/restaurer", methods=["POST"], content_types=STAFF_BODY_TYPES)
@routes.staff_call("informations")
def restore(call: StaffCall):
    """`kind` (notice|guide), `slug`, `restore` (the version to publish again), `version`
    (the current version the page was read at)."""
    from chalicelib.site_store import KINDS, parse_expected

    kind = call.field("kind")
    if kind not in KINDS:
        raise Refusal(400, "invalid_kind", "Type de page inconnu : « notice » ou « guide ».")
    page = _stored_page(kind, call.field("slug"))
    try:
        number = int(call.field("restore"))
    except ValueError:
        raise Refusal(400, "invalid_version", "La version à restaurer manque.") from None
    version = _store().restore(kind, page["slug"], number, expected=parse_expected(call.field("version")),
                               by=call.staff.login, now=call.now)
    return _published(call, kind, page["slug"], version, "content_restored")


# --- the publication's progress -----------------------------------------------------------------------

@routes.route("/gestion/informations/publication", methods=["GET"])
@routes.staff_call("informations")
def publication_page(call: StaffCall):
    """« Publication en cours » (refreshed every REFRESH_SECONDS, without JavaScript) until
    the site and the family dashboards are published, then « Publiée le … »."""
    from chalicelib.site_store import checked_slug

    kind = "notice" if call.query("avis") else "guide" if call.query("guide") else None
    slug = checked_slug(call.query("avis") or call.query("guide")) if kind else None
    return call.render("gestion/informations_publication.html", state=_state_view(call),
                       refresh=REFRESH_SECONDS, public=PUBLIC_PAGES[kind].format(slug) if kind else None,
                       edit=EDIT_PAGES[kind].format(slug) if kind else None)
