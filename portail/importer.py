"""`portail import`: families, responsables and children from the CSV files a commune's
management software exports (columns: docs/import.md).

All files are read and checked before anything is written: a file with one bad row
imports nothing, and every bad row is reported with its line number and why.
Importing the same files again updates the same items and never duplicates them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from chalicelib import family_search
from chalicelib import storage as st
from chalicelib.config import Commune
from chalicelib.families import (
    CIVILITIES,
    Child,
    Family,
    Responsable,
    checked_email,
    checked_phone,
    child_item,
    family_item,
    login_item,
    responsable_item,
)
from chalicelib.staff import csv_input

# Re-exported: the reading of CSV files is the domain's (`/gestion/` uploads them too).
from chalicelib.staff.csv_input import ImportRejected, RowError, decode, normalise_header  # noqa: F401

FAMILY_COLUMNS = ("numero_famille", "tranche_qf", "adresse", "code_postal", "ville")
# Columns a file may leave out altogether (an older export): « compte commun » (oui / non).
FAMILY_OPTIONAL_COLUMNS = ("compte_commun",)
RESPONSABLE_COLUMNS = (
    "numero_famille", "rang", "civilite", "nom", "prenom", "email", "telephone", "identifiant",
)
CHILD_COLUMNS = ("numero_famille", "numero_enfant", "nom", "prenom", "sexe", "date_naissance", "services")
# Columns that may be empty; the others are required on every row.
OPTIONAL = {"tranche_qf", "adresse", "code_postal", "ville", "email", "telephone", "services"}
_YES_NO = {"oui": True, "o": True, "1": True, "vrai": True, "non": False, "n": False, "0": False, "faux": False}

_FAMILY_NUMBER = re.compile(r"^\d{1,20}$")
_CHILD_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
_POSTAL_CODE = re.compile(r"^\d{5}$")
_CIVILITY_ALIASES = {"madame": "Madame", "mme": "Madame", "monsieur": "Monsieur", "m": "Monsieur", "m.": "Monsieur", "mr": "Monsieur"}


@dataclass
class ImportReport:
    families_created: int = 0
    families_updated: int = 0
    responsables: int = 0
    children: int = 0
    logins_moved: int = 0
    items_written: int = 0
    # Families a login of which now opens another folder (« compte commun » changed, or a
    # second responsable's first own folder): their pages are to be written there.
    folders_moved: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.families_created} famille(s) créée(s), {self.families_updated} mise(s) à jour, "
            f"{self.responsables} responsable(s), {self.children} enfant(s) importé(s)."
        )


@dataclass
class ParsedFiles:
    families: list[Family] = field(default_factory=list)
    responsables: list[Responsable] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------

def read_rows(path: Path, columns: tuple[str, ...], errors: list[RowError]) -> list[tuple[int, dict]]:
    """(line number, row) pairs of a file; header problems go to `errors` and give no rows."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        errors.append(RowError(path.name, 0, f"lecture impossible ({error.strerror})"))
        return []
    return csv_input.read_rows(decode(raw), path.name, columns, errors, OPTIONAL)


# --- checking rows ----------------------------------------------------------------

def _family_number(value: str) -> str:
    if not _FAMILY_NUMBER.match(value):
        raise ValueError(f"numéro de famille « {value} » invalide (chiffres uniquement)")
    return value


def _date(value: str) -> date:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            pass
    raise ValueError(f"date « {value} » invalide (attendu JJ/MM/AAAA)")


def parse_family(row: dict, commune: Commune) -> Family:
    brackets = [b.code for b in commune.quotient_brackets]
    bracket = row.get("tranche_qf", "").upper() or brackets[-1]
    if bracket not in brackets:
        raise ValueError(f"tranche de quotient familial « {row['tranche_qf']} » inconnue (attendu : {', '.join(brackets)})")
    postal_code = row.get("code_postal", "")
    if postal_code and not _POSTAL_CODE.match(postal_code):
        raise ValueError(f"code postal « {postal_code} » invalide (5 chiffres)")
    shared = row.get("compte_commun", "").strip().lower()
    if shared and shared not in _YES_NO:
        raise ValueError(f"compte commun « {row['compte_commun']} » invalide (oui, non ou vide)")
    return Family(
        number=_family_number(row["numero_famille"]),
        quotient_bracket=bracket,
        address=row.get("adresse", ""),
        postal_code=postal_code,
        city=row.get("ville", ""),
        # Empty: each responsable has their own account (one responsable: the same thing).
        shared_account=_YES_NO.get(shared, False),
    )


