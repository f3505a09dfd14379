"""Publishing the public site after a save at /gestion/informations/ (docs/content.md).

The function never builds the site (Pelican is not in it): it asks for a publication.
- In AWS (`PORTAIL_PUBLISHING_FUNCTION` names the stack's publishing function): an
  asynchronous invocation of that function, packaged with Pelican (portail/deploy_publishing.py),
  which runs portail/publishing.py. Its reserved concurrency is 1: publications run one
  after another, each from the latest stored content.
- Locally (`portail serve`): the deferred job `PUBLISH_JOB`, which `portail serve`
  registers (the same publishing code, on the jobs' background thread).

After the site, the family dashboards show the current notices: `DASHBOARDS_JOB`
renders every family's dashboard again, one slice of families per job (as the nightly
export), each slice handing the next to the jobs function, the last one marking the
publication finished.
"""

from __future__ import annotations

import json
import logging
import os

from chalicelib import jobs

FUNCTION_ENV = "PORTAIL_PUBLISHING_FUNCTION"
# The publishing function's name in the stack: `<stack>-publishing` (portail/deploy_publishing.py).
FUNCTION = "publishing"
PUBLISH_JOB = "publish_site"
DASHBOARDS_JOB = "notices_dashboards"
DASHBOARD_SLICES = 12

_log = logging.getLogger("portail")


def request_publication(generation: int) -> bool:
    """Hands publication `generation` over; False when nothing here can publish (a test
    client without the local publisher): the state then stays « en cours »."""
    event = {"generation": generation}
    function = os.environ.get(FUNCTION_ENV)
    if function:
        import boto3

        boto3.client("lambda").invoke(FunctionName=function, InvocationType="Event",
                                      Payload=json.dumps(event).encode())
        return True
    if jobs.registered(PUBLISH_JOB):
        jobs.defer(PUBLISH_JOB, event)
        return True
    _log.warning("no publisher: publication %d asked, not run", generation)
    return False


def export_dashboards(payload: dict) -> None:
    """One slice of the families' dashboards rendered again with the current notices;
    hands the next slice over, the last marks publication `generation` finished."""
    from chalicelib.clock import now as clock_now
    from chalicelib.dependencies import family_pages, storage
    from chalicelib.pages.nightly import in_slice
    from chalicelib.site_store import SiteStore

    generation = int(payload.get("generation", 0))
    index, count = int(payload.get("slice", 0)), int(payload.get("count", DASHBOARD_SLICES))
    now = clock_now()
    pages, table = family_pages(), storage()
    notices = pages.notices(table, now)
    for number in table.family_numbers():
        if in_slice(number, index, count):
            try:
                pages.export_state(table.family_state(number), now, ["accueil"], notices)
            except Exception:  # one family's failure must not keep the others' notices old
                _log.exception("family %s: dashboard not exported", number)
    if index + 1 < count:
        jobs.defer(DASHBOARDS_JOB, {"generation": generation, "slice": index + 1, "count": count})
    else:
        SiteStore(table).mark("published", generation, now)


def dashboards_after(generation: int) -> None:
    """Starts the dashboards' slices once the site and the NOTICES item are written: in
    AWS, DASHBOARD_SLICES invocations of the jobs function one after another (each well
    within Lambda's limit); locally one job (the background thread has no limit)."""
    count = DASHBOARD_SLICES if os.environ.get(jobs.FUNCTION_ENV) else 1
    jobs.defer(DASHBOARDS_JOB, {"generation": generation, "slice": 0, "count": count})


jobs.register(DASHBOARDS_JOB, export_dashboards)
