"""Notices for all parents: content/notices/*.md read at build time,
stored as ONE item (NOTICES/CURRENT), shown on every family's dashboard; an expired one
is gone from a family's pages at its first login of the day (chalicelib/page_freshness.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from chalicelib.pages import NOTICES_PK, NOTICES_SK, FamilyPages, current_notices

from bench.round_trips import RoundTrips
from portail.notices import NoticeError, read_notices, store_notices
from tests.conftest import GUIDE_NOW, ROOT
from tests.test_family_pages import text

CHRISTMAS = """Title: Vacances de Noël
Date: 2014-11-24 09:00
Expires: 2014-12-01
Description: Réservez la rentrée au moins {{ delai_jours }} avant.

Le texte complet.
"""
CIRCUS = """Title: Sortie au cirque
Date: 2014-11-26

Le **12 décembre**, les enfants de la garderie vont au [cirque](/guide/).

Second paragraphe.
"""


def write(directory: Path, name: str, text_: str) -> Path:
    path = directory / name
    path.write_text(text_, encoding="utf-8")
    return path


@pytest.fixture
def notices_dir(tmp_path):
    write(tmp_path, "2014-11-24-vacances-de-noel.md", CHRISTMAS)
    write(tmp_path, "2014-11-26-cirque.md", CIRCUS)
    write(tmp_path, "2014-11-27-brouillon.md", "Title: Pas encore\nDate: 2014-11-27\nStatus: draft\n\nTexte.\n")
    write(tmp_path, "2014-11-01-rentree.md", "Title: Rentrée\nDate: 2014-09-01\nSlug: la-rentree\nExpires: 2014-11-27 18:30\n\nTexte.\n")
    return tmp_path


def test_the_notices_metadata(commune, notices_dir):
    found = read_notices(commune, GUIDE_NOW, notices_dir)
    assert found == [
        {"title": "Sortie au cirque", "date": "2014-11-26", "expires": None,
         "summary": "Le 12 décembre, les enfants de la garderie vont au cirque.", "url": "/informations/cirque/"},
        # Kept up to the end of its Expires day (as the public site does), Paris time;
        # the figures of commune.toml filled in.
        {"title": "Vacances de Noël", "date": "2014-11-24", "expires": "2014-12-01T22:59:59.999999+00:00",
         "summary": "Réservez la rentrée au moins 5 jours avant.", "url": "/informations/vacances-de-noel/"},
    ]  # the draft is left out; « Rentrée » expired on 27 November at 18:30
    assert [n["url"] for n in read_notices(commune, datetime.fromisoformat("2014-11-27T18:30:00+01:00"),
                                           notices_dir)][-1] == "/informations/la-rentree/"


def test_a_notice_that_cannot_be_read_names_its_file(commune, tmp_path):
    write(tmp_path, "2014-11-26-sans-titre.md", "Date: 2014-11-26\n\nTexte.\n")
    with pytest.raises(NoticeError, match="2014-11-26-sans-titre.md : la ligne « Title: … » manque"):
        read_notices(commune, GUIDE_NOW, tmp_path)
    (tmp_path / "2014-11-26-sans-titre.md").unlink()
    write(tmp_path, "2014-11-26-date.md", "Title: T\nDate: 2014-11-26\nExpires: bientôt\n\nTexte.\n")
    with pytest.raises(NoticeError, match="2014-11-26-date.md : Expires : « bientôt »"):
        read_notices(commune, GUIDE_NOW, tmp_path)


def test_the_notices_of_the_repository_are_readable(shipped_commune):
    """content/notices/ as the public site reads them, with the commune's own commune.toml."""
    found = read_notices(shipped_commune, GUIDE_NOW, ROOT / "content" / "notices")
    assert found and all(n["title"] and n["url"].startswith("/informations/") for n in found)