def parse_responsable(row: dict, commune: Commune) -> Responsable:
    if row["rang"] not in ("1", "2"):
        raise ValueError(f"rang « {row['rang']} » invalide (1 ou 2)")
    civility = _CIVILITY_ALIASES.get(row["civilite"].lower())
    if civility not in CIVILITIES:
        raise ValueError(f"civilité « {row['civilite']} » inconnue (Madame ou Monsieur)")
    login = st.normalise_login(row["identifiant"])
    if not _LOGIN.match(login):
        raise ValueError(
            f"identifiant « {row['identifiant']} » invalide (3 à 64 caractères : lettres, chiffres, . _ - @)"
        )
    email = checked_email(row["email"]) if row.get("email") else ""
    phone = row.get("telephone", "")
    return Responsable(
        family_number=_family_number(row["numero_famille"]),
        rank=int(row["rang"]),
        civility=civility,
        last_name=row["nom"].upper(),
        first_name=row["prenom"].upper(),
        login=login,
        email=email,
        phone=checked_phone(phone) if phone else "",
    )


def parse_child(row: dict, commune: Commune) -> Child:
    if not _CHILD_ID.match(row["numero_enfant"]):
        raise ValueError(f"numéro d'enfant « {row['numero_enfant']} » invalide (lettres, chiffres, - ou _)")
    sex = row["sexe"].upper()
    if sex not in ("F", "M"):
        raise ValueError(f"sexe « {row['sexe']} » invalide (F ou M)")
    by_name = {s.code: s.code for s in commune.services}
    by_name.update({normalise_header(s.label).upper(): s.code for s in commune.services})
    services = []
    for name in re.split(r"[,|]", row.get("services", "")):
        if not name.strip():
            continue
        code = by_name.get(normalise_header(name).upper())
        if code is None:
            raise ValueError(f"service « {name.strip()} » inconnu (attendu : {', '.join(by_name)})")
        if code not in services:
            services.append(code)
    birth = _date(row["date_naissance"])
    return Child(
        family_number=_family_number(row["numero_famille"]),
        child_id=row["numero_enfant"],
        last_name=row["nom"].upper(),
        first_name=row["prenom"].upper(),
        sex=sex,
        birth_date=birth,
        services=tuple(services),
    )


def _parse_file(path: Path | None, columns, parse: Callable, commune, errors, key: Callable) -> list:
    if path is None:
        return []
    records, seen = [], {}
    for line, row in read_rows(path, columns, errors):
        try:
            record = parse(row, commune)
        except ValueError as error:
            errors.append(RowError(path.name, line, str(error)))
            continue
        identity = key(record)
        if identity in seen:
            errors.append(RowError(path.name, line, f"doublon de la ligne {seen[identity]}"))
            continue
        seen[identity] = line
        records.append((line, record))
    return records


def parse_files(commune: Commune, families: Path | None, responsables: Path | None, children: Path | None,
                errors: list[RowError]) -> tuple[list, list, list]:
    return (
        _parse_file(families, FAMILY_COLUMNS, parse_family, commune, errors, lambda f: f.number),
        _parse_file(responsables, RESPONSABLE_COLUMNS, parse_responsable, commune, errors,
                    lambda r: (r.family_number, r.rank)),
        _parse_file(children, CHILD_COLUMNS, parse_child, commune, errors,
                    lambda c: (c.family_number, c.child_id)),
    )


# --- planning and writing ----------------------------------------------------------

