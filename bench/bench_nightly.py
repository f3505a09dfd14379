"""The nightly re-export: how many pages a night really changes.

The demo (51 families at the guide's date) is exported once, as `portail serve --demo`
does; then the nightly run renders every family again the next nights. Only pages whose
content changed are written (their MD5 against the stored ETags, one ListObjectsV2 per
family): a weekday night changes the dashboard's « à la date du » and the month pages
whose booking deadlines passed. S3 PUTs are the largest line of the monthly cost
(docs/deployment.md), so this count sets it.

Over the embedded AWS. Prints, last, the ratio of pages written to pages rendered.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from portail.embedded_aws import EmbeddedAWS  # noqa: E402

GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
# Friday to Saturday, then the nights of the next week (Monday to Friday).
NIGHTS = ["2014-11-29", "2014-11-30", "2014-12-01", "2014-12-02", "2014-12-03", "2014-12-04", "2014-12-05"]


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

        commune = get_commune()
        storage = Storage(boto3.client("dynamodb"), table.table_name())
        seed_demo(storage, commune, GUIDE_NOW)
        pages = FamilyPages(boto3.client("s3"), table.bucket_name("pages"), commune, "bench-secret")
        first = pages.export_all(storage, GUIDE_NOW)
        print(f"first export: {first.families} families, {first.pages} pages written")
        written = rendered = 0
        for night in NIGHTS:
            report = pages.export_all(storage, datetime.fromisoformat(f"{night}T02:00:00+01:00"))
            written += report.pages
            rendered += report.pages + report.unchanged
            print(f"night of {night}: {report.pages} pages written, {report.unchanged} unchanged "
                  f"({report.pages / report.families:.1f} written per family)")
    print(f"{len(NIGHTS)} nights: {written} of {rendered} rendered pages written, "
          f"{written / len(NIGHTS) / first.families:.2f} per family and night")
    print(f"ratio written/rendered: {written / rendered:.3f}")


if __name__ == "__main__":
    main()
