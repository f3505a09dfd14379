"""What the public site's Markdown may rely on at build time (a Pelican plugin).

- **Figures from commune.toml.** A page may write `{{ delai_jours }}`, `{{ delai_heure }}`
  … (the names of `rule_texts`): the build replaces them with the configured values, so
  the guide never states a deadline the function does not apply. An unknown name stops
  the build (a typo must not reach parents as « {{ dleai }} »).
- **Notices that expire.** A notice with `Expires: AAAA-MM-JJ` (or `AAAA-MM-JJ HH:MM`)
  is published up to that day (or minute) included, then left out of the build: no page,
  no line in the lists, no feed entry. The build's clock is the portal's
  (`chalicelib.clock.now`, frozen by `PORTAIL_NOW` / `portail serve --now`).

pelicanconf.py computes the texts and the clock once per build (settings BUILD_TEXTS
and BUILD_NOW) and lists this module in PLUGINS.
"""

from __future__ import annotations

import logging

from chalicelib import site_texts

# The rules themselves are the function's (chalicelib/site_texts.py): its preview of a
# staff-edited page fills the same figures.
from chalicelib.site_texts import (  # noqa: F401  (re-exported)
    days_fr,
    example_days,
    expires_at,
    is_expired,
    rule_texts,
)

# A child of Pelican's logger: portail.build collects its errors with Pelican's own (whose
# « Could not process x.md » does not say why).
log = logging.getLogger("pelican.portail")

class ContentError(Exception):
    """A page or notice the build cannot publish as written (French message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        log.error("%s", message)


def fill(text: str, texts: dict[str, str], source: str) -> str:
    """site_texts.fill, its error logged on Pelican's logger (the build names the file)."""
    try:
        return site_texts.fill(text, texts, source)
    except site_texts.UnknownPlaceholder as error:
        raise ContentError(str(error)) from None


# --- Pelican's side ------------------------------------------------------------------------


def _fill_content(content) -> None:
    texts = content.settings.get("BUILD_TEXTS")
    if texts is None or not getattr(content, "_content", None):
        return
    source = getattr(content, "relative_source_path", None) or content.source_path
    content._content = fill(content._content, texts, source)
    for field in ("title", "description", "summary"):
        value = content.metadata.get(field)
        if isinstance(value, str) and "{{" in value:
            setattr(content, field, fill(value, texts, source))
            content.metadata[field] = getattr(content, field)


def _read_expiry(content) -> None:
    """Parses `Expires` when the notice is read, so that a bad date names its file."""
    from zoneinfo import ZoneInfo

    raw = content.metadata.get("expires")
    if raw is None:
        content.expires = None
        return
    tz = ZoneInfo(content.settings["TIMEZONE"])
    try:
        content.expires = expires_at(raw, tz)
    except ValueError as error:
        raise ContentError(f"{content.relative_source_path} : {error}") from None


def _content_init(content) -> None:
    _fill_content(content)
    if type(content).__name__ == "Article":
        _read_expiry(content)


def _drop_expired(generator) -> None:
    now = generator.settings.get("BUILD_NOW")
    if now is None:
        return
    for name in ("articles", "hidden_articles", "translations", "hidden_translations"):
        kept = [a for a in getattr(generator, name) if not is_expired(getattr(a, "expires", None), now)]
        setattr(generator, name, kept)


def register() -> None:
    from pelican import signals

    signals.content_object_init.connect(_content_init)
    signals.article_generator_pretaxonomy.connect(_drop_expired)