def import_files(storage: st.Storage, commune: Commune, *, families: Path | None = None,
                 responsables: Path | None = None, children: Path | None = None,
                 dry_run: bool = False, transform: Callable[[ParsedFiles], ParsedFiles] | None = None
                 ) -> ImportReport:
    """Checks every row of every file, then writes; raises ImportRejected with nothing written."""
    if not (families or responsables or children):
        raise ImportRejected([RowError("import", 0, "aucun fichier à importer")])
    errors: list[RowError] = []
    family_rows, responsable_rows, child_rows = parse_files(commune, families, responsables, children, errors)
    # Rows that parsed are checked against the table too, so that every bad row of
    # every file is reported in one run (reading writes nothing).

    # One round of BatchGetItem for everything the files touch: existing items are
    # merged (page keys, credentials survive) and references and logins checked.
    keys = [(st.family_pk(f.number), st.PROFILE) for _, f in family_rows]
    keys += [(st.family_pk(r.family_number), st.PROFILE) for _, r in responsable_rows]
    keys += [(st.family_pk(c.family_number), st.PROFILE) for _, c in child_rows]
    keys += [(st.family_pk(r.family_number), st.responsable_sk(r.rank)) for _, r in responsable_rows]
    keys += [(st.login_pk(r.login), st.LOGIN) for _, r in responsable_rows]
    keys += [(st.family_pk(c.family_number), st.child_sk(c.child_id)) for _, c in child_rows]
    touched = {f.number for _, f in family_rows} | {r.family_number for _, r in responsable_rows}
    touched |= {c.family_number for _, c in child_rows}
    # The search cards (family_search): the children's names of the list, kept whole.
    keys += [(st.family_pk(number), family_search.card_sk(number)) for number in sorted(touched)]
    # Every responsable of the families touched: a changed « compte commun » moves the
    # folder their logins open (pages.responsables.login_page_key).
    keys += [(st.family_pk(number), st.responsable_sk(rank)) for number in sorted(touched) for rank in (1, 2)]
    existing = storage.batch_get(list(dict.fromkeys(keys)))

    # Logins of existing responsables who are re-imported with another login are
    # looked up too, so that their old login item can be moved, not left behind.
    old_logins = []
    for _, r in responsable_rows:
        before = existing.get((st.family_pk(r.family_number), st.responsable_sk(r.rank)))
        if before and before.get("login") and before["login"] != r.login:
            old_logins.append((st.login_pk(before["login"]), st.LOGIN))
    existing.update(storage.batch_get(old_logins) if old_logins else {})

    known_families = {f.number for _, f in family_rows}
    known_families |= {k[0].removeprefix("FAMILY#") for k in existing if k[1] == st.PROFILE}
    logins_in_file: dict[str, tuple[str, int]] = {}
    for line, r in responsable_rows:
        if r.family_number not in known_families:
            errors.append(RowError(responsables.name, line, f"famille {r.family_number} inconnue (ni dans le fichier des familles, ni déjà importée)"))
        owner = logins_in_file.setdefault(r.login, (r.family_number, r.rank))
        if owner != (r.family_number, r.rank):
            errors.append(RowError(responsables.name, line, f"identifiant « {r.login} » déjà donné à un autre responsable dans ce fichier"))
            continue
        taken = existing.get((st.login_pk(r.login), st.LOGIN))
        if taken and (taken["family_number"], int(taken["rank"])) != (r.family_number, r.rank):
            errors.append(RowError(responsables.name, line, f"identifiant « {r.login} » déjà utilisé par la famille {taken['family_number']}"))
    for line, c in child_rows:
        if c.family_number not in known_families:
            errors.append(RowError(children.name, line, f"famille {c.family_number} inconnue (ni dans le fichier des familles, ni déjà importée)"))
    if errors:
        order = [p.name for p in (families, responsables, children) if p]
        raise ImportRejected(sorted(errors, key=lambda e: (order.index(e.file) if e.file in order else 0, e.line)))

    parsed = ParsedFiles([f for _, f in family_rows], [r for _, r in responsable_rows], [c for _, c in child_rows])
    if transform:
        parsed = transform(parsed)

    report = ImportReport()
    puts, deletes = [], []
    profiles = {k[0].removeprefix("FAMILY#"): item for k, item in existing.items() if k[1] == st.PROFILE}
    for f in parsed.families:
        before = existing.get((st.family_pk(f.number), st.PROFILE))
        puts.append(family_item(f, before))
        profiles[f.number] = puts[-1]
        if before:
            report.families_updated += 1
        else:
            report.families_created += 1
    people = {(k[0].removeprefix("FAMILY#"), int(item["rank"])): item for k, item in existing.items()
              if k[1].startswith("RESPONSABLE#")}
    logins = []
    for r in parsed.responsables:
        before = existing.get((st.family_pk(r.family_number), st.responsable_sk(r.rank)))
        login_before = existing.get((st.login_pk(r.login), st.LOGIN))
        if before and before.get("login") and before["login"] != r.login:
            old = existing.get((st.login_pk(before["login"]), st.LOGIN))
            if old:
                # Keep what belongs to the person (credentials) under the new login.
                login_before = {k: v for k, v in old.items() if k not in ("pk", "sk")}
                deletes.append((old["pk"], old["sk"]))
                report.logins_moved += 1
        person = responsable_item(r, before)
        people[(r.family_number, r.rank)] = person
        puts.append(person)
        logins.append((r, login_before))
        report.responsables += 1
        _index(puts, deletes, r.family_number, before, person)
    in_file = {(r.family_number, r.rank) for r in parsed.responsables}
    for r, login_before in logins:
        puts.append(_login(r, _folder(profiles, people, r.family_number, r.rank), login_before, deletes,
                           report.folders_moved))
    puts += _moved_logins(storage, profiles, people, in_file, {f.number for f in parsed.families}, deletes,
                          report.folders_moved)
    cards = {number: {c["child_id"]: c for c in card.get("children", [])}
             for (_, sk), card in existing.items() if family_search.is_search_key(sk)
             for number in [card["family_number"]]}
    for c in parsed.children:
        before = existing.get((st.family_pk(c.family_number), st.child_sk(c.child_id)))
        kid = child_item(c, before)
        puts.append(kid)
        report.children += 1
        _index(puts, deletes, c.family_number, before, kid)
        cards.setdefault(c.family_number, {})[c.child_id] = kid
    families_written = {f.number for f in parsed.families} | {r.family_number for r in parsed.responsables}
    for number in sorted(families_written | {c.family_number for c in parsed.children}):
        puts.append(family_search.card_item(number, list(cards.get(number, {}).values())))
    report.items_written = len(puts) + len(deletes)
    if not dry_run:
        storage.batch_write(puts, deletes)
    return report


