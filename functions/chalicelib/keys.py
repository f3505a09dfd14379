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


# A responsable's calendar feed and reminders (chalicelib/agenda.py), one item per rank:
# its own item, so that an import rewriting RESPONSABLE#<rank> never drops the feed's key.
AGENDA = "AGENDA#"


def agenda_sk(rank: int) -> str:
    return f"{AGENDA}{int(rank)}"


def child_sk(child_id: str) -> str:
    return f"CHILD#{child_id}"


def day_sk(child_id: str, day: date, service: str) -> str:
    return f"DAY#{child_id}#{day.isoformat()}#{service}"


# The family search index (chalicelib/family_search.py): one item per normalised token of
# one source of names (`F` the family, `R<rank>` a responsable, `C<child id>` a child).
SEARCH = "SEARCH#"


def search_sk(source: str, token: str) -> str:
    return f"{SEARCH}{source}#{token}"


def search_index_pk(token: str) -> str:
    """The index partition of a token: its first two characters (a word of the search
    has at least two), so that a prefix search is one Query on gsi1."""
    return f"{SEARCH}{token[:2]}"


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


# Every WAIT item is also on gsi1 under one partition, ordered by the day waited for, then
# the service, then arrival: the staff's list of pending requests is one Query of a date
# range (docs/data-model.md), never a Scan.
WAITING = "WAITING"


def waiting_index_sk(day: date, service: str, when: datetime | str, family: str, child: str) -> str:
    instant = when.astimezone(UTC).isoformat() if isinstance(when, datetime) else when
    return f"{day.isoformat()}#{service}#{instant}#{family}#{child}"


def wait_key_of_index_sk(index_sk: str) -> tuple[str, str]:
    """The WAIT item's (pk, sk) from its index sort key (a page of the list resumes there)."""
    day, service, instant, family, child = index_sk.split("#")
    return f"SERVICEDAY#{service}#{day}", f"{WAIT}{instant}#{family}#{child}"


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


# --- the public site's stored content: guide pages, notices, their versions (docs/content.md) --

CONTENT = "CONTENT"  # pk of every page's current version (sk: GUIDE#<slug> / NOTICE#<slug>) and of the state
PUBLISHING = "PUBLISHING"  # sk of the publishing state in the CONTENT partition


def content_sk(kind: str, slug: str) -> str:
    """`GUIDE#<slug>` or `NOTICE#<slug>`: a page's current version, in the CONTENT partition."""
    return f"{kind.upper()}#{slug}"


def content_versions_pk(kind: str, slug: str) -> str:
    """`CONTENT#GUIDE#<slug>`: the partition of one page's versions (sk `V#000001`, …)."""
    return f"{CONTENT}#{content_sk(kind, slug)}"


def content_version_sk(version: int) -> str:
    return f"V#{version:06d}"


# --- the staff's sent messages (docs/messages.md) -----------------------------------------

def sent_pk(sending_id: str) -> str:
    """One sending of a staff message (to one family, a service's day or all): its head, its
    text and its recipients, in one partition; the family's copies live in their partitions."""
    return f"SENT#{sending_id}"


SENT = "SENT"  # the head's sort key, and gsi1pk of every head (gsi1sk: `<instant>#<id>`): the list
SENT_BODY = "BODY"


def sent_recipients_sk(chunk: int) -> str:
    return f"RECIPIENTS#{chunk:04d}"


# --- invoices on the indexes, invoicing runs (docs/data-model.md, docs/billing.md) ------------

# Every invoice the run writes is also on gsi1 under its month (sorted by number) and on
# gsi2 under its number: the staff's list of a month and the search by number are one
# Query each, never a Scan. A family's invoices are its partition's `INVOICE#` items.
INVOICES = "INVOICES#"


def invoices_month_pk(month: str) -> str:
    """gsi1pk of a month's invoices (`month`: « 2014-11 »)."""
    return f"{INVOICES}{month}"


def invoice_number_pk(number: str) -> str:
    """gsi2pk of one invoice, by its number."""
    return f"{INVOICES}NUMBER#{number}"


def invoice_index_keys(month: str, number: str, family_number: str) -> dict:
    return {"gsi1pk": invoices_month_pk(month), "gsi1sk": number,
            "gsi2pk": invoice_number_pk(number), "gsi2sk": family_number}


# One item per month invoiced from the back office or the command: the run's lock (a lease)
# and its progress; also on gsi1 under INVOICING_RUNS by month (the form's list of runs).
INVOICING_RUN = "RUN"
INVOICING_RUNS = "INVOICING_RUNS"


def invoicing_run_pk(month: str) -> str:
    return f"INVOICING#{month}"
