"""Messages: DynamoDB round trips and time to put one message in every family's inbox,
with `Messages.send_many` (BatchGetItem, BatchWriteItem) against one `Messages.send` per
family (a PutItem and a Query each). Notices go to moto's SES; the families' pages are
not rendered here (both ways render them alike: one Query per family).

Over the embedded AWS (moto's server on a loopback port), as `portail serve` runs it.
Prints the ratio of round trips last.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from bench.round_trips import RoundTrips  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402

FAMILIES = 200
SUBJECT, BODY = "Sortie au cirque", "Les enfants de la **garderie du soir** partiront à 16 h 45."


def main() -> None:
    with EmbeddedAWS() as aws:
        aws.configure_environment()
        aws.create_resources()
        import boto3
        from chalicelib import table
        from chalicelib.clock import now
        from chalicelib.mail import Mailer
        from chalicelib.messages import Messages
        from chalicelib.storage import Storage

        from portail.sample import add_family

        storage = Storage(boto3.client("dynamodb"), table.table_name())
        for n in range(FAMILIES):
            add_family(storage, f"{1000 + n}", f"famille{n}", None, last_name="BENCH", child="ENFANT",
                       email=f"famille{n}@example.org")
        messages = Messages(storage, Mailer(boto3.client("ses"), "enfance@cregylesmeaux.fr"), "http://127.0.0.1:8000")
        trips = RoundTrips(storage.client)

        trips.reset()
        start = time.perf_counter()
        recipients = messages.all_recipients()
        messages.send_many(recipients, SUBJECT, BODY, now())
        batched_time, batched = time.perf_counter() - start, dict(trips.by_operation)

        trips.reset()
        start = time.perf_counter()
        for number in storage.family_numbers():
            messages.send(number, SUBJECT, BODY, now())
        single_time, single = time.perf_counter() - start, dict(trips.by_operation)

    print(f"{FAMILIES} families, send_many      : {sum(batched.values())} round trips {batched}, "
          f"{batched_time:.2f} s (with {FAMILIES} notice mails)")
    print(f"{FAMILIES} families, send per family: {sum(single.values())} round trips {single}, "
          f"{single_time:.2f} s (with {FAMILIES} notice mails)")
    print(f"time ratio (per family / batched): {single_time / batched_time:.2f}")
    print(f"round-trip ratio (per family / batched): {sum(single.values()) / sum(batched.values()):.1f}")


if __name__ == "__main__":
    main()
