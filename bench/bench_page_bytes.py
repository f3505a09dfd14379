"""The demo's family pages: bytes and requests per page type (HTML + the CSS and JS each page loads).

The demo (`portail serve --demo` at the guide's date, 28 November 2014) is seeded in the
embedded AWS and every family's pages are rendered in memory, as the export renders them.
For each page type, the largest page: its HTML, the requests of a first visit (the page,
its style sheets, its scripts and the modules they import; print.css not counted), the
bytes with its CSS and JS as the site serves them (portail/theme_assets.py: minified)
and as written in site/theme/static, the served bytes gzipped (as
CloudFront would compress them), the served bytes with print.css (which a browser fetches
too, at a low priority), and which family it is. A parent on a phone downloads all of it
on a first visit, so the budgets are on the served, decoded bytes: the month page 40 KB,
the dashboard 20 KB. Prints, last, the busiest December's ratio to its budget (below 1:
within).

    .venv/bin/python bench/bench_page_bytes.py
"""

from __future__ import annotations

import gzip
import sys
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.bench_pages import assets, page_type, served  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402

GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
BUDGETS = {"mois d'un enfant": 40 * 1024, "accueil (tableau de bord)": 20 * 1024}
DECEMBER = "/2014-12/"


class Weight(NamedTuple):
    html: int
    requests: int  # the page, its screen style sheets, scripts and imported modules
    served: int  # HTML + CSS + JS as served (print.css not counted): the budget's figure
    source: int  # the same with the CSS and JS as written in site/theme/static
    zipped: int  # the served bytes, each file gzipped -9
    printed: int  # the served bytes with print.css


def weight(html: str) -> Weight:
    body = html.encode()
    screen = [path for path in assets(html) if path.name != "print.css"]
    printed = sum(len(served(path)) for path in assets(html) if path.name == "print.css")
    files = [served(path) for path in screen]
    total = len(body) + sum(map(len, files))
    return Weight(len(body), 1 + len(screen), total, len(body) + sum(len(path.read_bytes()) for path in screen),
                  len(gzip.compress(body, 9)) + sum(len(gzip.compress(f, 9)) for f in files), total + printed)


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
        largest: dict[str, tuple[Weight, str]] = {}
        december: tuple[Weight, str] | None = None
        for number, state in sorted(family_states(storage).items()):
            for path, html in pages.render(state, 1, GUIDE_NOW, notices=notices).items():
                kind, found = page_type(path), weight(html)
                if kind not in largest or found.served > largest[kind][0].served:
                    largest[kind] = (found, f"{number} {path}")
                if DECEMBER in path and (december is None or found.served > december[0].served):
                    december = (found, f"{number} {path}")

    print("the largest page of each type in the demo (bytes; HTML + the screen's CSS + JS a first visit loads, "
          "as served, then as written; gzipped: as served; +print: with print.css):")
    print(f"  {'page':28} {'HTML':>7} {'req.':>4} {'served':>7} {'source':>7} {'gzipped':>7} {'+print':>7}"
          f"  {'budget':>6}  family, page")
    for kind, (w, where) in sorted(largest.items()):
        budget = BUDGETS.get(kind)
        print(f"  {kind:28} {w.html:7d} {w.requests:4d} {w.served:7d} {w.source:7d} {w.zipped:7d} {w.printed:7d}"
              f"  {budget or '':>6}  {where}")
    assert december is not None
    w, where = december
    budget = BUDGETS["mois d'un enfant"]
    print(f"busiest December: {where}: HTML {w.html} bytes, {w.requests} requests, with CSS and JS "
          f"{w.served} served ({w.source} as written; {w.zipped} gzipped; {w.printed} with print.css)")
    print(f"ratio busiest December / budget {budget} (served): {w.served / budget:.2f}")


if __name__ == "__main__":
    main()
