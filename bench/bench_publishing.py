"""The publishing time, from the save at /gestion/informations/ to the page being served
(docs/content.md): in process, against moto, as `portail serve` runs it (the jobs'
background thread, the served folder replaced file by file).

Measured, median of `--runs`:
- save: the admin's POST (Chalice's test client: the version stored, the publication asked);
- served: until the notice's page is in the served folder (Pelican's build of the stored
  content, the folder synced, the NOTICES item) — what a visitor of /informations/… waits;
- dashboards: until the family dashboards are rendered again (`--families` demo-like families);
- against `portail build` of the same content (Pelican alone, from content/).

The last line is the ratio: save → page served, over a plain `portail build`.
Run: .venv/bin/python bench/bench_publishing.py [--runs 5] [--families 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
os.environ.setdefault("PORTAIL_COMMUNE_FILE", str(ROOT / "content" / "commune.toml"))
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
os.environ["PORTAIL_NOW"] = "2014-11-28T12:00:00+01:00"
os.environ["PORTAIL_SECRET"] = "secret-du-banc"
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_name, "bench")

NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
ORIGIN = "http://127.0.0.1:8000"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--families", type=int, default=50)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws

    with mock_aws():
        from chalice.test import Client
        from chalicelib import jobs, table
        from chalicelib.dependencies import storage

        from portail import publishing
        from portail.build import build_site
        from portail.local_keys import export_to_environment, generate_signing_keys
        from portail.sample import add_family
        from tests.staff_client import StaffClient

        environment = {}
        export_to_environment(generate_signing_keys(), environment)
        os.environ.update(environment)
        os.environ["PORTAIL_SITE_URL"] = ORIGIN
        table.create_table(boto3.client("dynamodb"), os.environ.get(table.TABLE_ENV, "portail-famille"))
        boto3.client("s3").create_bucket(Bucket=table.bucket_name("pages"),
                                         CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        from app import app, reset_dependencies

        reset_dependencies()
        for n in range(args.families):
            add_family(storage(), str(1000 + n), f"famille{n:03d}", "une phrase de passe assez longue",
                       last_name=f"NOM{n:03d}", child=f"ENFANT{n:03d}", email=f"f{n}@example.org")
        work = Path(tempfile.mkdtemp(prefix="banc-publication-"))
        served = work / "servi"
        build_site(served, site_url=ORIGIN)
        publishing.seed(storage(), NOW)
        publishing.install_local(served, ORIGIN)

        saves, pages, dashboards, builds = [], [], [], []
        with Client(app, project_dir=str(ROOT / "functions")) as client:
            admin = StaffClient(client, "admin")
            for run in range(args.runs):
                title = f"Information du banc numéro {run}"
                slug = f"information-du-banc-numero-{run}"
                target = served / "informations" / slug / "index.html"
                start = time.perf_counter()
                answer = admin.post("/gestion/informations", {
                    "title": title, "body": "Un texte **court**.\n\nRéservez {{ delai_jours }} avant.",
                    "expires": "2014-12-31", "publish": "1"})
                assert answer.status_code == 303, answer.body
                saves.append(time.perf_counter() - start)
                while not target.exists():
                    time.sleep(0.005)
                pages.append(time.perf_counter() - start)
                assert jobs.drain(300)
                dashboards.append(time.perf_counter() - start)
                start = time.perf_counter()
                build_site(work / "construit", site_url=ORIGIN)
                builds.append(time.perf_counter() - start)

    def median(values):
        return statistics.median(values) * 1000

    print(f"{args.runs} publications, {args.families} familles (médianes)")
    print(f"enregistrement (POST, réponse 303) : {median(saves):.0f} ms")
    print(f"de l'enregistrement à la page servie : {median(pages):.0f} ms")
    print(f"jusqu'aux tableaux de bord des familles : {median(dashboards):.0f} ms")
    print(f"portail build du même contenu (Pelican seul) : {median(builds):.0f} ms")
    print(f"ratio (page servie / portail build) : {statistics.median(pages) / statistics.median(builds):.2f}")


if __name__ == "__main__":
    main()
