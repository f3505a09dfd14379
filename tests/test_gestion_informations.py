"""The public site's content in the back office (`/gestion/informations/`, admin only,
docs/staff.md): a preview writes nothing, a publication stores a version and asks for the
site to be built, a page moved on meanwhile is a 409, a version is restored, bad input is
a French 4xx with nothing written; and the publishing code itself (Pelican) on stored
content: the notice's page, the NOTICES item, a family's dashboard."""

from __future__ import annotations

from html import unescape

import pytest

NOTICE = {"title": "Fermeture exceptionnelle du restaurant", "expires": "2014-12-19",
          "body": "Le restaurant est **fermé** le vendredi 12 décembre.\n\nRéservez {{ delai_jours }} avant."}


def text(response) -> str:
    return unescape(response.body.decode())


def content_items(storage) -> list[dict]:
    return [i for i in storage.all_items() if str(i["pk"]).startswith("CONTENT")]


@pytest.fixture
def published(monkeypatch):
    """The publications asked for (the local publisher replaced by a recorder)."""
    from chalicelib import jobs, publishing

    asked: list[dict] = []
    monkeypatch.setitem(jobs._handlers, publishing.PUBLISH_JOB, asked.append)
    return asked


@pytest.fixture
def admin(staff_client, frozen_clock, published):
    return staff_client("admin")


def test_preview_writes_nothing_and_publishing_stores_a_version_and_asks_for_the_build(admin, storage, published):
    from chalicelib import jobs

    before = storage.all_items()
    preview = admin.post("/gestion/informations", NOTICE)
    assert preview.status_code == 200
    page = text(preview)
    assert "Aperçu (rien n'est encore publié)" in page
    # Pelican's Markdown and the commune's figures, as the public page will show them.
    assert "<strong>fermé</strong>" in page and "Réservez 5 jours avant." in page
    assert storage.all_items() == before

    answer = admin.post("/gestion/informations", {**NOTICE, "publish": "1"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/gestion/informations/publication/?avis=fermeture-exceptionnelle-du-restaurant"
    jobs.drain()
    assert published == [{"generation": 1}]
    current = storage.get("CONTENT", "NOTICE#fermeture-exceptionnelle-du-restaurant")
    assert (current["version"], current["title"], current["meta"]["expires"]) == (1, NOTICE["title"], "2014-12-19")
    assert current["meta"]["date"] == "2014-11-28 12:00"  # the portal's clock, Paris time
    assert storage.get("CONTENT#NOTICE#fermeture-exceptionnelle-du-restaurant", "V#000001")["body"] == NOTICE["body"]

    progress = text(admin.get(answer.headers["Location"]))
    assert "Publication en cours" in progress and '<meta http-equiv="refresh" content="2">' in progress
    listing = text(admin.get("/gestion/informations/"))
    assert NOTICE["title"] in listing and "Publication en cours" in listing
    journal = [i for i in storage.all_items() if i.get("action") == "content_published"]
    assert journal[0]["details"] == {"kind": "notice", "slug": "fermeture-exceptionnelle-du-restaurant", "version": 1}


def test_only_an_admin_opens_the_pages(staff_client, storage):
    for role in ("agent", "regie"):
        other = staff_client(role)
        assert other.get("/gestion/informations/").status_code == 403
        refused = other.post("/gestion/informations", {**NOTICE, "publish": "1"})
        assert refused.status_code == 403 and "Votre rôle ne donne pas accès" in text(refused)
        assert "/gestion/informations/" not in text(other.get("/gestion/"))
    assert content_items(storage) == []


def test_an_edit_a_conflict_and_a_restored_version(admin, storage, published):
    admin.post("/gestion/informations", {**NOTICE, "publish": "1"})
    path = "/gestion/informations/avis/fermeture-exceptionnelle-du-restaurant/"
    form = text(admin.get(path))
    assert 'name="version" value="1"' in form and "Le restaurant est **fermé**" in form

    edited = admin.post(path, {**NOTICE, "body": "Finalement ouvert.", "version": "1", "publish": "1"})
    assert edited.status_code == 303
    late = admin.post(path, {**NOTICE, "body": "Mon texte à moi.", "version": "1", "publish": "1"})
    assert late.status_code == 409 and "publiée par quelqu'un d'autre" in text(late)
    assert storage.get("CONTENT", "NOTICE#fermeture-exceptionnelle-du-restaurant")["body"] == "Finalement ouvert."

    versions = text(admin.get(path))
    assert versions.count("Restaurer cette version</button>") == 1  # version 1; version 2 is online
    restored = admin.post("/gestion/informations/restaurer", {
        "kind": "notice", "slug": "fermeture-exceptionnelle-du-restaurant", "restore": "1", "version": "2"})
    assert restored.status_code == 303
    current = storage.get("CONTENT", "NOTICE#fermeture-exceptionnelle-du-restaurant")
    assert (current["version"], current["body"], current["restored_from"]) == (3, NOTICE["body"], 1)
    assert "3 (reprend la 1)" in text(admin.get(path))
    from chalicelib import jobs

    assert jobs.drain()  # the publication is asked for after the answer (chalicelib/jobs.py)
    assert [p["generation"] for p in published] == [1, 2, 3]


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"title": " "}, 400, "Le titre est obligatoire."),
    ({"body": ""}, 400, "Le texte est obligatoire."),
    ({"expires": "19/12/2014"}, 400, "n'est pas une date (AAAA-MM-JJ)"),
    ({"expires": "2014-11-27"}, 400, "La date d'expiration est passée"),
    ({"body": "Voir <script>alert(1)</script>"}, 400, "contient du HTML (« <script> »)"),
    ({"body": "[ici](javascript:alert(1))"}, 400, "contient du HTML"),
    ({"body": "Délai : {{ delai }}"}, 400, "« {{ delai }} » est inconnu"),
    ({"title": "x" * 151}, 400, "Le titre dépasse 150 caractères."),
])
def test_bad_input_is_a_french_4xx_with_nothing_written(admin, storage, published, change, status, message):
    before = storage.all_items()
    answer = admin.post("/gestion/informations", {**NOTICE, **change, "publish": "1"})
    assert answer.status_code == status and message in text(answer)
    assert storage.all_items() == before and published == []


