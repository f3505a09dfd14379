"""`portail serve`: the whole portal on this machine, the browser seeing one port.

The embedded AWS (moto, docs/architecture.md) on a loopback port of its own, the public site built
by Pelican, the Chalice app and the private-page gate behind portail.devserver.

Each run makes a fresh signed-cookie key pair (portail.local_keys): the private key goes
into this process's environment (PORTAIL_CLOUDFRONT_KEY_PAIR_ID,
PORTAIL_CLOUDFRONT_PRIVATE_KEY), where the function signs the CloudFront cookies at
login, and the public key to the dev server, which verifies them as CloudFront does.
Cookies from an earlier run open nothing. PORTAIL_SITE_URL is set to the browser's
address, `http://127.0.0.1:<port>`: the cookies' policy names that exact scheme and host
(chalicelib.signed_cookies), so the family pages open at that address only (not at
`localhost:<port>`). The environment is restored on exit.

With `data_dir` (`portail serve --data DIR`, the default without `--demo`), the embedded
AWS's state is kept in that folder and taken up again at the next start
(portail/durable_aws.py, docs/environment.md).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from portail import ports

HOST = "127.0.0.1"
SITE_URL_ENV = "PORTAIL_SITE_URL"  # the portal's public address, read by the function
FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"


def _check_now(now: str) -> None:
    from chalicelib.clock import parse_instant

    try:
        parse_instant(now)
    except ValueError as error:
        detail = str(error) if "«" in str(error) else (
            f"« {now} » n'est pas une date ISO-8601, par exemple 2014-11-28T12:00:00+01:00"
        )
        raise SystemExit(f"--now : {detail}") from None


def _start_aws(aws_port: int | None, browser_port: int, site_origin: str | None = None, durable=None):
    """The embedded AWS; `site_origin` (the portal's address) is the one web origin it
    answers, for the pages' certificate uploads (portail/embedded_aws.py); `durable` the
    folder its state is kept in (portail/durable_aws.py), or None (memory only)."""
    from portail.embedded_aws import EmbeddedAWS

    if aws_port is not None:
        try:
            return EmbeddedAWS(port=aws_port, host=HOST, site_origin=site_origin, durable=durable).start()
        except ports.PortInUse as error:
            raise SystemExit(f"AWS embarqué : {error}") from None
    # Default: the browser's port + 1, or any free port when that one is taken.
    if browser_port:
        try:
            return EmbeddedAWS(port=browser_port + 1, host=HOST, site_origin=site_origin, durable=durable).start()
        except (ports.PortInUse, OSError):
            pass
    return EmbeddedAWS(port=0, host=HOST, site_origin=site_origin, durable=durable).start()


def _lock_data(data_dir: Path | None):
    """The folder's DurableState, locked: a second portal on it stops here, in French."""
    if data_dir is None:
        return None
    from portail.durable_aws import DataDirBusy, DurableState

    durable = DurableState(Path(data_dir), say=lambda text: print(text, flush=True))
    try:
        durable.lock()
    except DataDirBusy as error:
        raise SystemExit(str(error)) from None
    except OSError as error:
        raise SystemExit(f"Dossier de données {data_dir} inutilisable : {error}") from None
    return durable


def _build_from_store(output_dir: Path, url: str) -> int:
    """The public site from the stored content (content/ seeds an empty store), and the
    local publisher: a save at /gestion/informations/ rebuilds it (portail/publishing.py)."""
    import tempfile

    from chalicelib.clock import now as clock_now
    from chalicelib.dependencies import storage
    from chalicelib.site_store import PUBLISHING, SiteStore

    from portail import publishing

    publishing.seed(storage(), clock_now())
    stored = [item for item in SiteStore(storage()).pages() if item["sk"] != PUBLISHING]
    with tempfile.TemporaryDirectory(prefix="portail-serve-") as work:
        pages = publishing.build_stored_site(stored, output_dir, site_url=url, work=Path(work),
                                             extra=publishing.stored_files(storage()))
    publishing.install_local(output_dir, url)
    return pages


def _start_warm_up(work: Callable[[], str]) -> threading.Event:
    """Runs `work` on a daemon thread; the Event is set when it is over (done or failed)."""
    done = threading.Event()

    def run() -> None:
        try:
            print(work(), flush=True)
        except Exception:  # noqa: BLE001 - the portal keeps serving; the cause is printed
            import traceback

            traceback.print_exc()
        finally:
            done.set()

    threading.Thread(target=run, name="portail-warm-up", daemon=True).start()
    return done

def _data_line(durable, seeded: bool) -> str:
    if not durable.restored:
        return (f"Données conservées dans {durable.directory}/ : tout ce que le portail confirme y est "
                "écrit, et repris au prochain démarrage.")
    line = f"Données reprises de {durable.directory}/"
    if durable.replayed:
        line += f" ({durable.replayed} écriture(s) rejouée(s) depuis le journal)"
    return line + (" : la démonstration n'est pas chargée à nouveau." if seeded else ".")


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def serve(
    port: int = 8000,
    aws_port: int | None = None,
    now: str | None = None,
    seed: Callable[[], str] | None = None,
    output_dir: Path = Path("output"),
    *,
    data_dir: Path | None = None,
    on_ready: Callable[[object], None] | None = None,
    warm_up: Callable[[], str] | None = None,
) -> None:
    """Runs the portal on http://127.0.0.1:`port`/ until Ctrl-C (then returns).

    now: ISO-8601 instant with its offset; freezes the portal's clock (PORTAIL_NOW).
    seed: called once the embedded AWS is ready (AWS_ENDPOINT_URL set); returns the
      French text telling how to log in, printed as is.
    aws_port: the embedded AWS's port; default the browser's port + 1 (or a free one).
    data_dir: the folder the embedded AWS's state is kept in (portail/durable_aws.py),
      or None: memory only. A folder that already holds a state is taken up as it is:
      `seed` is not called again. A folder another portal uses stops here (SystemExit).
    on_ready: for tests, receives the werkzeug server once it listens
      (`server.shutdown()` from another thread stops serve()).
    warm_up: what follows `seed` but need not delay the first page (the demo's data,
      family pages and PDFs: the public site needs none of it), run on a thread once the
      portal listens, after a seed only (a state taken up from `data_dir` has them);
      returns the French text printed at its end. Until then a family page not written
      yet, and every write of the API (a login too), wait for it (portail/devserver.py).
    A busy port or a bad `now` raises SystemExit with a French message (status 1),
    before anything starts.
    """
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.append(str(FUNCTIONS_DIR))  # `app`, as on Lambda
    if now is not None:
        _check_now(now)
    durable = _lock_data(data_dir)  # first: a second portal on the folder is told so
    try:
        browser = ports.bind(HOST, port)  # fail fast: before moto and the build
    except ports.PortInUse as error:
        if durable is not None:
            durable.unlock()
        raise SystemExit(str(error)) from None

    saved_environment = dict(os.environ)
    main_thread = threading.current_thread() is threading.main_thread()
    previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    # Ctrl-C stops the portal even when it was started with SIGINT ignored (a background
    # job of a non-interactive shell, CI): Python keeps an inherited SIG_IGN otherwise.
    previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler) if main_thread else None
    aws = server = None
    try:
        if now is not None:
            from chalicelib.clock import FROZEN_ENV

            os.environ[FROZEN_ENV] = now
        from portail.local_keys import export_to_environment, generate_signing_keys

        signing_keys = generate_signing_keys()
        export_to_environment(signing_keys)  # the function signs with it, in this process
        url = f"http://{HOST}:{ports.port_of(browser)}"
        os.environ[SITE_URL_ENV] = url  # the cookies' policy names this exact address
        aws = _start_aws(aws_port, ports.port_of(browser), site_origin=url, durable=durable)
        aws.configure_environment()
        aws.create_resources()
        if durable is not None:
            print(_data_line(durable, seed is not None), flush=True)
        seeded = seed is not None and (durable is None or not durable.restored)
        if seeded:
            print(seed(), flush=True)

        from portail.build import BuildError

        try:
            pages = _build_from_store(Path(output_dir), url)
        except BuildError as error:
            raise SystemExit(str(error)) from None

        from portail.devserver import DevServer, make_devserver

        devserver = DevServer(Path(output_dir), public_keys=signing_keys.public_keys())
        server = make_devserver(devserver, HOST, sock=browser)
        browser = None  # handed over to the server
        print(f"Site public : {pages} page(s) construites dans {output_dir}/", flush=True)
        print(f"AWS embarqué (DynamoDB, S3, SES) : {aws.endpoint_url}", flush=True)
        if now is not None:
            print(f"Horloge du portail figée au {now}", flush=True)
        print(f"Portail Famille : {url}/", flush=True)
        print("Ctrl-C pour arrêter.", flush=True)
        if warm_up is not None and seeded:
            devserver.warming = _start_warm_up(warm_up)
        if on_ready is not None:
            on_ready(server)
        server.serve_forever()  # returns on Ctrl-C (werkzeug catches it) or shutdown()
        print("\nPortail Famille arrêté.", flush=True)
    except KeyboardInterrupt:
        print("\nPortail Famille arrêté.", flush=True)
    finally:
        if server is not None:
            server.server_close()
        if browser is not None:
            browser.close()
        if aws is not None:
            aws.stop()  # with --data: the snapshot, then the folder's lock freed
        elif durable is not None:
            durable.unlock()
        if main_thread:
            signal.signal(signal.SIGTERM, previous_sigterm)
            signal.signal(signal.SIGINT, previous_sigint)
        os.environ.clear()
        os.environ.update(saved_environment)
