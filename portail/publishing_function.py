"""The stack's publishing function (docs/deployment.md): Pelican and the publishing code
of portail/publishing.py, packaged apart from the parents' function
(portail/deploy_publishing.py), which never imports Pelican.

Invoked asynchronously by `/gestion/informations/` after a save (`{"generation": n}`;
chalicelib/publishing.py), one run at a time (reserved concurrency 1), and once at
deployment (`{"seed": true}`): an empty store then receives the packaged content/ (the
commune's first guide and notices). Each run builds the latest stored content into a
temporary folder, uploads it to the site bucket (portail/publish.py: Content-Type,
Cache-Control, stale objects deleted), writes the NOTICES item and hands the family
dashboards to the jobs function.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The package holds functions/'s chalicelib beside portail/, site/ and content/.
_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "functions", _ROOT):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))


def handler(event, context=None) -> dict:
    import boto3
    from chalicelib.clock import now as clock_now
    from chalicelib.dependencies import storage
    from chalicelib.table import bucket_name

    from portail import publishing
    from portail.publish import publish

    now = clock_now()
    event = event if isinstance(event, dict) else {}
    seeded = publishing.seed(storage(), now) if event.get("seed") else 0
    if seeded:  # the first publication of a new commune: ask for it as a save would
        from chalicelib.site_store import SiteStore

        SiteStore(storage()).mark("requested", 1, now)
    s3 = boto3.client("s3")
    generation = publishing.publish_stored(
        storage(), now, lambda built: publish(built, bucket_name("site"), s3),
        site_url=os.environ.get("PORTAIL_SITE_URL"), publish=True)
    return {"seeded": seeded, "generation": generation}
