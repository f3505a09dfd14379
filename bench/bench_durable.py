"""`portail serve --data`: what keeping the embedded AWS's state on disk costs.

1. A big state: 3,000 families imported (bench_import's files) and one page each
   through an embedded AWS that journals them; the start after a crash (the journal
   replayed); then their other pages (PAGES_PER_FAMILY of PAGE_BYTES in all, as the
   demo's: ~18 pages of ~11 KB a family), the snapshot of the clean stop, the start after
   it (the snapshot read); against the start of an empty embedded AWS.
2. A booking: POST /api/bookings through the local server (one day reserved, then
   cancelled, over and over), in blocks with and without the journal, interleaved on one
   server; the median of each, the journal's records and bytes per booking.

Prints the ratio of the booking's median with the journal to without, last.
Environment: BENCH_FAMILIES (3000), BENCH_PAGES_PER_FAMILY (18), BENCH_BOOKINGS (160).
"""

from __future__ import annotations

import http.client
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.bench_bookings import post, school_days  # noqa: E402
from portail.aws_journal import read_journal  # noqa: E402
from portail.durable_aws import COMPACT_BYTES, DurableState  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402
from portail.local_keys import export_to_environment, generate_signing_keys  # noqa: E402

NOW = "2014-11-24T12:00:00+01:00"
PASSWORD = "une phrase de passe tres longue"
FAMILIES = int(os.environ.get("BENCH_FAMILIES", "3000"))
PAGES_PER_FAMILY = int(os.environ.get("BENCH_PAGES_PER_FAMILY", "18"))
PAGE_BYTES = 11_000
BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "160"))
BLOCK = 2  # bookings in a row in one mode: a reservation and its cancellation


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB" if path.exists() else "none"


def _timed_start(data: Path) -> tuple[EmbeddedAWS, float]:
    durable = DurableState(data)
    durable.lock()
    start = time.perf_counter()
    aws = EmbeddedAWS(durable=durable).start()
    return aws, time.perf_counter() - start


