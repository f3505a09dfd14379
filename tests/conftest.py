"""Fixtures every test module reuses: the table on moto, the demo family, a frozen clock,
the fixture commune (tests/commune.toml)."""

from __future__ import annotations

import os
import tomllib
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE_NOW = datetime.fromisoformat("2014-11-28T12:00:00+01:00")
# The tests' own commune: every test reads it (the function through PORTAIL_COMMUNE_FILE).
COMMUNE_FILE = ROOT / "tests" / "commune.toml"
# The commune's real configuration, edited by its staff: read only where the portal uses
# it by design (`make run` shows them): the demo (tests/test_demo*.py, test_billing_demo.py,
# which also checks the file fits the demo), the public site and its content pages
# (test_site.py, test_notices.py, test_family_data.py's page), `portail serve --demo`
# (tests/browser/, whose test_demo_portal.py checks what it prints) and the deployment package (test_deploy.py).
SHIPPED_COMMUNE_FILE = ROOT / "content" / "commune.toml"
SMALL_ROOM = "GARDERIE_MIDI"  # the one service whose capacity the tests fill

# Tests never reach real AWS: fake credentials, a fixed region, and no endpoint left
# over from a shell where `make run` was started.
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-3",
    PORTAIL_COMMUNE_FILE=str(COMMUNE_FILE),
)


def commune_data(path: Path = COMMUNE_FILE) -> dict:
    """The commune's configuration as data (a fresh copy each call, free to change)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def commune_toml(edit=None, path: Path = COMMUNE_FILE) -> str:
    """The text of a commune.toml: `path`'s, changed by `edit(data)` (e.g. a staff member's
    mistake), written back as TOML."""
    import tomli_w

    data = commune_data(path)
    if edit:
        edit(data)
    return tomli_w.dumps(data)


def commune_with(*, capacity: int, service: str = SMALL_ROOM, path: Path = COMMUNE_FILE):
    """The fixture commune with `service` limited to `capacity` children a day."""
    from chalicelib.config import parse_commune

    def edit(data: dict) -> None:
        (chosen,) = [s for s in data["services"] if s["code"] == service]
        chosen["capacity"] = capacity

    return parse_commune(commune_toml(edit, path))


@pytest.fixture(scope="session")
def commune():
    """The fixture commune (tests/commune.toml), as the function reads it."""
    from chalicelib.config import load_commune

    return load_commune(COMMUNE_FILE)


@pytest.fixture(scope="session")
def shipped_commune():
    """content/commune.toml: for the tests of the demo and of the public site only."""
    from chalicelib.config import load_commune

    return load_commune(SHIPPED_COMMUNE_FILE)


@pytest.fixture
def shipped_commune_file(monkeypatch):
    """PORTAIL_COMMUNE_FILE at content/commune.toml, as `make run` has it (demo, site)."""
    monkeypatch.setenv("PORTAIL_COMMUNE_FILE", str(SHIPPED_COMMUNE_FILE))
    return SHIPPED_COMMUNE_FILE


def shipped_environment() -> dict:
    """The environment of a `portail` process started as `make run` starts it: with the
    commune's real configuration (the demo and the public site use it by design)."""
    return {**os.environ, "PORTAIL_COMMUNE_FILE": str(SHIPPED_COMMUNE_FILE)}


@pytest.fixture
def frozen_clock(monkeypatch):
    """Freezes the portal's clock (as `portail serve --now` does); returns a setter."""
    from chalicelib.clock import FROZEN_ENV

    def freeze(instant: datetime | str = GUIDE_NOW) -> datetime:
        text = instant if isinstance(instant, str) else instant.isoformat()
        monkeypatch.setenv(FROZEN_ENV, text)
        return datetime.fromisoformat(text)

    freeze()
    return freeze


def _new_storage():
    import boto3
    from chalicelib import table
    from chalicelib.storage import Storage

    client = boto3.client("dynamodb", region_name="eu-west-3")
    table.create_table(client, table.table_name(), wait=False)
    return Storage(client, table.table_name())


@cache
def _boto3_session():
    import boto3

    return boto3.Session()


@cache
def _setup_client(service: str):
    """The fixtures' own SES and S3 clients, made once: moto answers them in every test
    (the tests' and the function's clients stay new in each test)."""
    return _boto3_session().client(service, region_name="eu-west-3")


@contextmanager
def moto():
    """moto in-process, its backends empty at the start (as `mock_aws()`), over one boto3
    session kept for the whole run: a new session per test (moto's default) loads every
    service model again, most of a test's set-up time."""
    import boto3
    from moto import mock_aws

    previous, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, _boto3_session()
    try:
        with mock_aws(config={"core": {"reset_boto3_session": False}}):
            yield
    finally:
        boto3.DEFAULT_SESSION = previous


