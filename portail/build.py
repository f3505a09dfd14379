"""Builds the public site with Pelican, from Python (`portail build`, `portail serve`)."""

from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager
from pathlib import Path

from portail.theme_assets import slim_theme

ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = ROOT / "site"
SETTINGS = SITE_DIR / "pelicanconf.py"
PUBLISH_SETTINGS = SITE_DIR / "publishconf.py"

# Written into every output folder this module builds: only such a folder is emptied
# before the next build (a mistaken --output never deletes anybody's files).
MARKER = ".portail-build"

log = logging.getLogger("portail.build")


class BuildError(Exception):
    """The site could not be built: the message says why (in French)."""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _quiet_pelican():
    """Pelican's log and its closing « Done: … » line, caught instead of printed."""
    from pelican import log as pelican_log

    logger = logging.getLogger("pelican")
    collect = _Collect()
    saved = (logger.handlers[:], logger.propagate, logger.level, pelican_log.console.quiet)
    logger.handlers = [collect]
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    pelican_log.console.quiet = True
    try:
        yield collect.records
    finally:
        logger.handlers, logger.propagate, level, pelican_log.console.quiet = saved
        logger.setLevel(level)


def _prepare(output_dir: Path) -> None:
    if output_dir.exists():
        if not output_dir.is_dir():
            raise BuildError(f"{output_dir} existe et n'est pas un dossier.")
        if any(output_dir.iterdir()):
            if not (output_dir / MARKER).exists():
                raise BuildError(
                    f"Le dossier {output_dir} n'est pas vide et ne vient pas d'une construction "
                    "du portail : choisissez un dossier vide ou nouveau (--output)."
                )
            shutil.rmtree(output_dir)  # no page of a deleted notice survives
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / MARKER).write_text("Site public du Portail Famille (portail build).\n")


def _message(record: logging.LogRecord) -> str:
    """The record's message, and the exception's when Pelican logged one (« Could not
    process notices/x.md » says which file, the exception says why)."""
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        text += f" : {record.exc_info[1]}"
    return text


def build_site(output_dir: Path, *, site_url: str | None = None, publish: bool = False,
               content_dir: Path | None = None) -> int:
    """Builds the public site into `output_dir`; returns the number of HTML pages written.

    `site_url` replaces the canonical address of commune.toml (feeds, canonical links;
    the pages link root-relative). `publish` uses site/publishconf.py (adds the
    notices' Atom feed). `content_dir` replaces content/ (a preview of other Markdown).
    The build's clock is the portal's (PORTAIL_NOW): it decides which notices have
    expired and dates the guide's examples. Pelican's own output is silenced; its
    warnings are logged on `portail.build`, its errors raise BuildError.
    """
    from pelican import Pelican, signals
    from pelican.settings import read_settings

    output_dir = Path(output_dir).resolve()
    _prepare(output_dir)
    override = {"OUTPUT_PATH": str(output_dir)}
    if site_url is not None:
        override["SITEURL"] = site_url.rstrip("/")
    if content_dir is not None:
        override["PATH"] = str(Path(content_dir).resolve())

    written: set[str] = set()

    def count(path, context=None):
        if str(path).endswith(".html"):
            written.add(str(path))

    with _quiet_pelican() as records:
        settings = read_settings(str(PUBLISH_SETTINGS if publish else SETTINGS), override=override)
        with signals.content_written.connected_to(count):
            try:
                Pelican(settings).run()
            except Exception as error:
                raise BuildError(f"Construction du site impossible : {error}") from error
    # The theme's CSS and JS served without their comments (portail/theme_assets.py).
    slim_theme(output_dir / "theme")

    errors = [record for record in records if record.levelno >= logging.ERROR]
    for record in records:
        if record.levelno < logging.ERROR:
            log.warning("Pelican : %s", _message(record))
    if errors:
        raise BuildError(
            "Construction du site impossible :\n"
            + "\n".join(f"  {_message(record)}" for record in errors)
        )
    return len(written)