def big_state(work: Path) -> list[str]:
    """The start-up with 3,000 families: after a crash (the journal of their import and of
    one page each replayed), then after a clean stop (the snapshot read) once their other
    pages are there too (put into moto directly: through the server they would take
    many minutes on a shared machine, and only the snapshot's size matters here)."""
    from chalicelib import table
    from chalicelib.config import get_commune
    from chalicelib.storage import Storage
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    from bench.bench_import import write_files
    from portail.importer import import_directory

    lines = []
    start = time.perf_counter()
    with EmbeddedAWS():
        pass
    empty_start = time.perf_counter() - start

    data = work / "donnees"
    aws, _ = _timed_start(data)
    aws.configure_environment()
    aws.create_resources()
    files = work / "csv"
    files.mkdir()
    write_files(files, FAMILIES)
    storage = Storage(aws.client("dynamodb"), table.table_name())
    start = time.perf_counter()
    report = import_directory(storage, get_commune(), files)
    s3, bucket, page = aws.client("s3"), table.bucket_name("pages"), b"<p>page</p>" * (PAGE_BYTES // 11)
    for family in range(FAMILIES):
        s3.put_object(Bucket=bucket, Key=f"famille/{family:05d}/0/index.html", Body=page,
                      ContentType="text/html; charset=utf-8")
    written = time.perf_counter() - start
    journal = next(data.glob("journal-*.log"))
    records, size = len(read_journal(journal)[0]), journal.stat().st_size
    lines.append(f"big state: {FAMILIES} families imported ({report.items_written} items) and {FAMILIES} pages of "
                 f"{PAGE_BYTES // 1000} KB, through the server in {written:.1f} s: journal {size / 1e6:.1f} MB, "
                 f"{records} records")
    aws.durable.open = False  # a crash: no snapshot at the stop
    aws.stop()

    aws, replayed = _timed_start(data)
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for family in range(FAMILIES):
        for n in range(1, PAGES_PER_FAMILY):
            backend.put_object(bucket, f"famille/{family:05d}/{n}/index.html", page)
    start = time.perf_counter()
    aws.stop()  # the clean stop: the snapshot
    stopped = time.perf_counter() - start
    aws, loaded = _timed_start(data)
    aws.durable.open = False
    aws.stop()
    snapshot = data / "snapshot.pickle"
    rate = size / 1e6 / replayed
    worst = min(COMPACT_BYTES, max(COMPACT_BYTES // 8, snapshot.stat().st_size)) / 1e6 / rate
    lines.append(f"start of an empty embedded AWS: {empty_start:.2f} s")
    lines.append(f"start after a crash (that journal replayed, {rate:.1f} MB/s): {replayed:.2f} s")
    lines.append(f"with {PAGES_PER_FAMILY} pages a family: clean stop (the snapshot written): {stopped:.2f} s")
    lines.append(f"  start after it (snapshot {_size(snapshot)} read): {loaded:.2f} s")
    lines.append(f"  longest journal before a snapshot while serving ({COMPACT_BYTES // 2**20} MiB at most): "
                 f"replayed in ~{worst:.0f} s")
    return lines


def booking_medians(work: Path) -> tuple[list[str], float]:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ["PORTAIL_NOW"] = NOW
    data = work / "reservations"
    aws, _ = _timed_start(data)
    serial = aws.guard.app  # the embedded AWS's lock, which writes the journal
    try:
        aws.configure_environment()
        aws.create_resources()
        export_to_environment(generate_signing_keys())
        os.environ["PORTAIL_SECRET"] = "bench"
        import app as function

        from portail.devserver import DevServer, serve_in_thread
        from portail.sample import add_family

        function.reset_dependencies()
        add_family(function.storage(), "100", "alice", PASSWORD, last_name="ALPHA", child="ANNA",
                   email="alice@example.org", services=("RESTAURATION",))
        server, _ = serve_in_thread(DevServer(work / "static"))
        os.environ["PORTAIL_SITE_URL"] = f"http://127.0.0.1:{server.port}"
        function.reset_dependencies()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        response, _ = post(connection, "/api/login", {"login": "alice", "password": PASSWORD})
        cookie = "; ".join(next(v for k, v in response.getheaders() if k.lower() == "set-cookie"
                                and v.startswith(name)).split(";")[0]
                           for name in ("__Host-session=", "__Host-csrf="))
        day = school_days(20)[-1].isoformat()
        times = {True: [], False: []}
        spent: list[float] = []  # each journaled booking's time in DurableState.record
        record = aws.durable.record

        def timed_record(environ, body):
            start = time.perf_counter()
            record(environ, body)
            spent[-1] += time.perf_counter() - start

        aws.durable.record = timed_record
        journal_before = sum(len(read_journal(p)[0]) for p in data.glob("journal-*.log"))
        size_before = sum(p.stat().st_size for p in data.glob("journal-*.log"))
        for n in range(BOOKINGS):
            journaled = (n // BLOCK) % 2 == 0
            serial.durable = aws.durable if journaled else None
            if journaled:
                spent.append(0.0)
            body = {"child_id": "1", "items": [{"date": day, "service": "RESTAURATION",
                                                "action": "reserve" if n % 2 == 0 else "cancel"}]}
            start = time.perf_counter()
            response, answer = post(connection, "/api/bookings", body, cookie)
            times[journaled].append(time.perf_counter() - start)
            assert response.status == 200, answer[:200]
        serial.durable = aws.durable
        server.shutdown()
        records = sum(len(read_journal(p)[0]) for p in data.glob("journal-*.log")) - journal_before
        size = sum(p.stat().st_size for p in data.glob("journal-*.log")) - size_before
    finally:
        aws.stop()
    with_journal, without = statistics.median(times[True]), statistics.median(times[False])
    count = len(times[True])
    lines = [f"POST /api/bookings (one day, reserved then cancelled), {BOOKINGS} requests in blocks of {BLOCK}:",
             f"  median without the journal: {without * 1000:.1f} ms",
             f"  median with --data (journal, fdatasync before each write's answer): {with_journal * 1000:.1f} ms",
             f"  journal per booking: {records / count:.1f} records, {size / count / 1000:.1f} KB, "
             f"{statistics.median(spent) * 1000:.1f} ms (median) appending and flushing them"]
    return lines, with_journal / without


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-durable-") as tmp:
        work = Path(tmp)
        lines = big_state(work) if FAMILIES else []
        booking, ratio = booking_medians(work)
    for line in lines + booking:
        print(line)
    print(f"ratio booking median with --data / without: {ratio:.2f}")


if __name__ == "__main__":
    main()
