"""`portail import` of 3,000 generated families through the embedded AWS.

Prints families per second, DynamoDB round trips per family (counted, not guessed), and
last the ratio of the import's time to a bare BatchWriteItem of the same items.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "functions"), str(Path(__file__).resolve().parents[1])]

from chalicelib import table  # noqa: E402
from chalicelib.config import get_commune  # noqa: E402
from chalicelib.storage import Storage  # noqa: E402

from bench.round_trips import RoundTrips  # noqa: E402
from portail.embedded_aws import EmbeddedAWS  # noqa: E402
from portail.importer import CHILD_COLUMNS, FAMILY_COLUMNS, RESPONSABLE_COLUMNS, import_directory  # noqa: E402

FAMILIES = 3000


def write_files(directory: Path, count: int) -> None:
    rng = random.Random(3000)
    families, responsables, children = [], [], []
    for index in range(count):
        number = f"{700000000000 + index}"
        families.append([number, rng.choice("ABCDE"), f"{rng.randint(1, 90)} rue des Écoles", "77124", "Crégy-lès-Meaux"])
        responsables.append([number, "1", "Madame", f"NOM{index}", "ANNE", f"f{index}@example.org", "06 12 34 56 78", f"login{index}"])
        if index % 5 == 0:
            responsables.append([number, "2", "Monsieur", f"NOM{index}", "PAUL", "", "", f"login{index}-2"])
        for child in range(1, rng.randint(1, 3) + 1):
            children.append([number, str(child), f"NOM{index}", "LEA", "F", "14/03/2012", "RESTAURATION, GARDERIE_SOIR"])
    for name, header, rows in (("familles.csv", FAMILY_COLUMNS, families),
                               ("responsables.csv", RESPONSABLE_COLUMNS, responsables),
                               ("enfants.csv", CHILD_COLUMNS, children)):
        with open(directory / name, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";", lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def main() -> None:
    commune = get_commune()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedAWS() as aws:
        directory = Path(tmp)
        write_files(directory, FAMILIES)
        client = aws.client("dynamodb")
        table.create_table(client, table.table_name())
        storage = Storage(client, table.table_name())
        trips = RoundTrips(client)

        start = time.perf_counter()
        report = import_directory(storage, commune, directory)
        first = time.perf_counter() - start
        first_trips, first_ops = trips.total, dict(trips.by_operation)

        trips.reset()
        start = time.perf_counter()
        import_directory(storage, commune, directory)
        again = time.perf_counter() - start
        again_trips = trips.total

        # The same items written bare, without reading, checking or merging.
        items = storage.all_items()
        client.delete_table(TableName=table.table_name())
        table.create_table(client, table.table_name())
        trips.reset()
        start = time.perf_counter()
        storage.batch_write(items)
        bare = time.perf_counter() - start

    print(f"import of {FAMILIES} families ({report.responsables} responsables, {report.children} children, "
          f"{report.items_written} items)")
    print(f"  first import : {FAMILIES / first:,.0f} families/s, {first_trips / FAMILIES:.3f} DynamoDB round trips per family "
          f"({first_trips} in all: {first_ops})")
    print(f"  re-import    : {FAMILIES / again:,.0f} families/s, {again_trips / FAMILIES:.3f} round trips per family")
    print(f"  bare BatchWriteItem of the same {len(items)} items: {trips.total} round trips")
    print(f"ratio import / bare batch write: {first / bare:.2f}")


if __name__ == "__main__":
    main()