def _folder(profiles: dict, people: dict, number: str, rank: int) -> str:
    """The page key a responsable's login opens, from the family as imported."""
    from chalicelib.pages.responsables import login_page_key

    return login_page_key(profiles[number], [p for (n, _), p in people.items() if n == number], rank)


def _login(r: Responsable, page_key: str, before: dict | None, deletes: list, moved: list) -> dict:
    """The LOGIN item; when its folder moves (« compte commun » changed), the login's open
    sessions end: they hold page cookies for the folder it no longer opens."""
    item = login_item(r, page_key, before)
    if before and before.get("page_key") and before["page_key"] != page_key:
        deletes.extend((st.session_pk(h), st.SESSION) for h in item.pop("sessions", None) or ())
    if before and before.get("page_key") not in (None, page_key) and r.family_number not in moved:
        moved.append(r.family_number)
    return item


def _moved_logins(storage: st.Storage, profiles: dict, people: dict, in_file: set, families: set,
                  deletes: list, moved: list) -> list[dict]:
    """The LOGIN items of responsables not in the file whose family's « compte commun »
    changed (one more BatchGetItem, only for them)."""
    candidates = [(number, rank, person) for (number, rank), person in people.items()
                  if number in families and (number, rank) not in in_file and person.get("login")]
    found = storage.batch_get([(st.login_pk(p["login"]), st.LOGIN) for _, _, p in candidates]) if candidates else {}
    puts = []
    for number, rank, person in candidates:
        before = found.get((st.login_pk(person["login"]), st.LOGIN))
        page_key = _folder(profiles, people, number, rank)
        if before and before.get("page_key") != page_key:
            r = Responsable(number, rank, person.get("civility", ""), person.get("last_name", ""),
                            person.get("first_name", ""), person["login"])
            puts.append(_login(r, page_key, before, deletes, moved))
    return puts


def _index(puts: list, deletes: list, family_number: str, before: dict | None, after: dict) -> None:
    """The search tokens of a responsable or a child whose item goes from `before` to `after`."""
    new, gone = family_search.item_changes(family_number, before, after)
    puts.extend(new)
    deletes.extend(gone)


def import_directory(storage: st.Storage, commune: Commune, directory: Path, **options) -> ImportReport:
    """The three files under their documented names in one folder (the demo's layout)."""
    return import_files(
        storage, commune,
        families=directory / "familles.csv",
        responsables=directory / "responsables.csv",
        children=directory / "enfants.csv",
        **options,
    )