def pytest_configure(config):
    """moto as the embedded AWS runs it: no whole-table copy per transaction action
    (portail/moto_transactions.py), a Query that reads its partition only and cheaper
    answers (portail/moto_speedups.py), a Scan that reads each page from its start key
    (portail/moto_scan.py), an S3 listing that reads the prefix's keys only
    (portail/moto_s3.py), in every test process."""
    from portail import moto_s3, moto_scan, moto_speedups, moto_transactions

    moto_transactions.install()
    moto_speedups.install()
    moto_scan.install()
    moto_s3.install()
    _verify_each_pair_once()


def _verify_each_pair_once() -> None:
    """argon2 costs ~50 ms a verification by design, and the tests log the same fixture
    passwords in hundreds of times (a tenth of the suite's time): the outcome of each
    (hash, password) pair, a match or the refusal raised, is kept for the run. It is the
    same outcome argon2 gives (verification is deterministic); the first time is real."""
    from argon2 import PasswordHasher

    real = PasswordHasher.verify
    outcomes: dict[tuple, object] = {}

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter names
        key = (self.time_cost, self.memory_cost, self.parallelism, hash, password)
        if key not in outcomes:
            try:
                outcomes[key] = real(self, hash, password)
            except Exception as refusal:  # argon2's VerifyMismatchError, InvalidHashError, …
                outcomes[key] = refusal
        outcome = outcomes[key]
        if isinstance(outcome, Exception):
            raise type(outcome)(*outcome.args)
        return outcome

    verify.__wrapped__ = real  # for the tests that time argon2 itself (tests/test_passwords.py)
    PasswordHasher.verify = verify


def xdist_group(path: Path) -> str:
    """The worker group of a test file: the file itself, except the browser modules that
    share a demo portal (tests/browser/conftest.py, `portal`), which share a group and
    its worker: the families', the back office's, the régie's."""
    if path.parent.name == "browser" and path.stem.startswith("test_gestion_money_"):
        return "billing_portal"  # the régie's modules share theirs, on 2 December 2014
    if path.parent.name == "browser" and path.stem.startswith("test_gestion_"):
        return "staff_portal"
    if path.parent.name == "browser" and path.stem not in OWN_PORTAL_MODULES:
        return "family_portal"
    return path.relative_to(ROOT).as_posix()


# Browser modules that start a portal of their own instead of a shared demo portal.
OWN_PORTAL_MODULES = ("test_page_cookies_browser",)  # moves the portal's clock