def test_one_item_holds_them_and_the_clock_filters_them(storage, commune, notices_dir):
    assert store_notices(storage, commune, GUIDE_NOW, notices_dir) == 2
    item = storage.get(NOTICES_PK, NOTICES_SK)
    assert [n["title"] for n in item["notices"]] == ["Sortie au cirque", "Vacances de Noël"]
    # Stored again: the item is replaced, never added to.
    (notices_dir / "2014-11-26-cirque.md").unlink()
    assert store_notices(storage, commune, GUIDE_NOW, notices_dir) == 1
    assert [n["title"] for n in storage.get(NOTICES_PK, NOTICES_SK)["notices"]] == ["Vacances de Noël"]
    last_minute = datetime.fromisoformat("2014-12-01T23:59:59+01:00")
    assert [n["title"] for n in current_notices(storage.get(NOTICES_PK, NOTICES_SK), last_minute)] == ["Vacances de Noël"]
    assert current_notices(storage.get(NOTICES_PK, NOTICES_SK), datetime.fromisoformat("2014-12-02T00:00:00+01:00")) == []
    assert current_notices(None, GUIDE_NOW) == []


@pytest.fixture
def pages(storage, commune):
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="pages", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return FamilyPages(s3, "pages", commune, "secret-de-test")


def dashboard(pages, key: str) -> str:
    return text(pages.s3.get_object(Bucket="pages", Key=f"famille/{key}/index.html")["Body"].read().decode())


def test_every_familys_dashboard_shows_them_read_once_per_run(storage, families, commune, notices_dir, pages):
    store_notices(storage, commune, GUIDE_NOW, notices_dir)
    trips = RoundTrips(storage.client)
    report = pages.export_all(storage, GUIDE_NOW)
    assert report.families == 2 and report.failed == []
    assert trips.by_operation["GetItem"] == 1  # the notices, once for every family
    for family in ("A", "B"):
        words = dashboard(pages, families[family]["page_key"])
        assert ("Informations Sortie au cirque (26/11/2014) Le 12 décembre, les enfants de la garderie vont au "
                "cirque. Vacances de Noël (24/11/2014) Réservez la rentrée au moins 5 jours avant.") in words
    html = pages.s3.get_object(Bucket="pages", Key=f"famille/{families['A']['page_key']}/index.html")["Body"].read()
    assert b'<a href="/informations/cirque/">Sortie au cirque</a>' in html
    # A write that does not touch the dashboard does not read them.
    trips.reset()
    pages.export(storage, "100", GUIDE_NOW, only=["compte"])
    assert trips.by_operation["GetItem"] == 0


def test_an_expired_notice_disappears_at_the_first_login_of_the_day(client, storage, families, commune,
                                                                   notices_dir, frozen_clock):
    """The pages are brought up to the day at the family's first login of the day, not by
    a nightly re-export of every family: the expired notice, the dashboard's date; a page
    the days did not change is not written again, nor anything at a second login."""
    from app import family_pages
    from chalicelib.table import bucket_name

    from tests.test_page_cookies import log_in

    store_notices(storage, commune, GUIDE_NOW, notices_dir)
    pages = family_pages()
    pages.export_all(storage, GUIDE_NOW)
    key = families["A"]["page_key"]

    def words() -> str:
        body = pages.s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{key}/index.html")["Body"].read()
        return text(body.decode())

    assert "Vacances de Noël" in words() and "vendredi 28 novembre 2014" in words()
    puts: list[str] = []
    pages.s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: puts.append(request.url))
    # The day after the Expires day (1 December): alice logs in.
    frozen_clock("2014-12-02T08:00:00+01:00")
    log_in(client)
    assert "Vacances de Noël" not in words() and "Sortie au cirque" in words()
    assert "À la date du mardi 2 décembre 2014" in words()
    # Only the pages the days changed (each PUT is paid): not « Mon compte », nor family B's.
    assert puts and not any("/compte/" in url or families["B"]["page_key"] in url for url in puts)
    written = len(puts)
    log_in(client)  # the same day: nothing read but the profile, nothing written
    assert len(puts) == written


