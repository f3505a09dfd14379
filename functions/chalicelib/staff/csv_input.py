"""What staff upload or type: CSV files as a commune's software exports them (columns
separated by « ; », UTF-8 or Windows-1252, headers written with accents or capitals),
days written JJ/MM/AAAA or AAAA-MM-JJ, services by code or label.

Read from text, never from a path: `/gestion/` receives an upload, `portail` reads a
file, and both check it the same way. A bad row is a `RowError` (its line and a French
reason); `ImportRejected` carries every one of them, nothing being written.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.config import Commune


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, ligne {self.line}" if self.line else self.file
        return f"{where} : {self.reason}"


class ImportRejected(Exception):
    """Nothing was written; `errors` lists every bad row."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def decode(raw: bytes | str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, as exports from Windows software are."""
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def normalise_header(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("n°", "numero")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def read_rows(text: str, name: str, columns: tuple[str, ...], errors: list[RowError],
              optional: set[str] | frozenset[str] = frozenset()) -> list[tuple[int, dict]]:
    """(line number, row) pairs of a CSV text; header problems go to `errors` and give no
    rows. `columns` must be in the header, and filled on every row but the `optional` ones."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        errors.append(RowError(name, 1, "fichier vide : la première ligne doit nommer les colonnes"))
        return []
    if ";" not in lines[0] and ("," in lines[0] or "\t" in lines[0]):
        errors.append(RowError(name, 1, "le séparateur des colonnes doit être le point-virgule « ; »"))
        return []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = [normalise_header(h) for h in next(reader)]
        missing = [c for c in columns if c not in header]
        if missing:
            errors.append(RowError(name, 1, f"colonne(s) manquante(s) : {', '.join(missing)}"))
            return []
        rows = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                errors.append(RowError(name, line, f"{len(values)} valeurs pour {len(header)} colonnes (un « ; » de trop ?)"))
                continue
            row = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
            empty = [c for c in columns if c not in optional and not row.get(c)]
            if empty:
                errors.append(RowError(name, line, f"valeur manquante : {', '.join(empty)}"))
                continue
            rows.append((line, row))
    except csv.Error as error:
        # A stray quote or NUL byte: say where, never a traceback.
        errors.append(RowError(name, reader.line_num, f"ligne illisible ({error})"))
        return []
    return rows


def read_date(text: str) -> date:
    """JJ/MM/AAAA or AAAA-MM-JJ, the two ways staff write a day (files, commands, forms)."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            pass
    raise ValueError(f"date « {text} » invalide (JJ/MM/AAAA ou AAAA-MM-JJ)")


def service_code(name: str, commune: Commune) -> str:
    """A service from its code or its label (« GARDERIE MIDI », « garderie_midi »)."""
    by_name = {s.code: s.code for s in commune.services}
    by_name.update({normalise_header(s.label).upper(): s.code for s in commune.services})
    code = by_name.get(normalise_header(name).upper())
    if code is None:
        raise ValueError(f"service « {name} » inconnu (attendu : {', '.join(s.code for s in commune.services)})")
    return code
