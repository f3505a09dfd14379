"""The embedded AWS's state kept on disk: `portail serve --data DIR` (docs/environment.md).

moto keeps DynamoDB, S3 and SES in this process's memory. `DurableState` keeps them in a
folder, in two files:

- `journal-N.log`: every request that changed the state, as moto received it (method,
  path, headers, body: portail/aws_journal.py), appended and flushed to the disk (`fdatasync`) by the embedded
  AWS's serial lock BEFORE moto's answer leaves (portail/embedded_aws.py, `SerialWSGI`).
  The function answers a parent only after its writes were answered, so a booking
  answered 200 is in the journal, whatever happens to the process next (`kill -9`, a
  power cut). A request moto refused (a failed condition, a bad input) changed nothing
  and is not written. At start, the journal is replayed through moto itself, in order:
  the same requests on the same state give the same state.
- `snapshot.pickle`: moto's back ends themselves (pickled, as LocalStack persists its
  state), written at a clean stop (Ctrl-C, SIGTERM) and whenever the journal grows past
  the last snapshot's size (between 8 and 64 MB: `COMPACT_BYTES`), so that the journal stays short and a start reads one file. It names
  the journal that follows it (`journal-N+1`), which is how a crash between writing the
  snapshot and starting the new journal replays nothing twice.

A third file, `lock`, is held (flock) while a portal uses the folder: a second portal on
the same folder is refused, in French, before it starts anything. The kernel releases it
when the process dies, even by `kill -9`.

A record cut short (a crash in the middle of writing it: it was never answered) ends the
journal: it is set aside in `journal-N.ignored`, the journal is cut before it, and the
start goes on with a French warning.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

from portail.aws_journal import JOURNAL_MAGIC, encode, iter_journal, replay

SNAPSHOT_FORMAT = 1
SNAPSHOT = "snapshot.pickle"
LOCK = "lock"
# A snapshot while serving when the journal passes the last snapshot's size, within
# [COMPACT_BYTES / 8, COMPACT_BYTES]: a small state is snapshotted often (it is cheap), a
# big one at most every 64 MB of writes, which replay in ~80 s on a loaded machine
# (replaying costs what moto's writes cost: ~0.8 MB/s there; a snapshot of 3,000
# families with their pages, 635 MB, is written in ~21 s and read in ~18 s).
COMPACT_BYTES = 64 * 1024 * 1024
# The services the portal uses (moto's IAM, made by its own checks, holds every managed
# policy of AWS in six partitions: nothing of the portal's, seconds to write and read).
SERVICES = ("dynamodb", "s3", "ses", "sesv2")


class DataDirBusy(Exception):
    """Another portal holds the folder's lock."""


def _warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _no_gc():
    """Python's cycle collector paused: reading a snapshot makes hundreds of thousands of
    objects, and each few hundred of them set off a collection of all the others (the
    demo's table: 1.5 s to read with it, 0.4 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _limited_size_dict(attributes: dict):
    """An item's attributes back as moto's LimitedSizeDict, without its size check: that
    check sums every attribute already set at each new one (quadratic), and unpickling
    sets them one by one (4.3 s for the demo's table). They passed it once."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    restored = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(restored, attributes)
    return restored


def _pickler(file) -> pickle.Pickler:
    import copyreg

    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table,
                              LimitedSizeDict: lambda attributes: (_limited_size_dict, (dict(attributes),))}
    return pickler


def capture() -> dict:
    """moto's back ends in use (every account and region), and S3's bucket→account map."""
    from moto.core.base_backend import BackendDict
    from moto.s3.models import s3_backends

    services = {}
    for backends in BackendDict._instances:
        if backends.service_name not in SERVICES:
            continue
        regions = {account: dict(by_region) for account, by_region in backends.items() if by_region}
        if regions:
            services[backends.service_name] = regions
    return {"services": services, "bucket_accounts": dict(s3_backends.bucket_accounts)}


def install(state: dict) -> None:
    """Puts captured back ends in place of moto's (after a reset: nothing else is there)."""
    from moto.backends import get_backend
    from moto.s3.models import s3_backends

    for service, accounts in state["services"].items():
        backends = get_backend(service)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backends[account][region] = backend
    s3_backends.bucket_accounts.update(state["bucket_accounts"])


