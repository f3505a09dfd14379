"""The table's keys: which partition and sort key each entity lives under.

Single-table layout (docs/data-model.md): a family's whole state lives in one
partition `FAMILY#<number>`, so reading it is one Query; logins, sessions, audit
entries, counters and each service's day have partitions of their own. Pure strings:
`chalicelib/storage.py` re-exports them (callers write `st.family_pk`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# --- a family's partition ---------------------------------------------------------------


def family_pk(family_number: str) -> str:
    return f"FAMILY#{family_number}"


PROFILE = "PROFILE"


def responsable_sk(rank: int) -> str:
    return f"RESPONSABLE#{rank}"


def child_sk(child_id: str) -> str:
    return f"CHILD#{child_id}"


def day_sk(child_id: str, day: date, service: str) -> str:
    return f"DAY#{child_id}#{day.isoformat()}#{service}"


# --- logins, sessions and their counters ---------------------------------------------------

def login_pk(login: str) -> str:
    return f"LOGIN#{normalise_login(login)}"


LOGIN = "LOGIN"


def normalise_login(login: str) -> str:
    return login.strip().lower()


def session_pk(token_hash: str) -> str:
    """Sessions are found by the hash of their token, never by the token itself."""
    return f"SESSION#{token_hash}"


def reset_token_pk(token_hash: str) -> str:
    return f"RESET#{token_hash}"


def source_pk(source: str) -> str:
    return f"SOURCE#{source}"


def login_throttle_pk(login_digest: str) -> str:
    """A login's counters, known or not, under a keyed hash of it: the typed text (maybe
    a password typed in the wrong field) is never stored."""
    return f"THROTTLE#{login_digest}"


SESSION = "SESSION"
RESET = "RESET"
# Sort keys of the counters, under `THROTTLE#<digest>` (a login) or `SOURCE#<address>`:
THROTTLE = "THROTTLE"  # failed password checks
RESET_REQUESTS = "RESET_REQUESTS"  # « Mot de passe oublié » requests


# --- numbering counters and the audit ---------------------------------------------------------

def counter_pk(name: str) -> str:
    return f"COUNTER#{name}"


COUNTER = "COUNTER"


def audit_pk(when: datetime) -> str:
    return f"AUDIT#{when.astimezone(UTC).date().isoformat()}"


# The staff journal (docs/data-model.md): a staff entry is also on gsi1 under its actor and,
# when it concerns one family, on gsi2 under that family; both sorted by the entry's `sk`
# (its instant first), so a page of either is one Query, newest first.
JOURNAL = "JOURNAL#"


def journal_actor_pk(actor: str) -> str:
    return f"{JOURNAL}{actor}"


def journal_family_pk(family_number: str) -> str:
    return f"{JOURNAL}FAMILY#{family_number}"


def journal_family(details: dict) -> str | None:
    """The one family an entry's details concern: `family_number`, or a list of
    `families` that holds just one (a message to one family); None otherwise."""
    if details.get("family_number") not in (None, ""):
        return str(details["family_number"])
    families = details.get("families")
    if isinstance(families, list | tuple | set | frozenset) and len(families) == 1:
        return str(next(iter(families)))
    return None


def journal_keys(actor: str, details: dict, sk: str) -> dict:
    """The index keys of a staff entry."""
    keys = {"gsi1pk": journal_actor_pk(actor), "gsi1sk": sk}
    family = journal_family(details)
    if family:
        keys.update(gsi2pk=journal_family_pk(family), gsi2sk=sk)
    return keys


# --- one service on one day: its seats (item COUNTER) and its waiting list -------------------

def service_day_pk(service: str, day: date) -> str:
    """A service's day: its seat counter, its waiting list, and (gsi1) its children's days."""
    return f"SERVICEDAY#{service}#{day.isoformat()}"


WAIT = "WAIT#"  # the sort keys' prefix of the waiting list, in order of arrival


def wait_sk(when: datetime, family: str, child: str) -> str:
    return f"{WAIT}{when.astimezone(UTC).isoformat()}#{family}#{child}"


# --- the staff: accounts, sessions and enrolment links (docs/staff.md) ----------------------

def staff_pk(login: str) -> str:
    """A staff account, apart from the families' logins (`LOGIN#`): one never opens the other."""
    return f"STAFF#{normalise_login(login)}"


STAFF = "STAFF"
STAFF_INDEX = "STAFF"  # gsi1pk of every staff account (gsi1sk: the login): the agents' list


def staff_session_pk(token_hash: str) -> str:
    return f"STAFFSESSION#{token_hash}"


STAFF_SESSION = "STAFFSESSION"


def staff_enrolment_pk(token_hash: str) -> str:
    return f"STAFFENROL#{token_hash}"


STAFF_ENROLMENT = "STAFFENROL"