def test_a_session_left_open_past_midnight_brings_the_pages_to_the_new_day(client, storage, families,
                                                                           frozen_clock):
    """The page cookies' renewal of a session begun the day before refreshes the pages
    once; a renewal the same day reads nothing."""
    from app import family_pages
    from chalicelib.table import bucket_name

    from tests.test_page_cookies import log_in, renew

    pages = family_pages()
    key = families["A"]["page_key"]

    def dashboard() -> str:
        return text(pages.s3.get_object(Bucket=bucket_name("pages"),
                                        Key=f"famille/{key}/index.html")["Body"].read().decode())

    frozen_clock("2014-12-02T23:50:00+01:00")
    cookie, _ = log_in(client)
    assert "À la date du mardi 2 décembre 2014" in dashboard()
    puts: list[str] = []
    pages.s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: puts.append(request.url))
    frozen_clock("2014-12-02T23:55:00+01:00")
    assert renew(client, cookie).status_code == 200 and not puts
    frozen_clock("2014-12-03T00:10:00+01:00")
    assert renew(client, cookie).status_code == 200
    assert "À la date du mercredi 3 décembre 2014" in dashboard()
    written = len(puts)
    frozen_clock("2014-12-03T00:15:00+01:00")
    assert renew(client, cookie).status_code == 200 and len(puts) == written


def nightly(client, scheduled_at: str):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    return client.lambda_.invoke("nightly-reminders", {**event, "time": scheduled_at})


def test_the_nightly_run_runs_at_night_in_paris():
    from app import NIGHTLY_REMINDERS, app

    source = next(s for s in app.event_sources if s.name == "nightly-reminders")
    # Every 5 minutes from 01:00 to 01:55 UTC: from 02:00 (winter) or 03:00 (summer) in Paris.
    assert source.schedule_expression == NIGHTLY_REMINDERS == "cron(0/5 1 * * ? *)"


def test_each_family_is_in_exactly_one_nightly_slice_and_the_slices_are_even():
    from datetime import UTC, datetime

    from chalicelib.pages import NIGHTLY_SLICES, in_slice, nightly_slice

    runs = [nightly_slice(datetime(2014, 12, 2, 1, minute, tzinfo=UTC)) for minute in range(0, 60, 5)]
    assert runs == list(range(NIGHTLY_SLICES))  # the hour's twelve runs cover the twelve slices
    numbers = [str(381623867924 + n) for n in range(3000)]
    sizes = [sum(in_slice(n, index, NIGHTLY_SLICES) for n in numbers) for index in range(NIGHTLY_SLICES)]
    assert sum(sizes) == 3000 and max(sizes) < 1.3 * 3000 / NIGHTLY_SLICES


def test_portail_build_families_stores_the_notices_and_exports_every_family(storage, families, monkeypatch,
                                                                            frozen_clock):
    import boto3
    from chalicelib.table import bucket_name

    from portail.family_export import FamilyExportError, export_everything

    monkeypatch.delenv("PORTAIL_SECRET", raising=False)
    with pytest.raises(FamilyExportError, match="PORTAIL_SECRET"):
        export_everything()
    assert storage.get(NOTICES_PK, NOTICES_SK) is None  # nothing written
    monkeypatch.setenv("PORTAIL_SECRET", "secret-de-test")
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket=bucket_name("pages"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    summary = export_everything()
    assert summary.startswith("Pages des familles exportées : ") and "de 2 famille(s)." in summary
    # The repository's notices still current on 28 November 2014.
    titles = [n["title"] for n in storage.get(NOTICES_PK, NOTICES_SK)["notices"]]
    assert titles and "Lundi 10 novembre : services fermés" not in titles
    body = s3.get_object(Bucket=bucket_name("pages"), Key=f"famille/{families['B']['page_key']}/index.html")["Body"]
    assert titles[0] in body.read().decode()