# The groups that take longest (a demo portal to start, a package to build, the demo to
# seed), measured: sent to the workers first, so that the short files fill in behind
# them and both workers finish together. Every other group comes after, by test count.
SLOW_GROUPS = (
    "family_portal",
    "staff_portal",
    "tests/test_deploy.py",
    "billing_portal",
    "tests/test_demo.py",
    "tests/test_billing_demo.py",
    "tests/test_demo_dates.py",
    "tests/test_bookings_state_machine.py",
    "tests/test_routes_fuzz.py",
    "tests/test_serve_durability.py",
    "tests/browser/test_page_cookies_browser.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Marks each test with its worker group (`xdist_group`), for the record: the
    scheduler below reads the group from the test's path."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item.path)))


def pytest_xdist_make_scheduler(config, log):
    """`make test` runs the files on every core (pytest-xdist, `--dist loadgroup`): each
    group's tests on one worker, so a module's fixtures (a demo portal, the demo's table,
    the deployment package) are made once; the browser modules of a kind share one
    worker and its one demo portal (tests/browser/conftest.py: `family_portal`,
    `staff_portal`, `billing_portal`).

    xdist's own loadgroup reads a suffix it adds to each test's id, which pytest 9 no
    longer lets it add: every test was its own group, and each worker made every
    module's fixtures again (the package twice, a demo portal per worker). This
    scheduler groups by path itself, the slow groups first."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(ROOT / nodeid.split("::", 1)[0])

        def _assign_work_unit(self, node) -> None:
            # xdist sends the queue's first group: the slowest pending one, then by size.
            rank = {group: n for n, group in enumerate(SLOW_GROUPS)}
            first = min(self.workqueue, key=lambda group: (rank.get(group, len(rank)), -len(self.workqueue[group])))
            self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return FileGroups(config, log)


@pytest.fixture
def aws():
    """moto in-process, for single-threaded tests (race tests use the embedded server)."""
    with moto():
        yield


@pytest.fixture
def storage(aws):
    """The portal's table, empty, behind the storage module."""
    return _new_storage()


@pytest.fixture(scope="module")
def demo_storage(shipped_commune):
    """The table seeded with the demo at the guide's date (read-only for its tests), with
    the commune's real configuration, as `make run` seeds it."""
    from portail.demo import seed_demo

    with moto():
        storage = _new_storage()
        seed_demo(storage, shipped_commune, GUIDE_NOW)
        yield storage


@pytest.fixture(scope="session")
def signing_keys():
    """The stage's CloudFront key pair, made once for the test run."""
    from portail.local_keys import generate_signing_keys

    return generate_signing_keys()


@pytest.fixture
def client(storage, signing_keys, monkeypatch, commune):
    """Chalice's test client for the function, over the empty table, SES ready."""
    from app import app, reset_dependencies
    from chalice.test import Client

    from portail.local_keys import export_to_environment

    environment = {}
    export_to_environment(signing_keys, environment)
    for name, value in {**environment, "PORTAIL_SECRET": "secret-de-test"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PORTAIL_DEMO", raising=False)
    _setup_client("ses").verify_email_identity(EmailAddress=commune.commune.contact_email)
    from chalicelib.table import bucket_name

    _setup_client("s3").create_bucket(
        Bucket=bucket_name("pages"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    reset_dependencies()
    with Client(app, project_dir=str(ROOT / "functions")) as test_client:
        yield test_client
    from chalicelib import jobs

    jobs.drain()  # no deferred job outlives the test's AWS
    reset_dependencies()


@pytest.fixture
def staff_client(client):
    """Makes Chalice test clients logged in as a FRESH staff account of a role:
    `staff_client("agent")` (tests/staff_client.py: `.get`, `.post` with the form token,
    `.post_multipart`, `.csrf_token`, `.login`). Each is a new account: a TOTP code is
    accepted once per account and step."""
    from tests.staff_client import StaffClient

    def make(role: str = "agent") -> StaffClient:
        return StaffClient(client, role)

    return make


@pytest.fixture
def mails():
    """The mails sent through SES so far: [{To, Subject, Body}] (moto's record)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    def sent() -> list[dict]:
        from chalicelib import jobs

        assert jobs.drain(), "deferred jobs still running after 30 s"  # mails sent by deferred jobs too
        return [{"To": m.destinations["ToAddresses"][0], "Subject": m.subject, "Body": m.body}
                for m in ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-3"].sent_messages]

    return sent


from portail.sample import add_family  # noqa: E402  (re-exported: tests import it from here)

_HASHES: dict[str, str] = {}


@pytest.fixture
def families(storage, monkeypatch, request):
    """Family A (login alice) and family B (login bob), each with a password."""
    from chalicelib import passwords

    original = passwords.hash_password

    def hash_once(password: str) -> str:
        # argon2 costs ~50 ms a hash by design: each fixture password is hashed once a run.
        if password not in _HASHES:
            _HASHES[password] = original(password)
        return _HASHES[password]

    with monkeypatch.context() as patch:
        patch.setattr(passwords, "hash_password", hash_once)
        made = {
            "A": add_family(storage, "100", "alice", "une phrase de passe tres longue", last_name="ALPHA",
                            child="ANNA", email="alice@example.org"),
            "B": add_family(storage, "200", "bob", "un autre secret pour la famille B", last_name="BRAVO",
                            child="BRUNO", email="bob@example.org"),
        }
    # Their pages count as brought up to the test's day (chalicelib/page_freshness.py): a
    # login renders nothing, as a test expects unless it moves the clock to another day.
    from zoneinfo import ZoneInfo

    day = GUIDE_NOW if "frozen_clock" in request.fixturenames else datetime.now(ZoneInfo("Europe/Paris"))
    for number in ("100", "200"):
        storage.update_attributes(f"FAMILY#{number}", "PROFILE", {"pages_day": day.date().isoformat()})
    return made


def all_items(storage) -> list[dict]:
    """Every item of the table (one Scan; moto's Query is slow on big tables)."""
    return storage.all_items()


def family_states(storage) -> dict:
    """Every family's state, grouped from one Scan."""
    from portail.family_export import family_states as grouped

    return grouped(storage)


@pytest.fixture
def enrolled(storage, families, frozen_clock):
    """Families A and B, their child enrolled in the four services; clock at the guide's."""
    for family in ("100", "200"):
        storage.update_attributes(f"FAMILY#{family}", "CHILD#1",
                                  {"services": ["GARDERIE_MATIN", "GARDERIE_MIDI", "GARDERIE_SOIR", "RESTAURATION"]})
    return families


@pytest.fixture(scope="module")
def embedded_aws():
    """moto's server behind its lock, on a free loopback port: for race tests."""
    from portail.embedded_aws import EmbeddedAWS

    with EmbeddedAWS() as server:
        yield server


@pytest.fixture
def embedded_resources(embedded_aws, monkeypatch):
    """The table, buckets and SES sender on the embedded AWS, empty; boto3 points at it."""
    embedded_aws.reset()
    environment = {}
    embedded_aws.configure_environment(environment)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return embedded_aws.create_resources()


def race(count: int, target, expected: type[BaseException] | tuple = ()) -> list:
    """Runs `target(n)` for n in 0..count-1 in as many threads released at once; each
    answer is what target returned, or the `expected` exception it raised."""
    import threading

    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def run(n):
        barrier.wait()
        try:
            answers[n] = target(n)
        except expected as error:
            answers[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
