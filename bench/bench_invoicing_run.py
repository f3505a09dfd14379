"""A month's invoicing started from the back office (`POST /gestion/facturation` with
`confirm=1`: the deferred job, by parts, its progress written after every chunk, the
families' pages rendered) against the same run from the command line (`portail invoices
run`: in process, then the pages), for 3,000 generated families through the embedded
AWS (bench/bench_invoices.py's families, October 2014).

Each run gets a fresh table and buckets. Prints both times, the route's answer time
(the run is outside the request) and last the ratio route-started / command.

    .venv/bin/python bench/bench_invoicing_run.py [FAMILIES]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "functions"), str(Path(__file__).resolve().parents[1])]

from chalicelib import storage as st  # noqa: E402
from chalicelib import table  # noqa: E402
from chalicelib.config import get_commune  # noqa: E402

from bench.bench_invoices import MONTH, NOW, family_items  # noqa: E402
from portail import moto_transactions  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402

FAMILIES = int(sys.argv[1]) if len(sys.argv) > 1 else 3000


def fresh(aws, commune) -> st.Storage:
    aws.reset()
    aws.create_resources()
    storage = st.Storage(aws.client("dynamodb"), table.table_name())
    storage.batch_write(family_items(commune, FAMILIES))
    return storage


def command_run(storage) -> float:
    """`portail invoices run 2014-10`, as an operator types it."""
    from portail.cli import main

    os.environ["PORTAIL_NOW"] = NOW.isoformat()
    start = time.perf_counter()
    assert main(["invoices", "run", MONTH.strftime("%Y-%m"), "--endpoint-url", os.environ["AWS_ENDPOINT_URL"]]) == 0
    return time.perf_counter() - start


def route_run(storage) -> tuple[float, float, int]:
    """The régie's POST through Chalice's test client, then the deferred job to its end."""
    from app import app, reset_dependencies
    from chalice.test import Client
    from chalicelib import jobs

    from portail.local_keys import export_to_environment, generate_signing_keys
    from tests.staff_client import StaffClient

    environment = {"PORTAIL_SECRET": "secret-de-bench", "PORTAIL_NOW": NOW.isoformat()}
    export_to_environment(generate_signing_keys(), environment)
    os.environ.update(environment)
    reset_dependencies()
    with Client(app, project_dir=str(Path(__file__).resolve().parents[1] / "functions")) as client:
        regie = StaffClient(client, "regie")
        start = time.perf_counter()
        answer = regie.post("/gestion/facturation", {"month": MONTH.strftime("%Y-%m"), "confirm": "1"})
        answered = time.perf_counter() - start
        assert answer.status_code == 303, answer.body
        assert jobs.drain(timeout=3600)
        elapsed = time.perf_counter() - start
        page = regie.get(answer.headers["Location"]).body.decode()
        assert "terminée" in page, page
    count = storage.get(f"INVOICING#{MONTH.strftime('%Y-%m')}", "RUN")["invoices"]
    return elapsed, answered, int(count)


def main() -> None:
    commune = get_commune()
    moto_transactions.install()
    with EmbeddedAWS() as aws:
        aws.configure_environment(os.environ)
        storage = fresh(aws, commune)
        command = command_run(storage)
        command_count = len([i for i in storage.all_items() if i["sk"].startswith("INVOICE#")])
        storage = fresh(aws, commune)
        route, answered, route_count = route_run(storage)
    assert command_count == route_count, (command_count, route_count)
    print(f"invoicing October 2014 for {FAMILIES} families: {route_count} invoices each way (PDFs, mails, "
          "the families' pages)")
    print(f"  command line (portail invoices run): {command:.1f} s")
    print(f"  from the back office (POST /gestion/facturation, the deferred job by parts): {route:.1f} s; "
          f"the POST answered in {answered * 1000:.0f} ms")
    print(f"ratio route-started run / command-line run: {route / command:.2f}")


if __name__ == "__main__":
    main()