def test_unknown_pages_and_versions(admin, storage):
    assert admin.get("/gestion/informations/guide/nulle-part/").status_code == 404
    assert admin.post("/gestion/informations/guide/a..b/", {**NOTICE, "version": "1"}).status_code == 404
    admin.post("/gestion/informations", {**NOTICE, "publish": "1"})
    missing = admin.post("/gestion/informations/restaurer", {
        "kind": "notice", "slug": "fermeture-exceptionnelle-du-restaurant", "restore": "7", "version": "1"})
    assert missing.status_code == 404 and "Cette version n'existe pas." in text(missing)
    no_version = admin.post("/gestion/informations/avis/fermeture-exceptionnelle-du-restaurant/", {**NOTICE})
    assert no_version.status_code == 400 and "rechargez la page" in text(no_version)


def test_publishing_builds_the_stored_content_with_pelican_and_the_dashboards_show_the_notice(
        client, storage, families, frozen_clock, tmp_path, shipped_commune_file, monkeypatch):
    """The publishing code (Pelican) on stored content: content/ seeds the store, a saved
    notice is built into its page, the NOTICES item holds it, a family's dashboard too."""
    from datetime import datetime

    import boto3
    from chalicelib import jobs
    from chalicelib.site_store import NOTICE as KIND
    from chalicelib.site_store import SiteStore
    from chalicelib.table import bucket_name

    from portail import publishing

    now = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
    assert publishing.seed(storage, now) == 11  # content/: 8 guide pages, 3 notices
    assert publishing.seed(storage, now) == 0  # never twice
    store = SiteStore(storage)
    store.save(KIND, "fermeture", NOTICE["title"], NOTICE["body"], {"date": "2014-11-28 12:00",
               "expires": "2014-12-19"}, expected=0, by="admin", now=now)
    served = tmp_path / "servi"
    generation = publishing.publish_stored(storage, now, lambda built: publishing.sync_folder(built, served),
                                           site_url="http://127.0.0.1:8000")
    assert generation == 1
    page = (served / "informations" / "fermeture" / "index.html").read_text()
    assert "<strong>fermé</strong>" in page and "Réservez 5 jours avant." in page
    assert (served / "guide" / "regles" / "index.html").is_file()
    notices = storage.get("NOTICES", "CURRENT")["notices"]
    assert notices[0]["url"] == "/informations/fermeture/" and notices[0]["title"] == NOTICE["title"]
    assert jobs.drain()
    assert store.state()["published"] == 1
    key = storage.family_state("100").profile["page_key"]
    dashboard = boto3.client("s3").get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/index.html")
    assert NOTICE["title"] in dashboard["Body"].read().decode()
    # A second run for the same publication finds it built: nothing to do.
    assert publishing.publish_stored(storage, now, lambda built: pytest.fail("built twice"), site_url=None) is None
    # A guide page changes no notice: published at once, no family dashboard rendered again.
    from chalicelib.site_store import GUIDE

    guide = next(i for i in store.pages() if i["sk"] == "GUIDE#regles")
    store.save(GUIDE, "regles", guide["title"], guide["body"] + "\n\nUne phrase de plus.", guide.get("meta") or {},
               expected=int(guide["version"]), by="admin", now=now)
    slices: list[int] = []
    monkeypatch.setattr(publishing.publishing, "dashboards_after", slices.append)
    assert publishing.publish_stored(storage, now, lambda built: publishing.sync_folder(built, served),
                                     site_url="http://127.0.0.1:8000") == 2
    assert "Une phrase de plus." in (served / "guide" / "regles" / "index.html").read_text()
    assert store.state()["published"] == 2 and slices == []
