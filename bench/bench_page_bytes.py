"""The demo's family pages: bytes per page type (HTML + the CSS and JS each page loads).

The demo (`portail serve --demo` at the guide's date, 28 November 2014) is seeded in the
embedded AWS and every family's pages are rendered in memory, as the export renders them.
For each page type: the largest page's HTML, the same with its style sheets and script
(raw, then gzipped as CloudFront would compress them), and which family it is. A parent
on a phone downloads all of it on a first visit, so the budgets are on the raw bytes:
the month page 40 KB, the dashboard 20 KB. Prints, last, the busiest December's ratio to
its budget (below 1: within).

    .venv/bin/python bench/bench_page_bytes.py
"""

from __future__ import annotations

import gzip
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.bench_pages import assets, page_type  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402

GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
BUDGETS = {"mois d'un enfant": 40 * 1024, "accueil (tableau de bord)": 20 * 1024}
DECEMBER = "/2014-12/"


def weight(html: str) -> tuple[int, int, int, int]:
    """(HTML bytes, HTML + the screen's CSS and JS, the same gzipped -9, with print.css too):
    a browser fetches the print style sheet as well, at a low priority."""
    body = html.encode()
    files = [path.read_bytes() for path in assets(html) if path.name != "print.css"]
    printed = sum(len(path.read_bytes()) for path in assets(html) if path.name == "print.css")
    total = len(body) + sum(map(len, files))
    return (len(body), total, len(gzip.compress(body, 9)) + sum(len(gzip.compress(f, 9)) for f in files),
            total + printed)


def main() -> None:
    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        import boto3
        from chalicelib import table
        from chalicelib.config import get_commune
        from chalicelib.pages import FamilyPages
        from chalicelib.storage import Storage

        from portail.demo import seed_demo
        from portail.family_export import family_states

        commune = get_commune()
        storage = Storage(boto3.client("dynamodb"), table.table_name())
        seed_demo(storage, commune, GUIDE_NOW)
        pages = FamilyPages(boto3.client("s3"), table.bucket_name("pages"), commune, "bench-secret", frozen=True)
        notices = pages.notices(storage, GUIDE_NOW)
        largest: dict[str, tuple[tuple[int, int, int, int], str]] = {}
        december: tuple[tuple[int, int, int, int], str] = ((0, 0, 0, 0), "")
        for number, state in sorted(family_states(storage).items()):
            for path, html in pages.render(state, 1, GUIDE_NOW, notices=notices).items():
                kind, found = page_type(path), weight(html)
                if found[1] > largest.get(kind, ((0, 0, 0, 0), ""))[0][1]:
                    largest[kind] = (found, f"{number} {path}")
                if DECEMBER in path and found[1] > december[0][1]:
                    december = (found, f"{number} {path}")

    print("the largest page of each type in the demo (bytes; HTML + the screen's CSS + JS as a first visit "
          "loads them; then with print.css):")
    print(f"  {'page':28} {'HTML':>8} {'+CSS+JS':>8} {'gzipped':>8} {'+print':>8}  {'budget':>8}  family, page")
    for kind, ((html, total, zipped, printed), where) in sorted(largest.items()):
        budget = BUDGETS.get(kind)
        print(f"  {kind:28} {html:8d} {total:8d} {zipped:8d} {printed:8d}  {budget or '':>8}  {where}")
    (html, total, zipped, printed), where = december
    budget = BUDGETS["mois d'un enfant"]
    print(f"busiest December: {where}: HTML {html} bytes, with CSS and JS {total} ({zipped} gzipped; "
          f"{printed} with print.css)")
    print(f"ratio busiest December / budget {budget}: {total / budget:.2f}")


if __name__ == "__main__":
    main()