class DurableState:
    """The folder of one embedded AWS's state; see the module's docstring.

    `lock()` first (a busy folder raises DataDirBusy), then `restore(app)` once moto is
    reset, then `record()` for each answered write, `close()` at the stop. The caller
    serialises `restore`, `record` and `close` (the embedded AWS's one lock)."""

    def __init__(self, directory: Path, *, compact_bytes: int = COMPACT_BYTES,
                 warn: Callable[[str], None] = _warn, say: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.compact_bytes = compact_bytes
        self.warn = warn
        self.say = say  # told of a stop's snapshot (seconds for a big state), or None
        self.restored = False  # the folder held a state, now in moto
        self.replayed = 0  # journal records replayed at start
        self.open = False  # restore() done and close() not yet: writes are journaled
        self._lock_fd: int | None = None
        self._journal_fd: int | None = None
        self._journal_number = 1
        self._journal_size = 0
        self._snapshot_size = 0

    # --- the folder's lock -------------------------------------------------------------

    def lock(self) -> None:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise DataDirBusy(
                f"Le dossier de données {self.directory} est déjà utilisé par un autre « portail serve » "
                f"(processus {holder}) : arrêtez-le d'abord (Ctrl-C), ou donnez un autre dossier avec --data."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    # --- start ---------------------------------------------------------------------------

    def restore(self, app) -> None:
        """The snapshot into moto, then the journal replayed through `app` (moto's WSGI app)."""
        snapshot_path = self.directory / SNAPSHOT
        if snapshot_path.exists():
            self._journal_number = self._load_snapshot(snapshot_path)
            self._snapshot_size = snapshot_path.stat().st_size
            self.restored = True
        for stale in self.directory.glob("journal-*.log"):
            if _journal_number(stale) < self._journal_number:
                stale.unlink()  # already in the snapshot (a crash before its removal)
        for draft in self.directory.glob(f".{SNAPSHOT}.*"):
            draft.unlink()  # a snapshot interrupted before its renaming: never read
        path = self._journal_path()
        if path.exists():
            end: list[int] = []
            for payload in iter_journal(path, end):
                warning = replay(app, payload)
                if warning:
                    self.warn(warning)
                self.replayed += 1
            size = path.stat().st_size
            if end[0] < size:
                self._set_aside(path, end[0], size)
            self.restored = self.restored or self.replayed > 0
        self._open_journal()
        self.open = True
        if self._journal_too_long():
            self.snapshot()

    def _load_snapshot(self, path: Path) -> int:
        import moto

        try:
            with open(path, "rb") as file, _no_gc():
                state = pickle.load(file)
            if state.get("format") != SNAPSHOT_FORMAT:
                raise ValueError(f"format {state.get('format')!r}")
        except Exception as error:  # any unreadable snapshot: stop, touch nothing
            raise SystemExit(
                f"L'instantané {path} ne peut pas être relu ({type(error).__name__} : {error}). "
                f"Rien n'a été modifié dans {self.directory}."
            ) from None
        if state.get("moto") != moto.__version__:
            self.warn(f"Attention : l'instantané {path} a été écrit avec moto {state.get('moto')}, "
                      f"ce portail utilise moto {moto.__version__} ; il est repris tel quel.")
        install(state)
        return int(state["journal"])

    def _set_aside(self, path: Path, end: int, size: int) -> None:
        """A record cut short, or damaged, ends the journal: kept aside, cut off."""
        ignored = path.with_suffix(".ignored")
        with open(path, "rb") as source, open(ignored, "ab") as kept:
            source.seek(end)
            kept.write(source.read())
        with open(path, "r+b") as journal:
            journal.truncate(end)
            os.fsync(journal.fileno())
        self.warn(f"Attention : la fin du journal {path} est incomplète ({size - end} octet(s), sans doute un "
                  f"arrêt brutal pendant une écriture, jamais confirmée) : elle est ignorée et gardée dans "
                  f"{ignored}. Tout ce que le portail avait confirmé est repris.")

    # --- while serving -------------------------------------------------------------------

    def record(self, environ: dict, body: bytes) -> None:
        """Appends an answered write, on the disk before the answer leaves."""
        if self._journal_fd is None:
            raise RuntimeError("journal fermé")
        record = encode(environ, body)
        view = memoryview(record)
        try:
            while view:
                written = os.write(self._journal_fd, view)
                view = view[written:]
            os.fdatasync(self._journal_fd)
        except OSError as error:
            # moto holds a write the disk does not: refuse every write from now on (503)
            # rather than answer writes a restart would lose. This one is answered 500.
            self.open = False
            self.warn(f"Erreur : le journal {self._journal_path()} ne peut plus être écrit ({error}) ; "
                      "l'AWS embarqué refuse désormais toute écriture. Arrêtez le portail.")
            raise
        self._journal_size += len(record)
        if self._journal_too_long():
            self.snapshot()

    def _journal_too_long(self) -> bool:
        bound = min(self.compact_bytes, max(self.compact_bytes // 8, self._snapshot_size))
        return self._journal_size > bound

    def snapshot(self) -> None:
        """moto's state in `snapshot.pickle` (written aside, then renamed), then a new journal."""
        import moto

        following = self._journal_number + 1
        state = {"format": SNAPSHOT_FORMAT, "moto": moto.__version__, "journal": following,
                 "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **capture()}
        draft = self.directory / f".{SNAPSHOT}.{os.getpid()}"
        # The table holds password hashes and sessions: readable by this user only.
        with open(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
            with _no_gc():
                _pickler(file).dump(state)
            file.flush()
            os.fsync(file.fileno())
        self._snapshot_size = draft.stat().st_size
        os.replace(draft, self.directory / SNAPSHOT)
        _fsync_directory(self.directory)
        # From here the snapshot holds everything: the old journal is no longer read.
        old = self._journal_path()
        self._close_journal()
        self._journal_number = following
        self._open_journal()
        old.unlink(missing_ok=True)

    def close(self) -> None:
        """At a clean stop: a snapshot (a short journal for the next start), then the lock freed."""
        try:
            if self.open:
                self.open = False
                if self._journal_size > len(JOURNAL_MAGIC):
                    if self.say is not None:
                        self.say(f"Enregistrement des données dans {self.directory}/…")
                    self.snapshot()
        finally:
            self._close_journal()
            self.unlock()

    # --- the journal file ----------------------------------------------------------------

    def _journal_path(self) -> Path:
        return self.directory / f"journal-{self._journal_number}.log"

    def _open_journal(self) -> None:
        path = self._journal_path()
        created = not path.exists() or path.stat().st_size < len(JOURNAL_MAGIC)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if created:
            os.ftruncate(fd, 0)
            os.write(fd, JOURNAL_MAGIC)
            os.fsync(fd)
            _fsync_directory(self.directory)
        self._journal_fd = fd
        self._journal_size = os.fstat(fd).st_size

    def _close_journal(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None


def _journal_number(path: Path) -> int:
    try:
        return int(path.stem.split("-", 1)[1])
    except (IndexError, ValueError):
        return -1
