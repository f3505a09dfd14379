"""The Markdown of the public site: one configuration for Pelican's build
(site/pelicanconf.py's MARKDOWN) and for the preview of /gestion/informations/, so that
the preview shows the very HTML the published page will.

Python-Markdown is imported on the first preview only (never at the function's start:
tests/test_function_package.py). Pages written in the browser may not hold raw HTML
(`raw_html`): Python-Markdown would pass it through to the public site; the guide and
the notices never needed any.
"""

from __future__ import annotations

import re

# Pelican's reader adds its `meta` extension; the rest is this configuration.
MARKDOWN = {
    "extension_configs": {
        # Aligned columns as attributes, never style="…" (the CSP forbids inline styles).
        "markdown.extensions.tables": {"use_align_attribute": True},
        "markdown.extensions.abbr": {},
        "markdown.extensions.def_list": {},
        "markdown.extensions.footnotes": {},
        "markdown.extensions.sane_lists": {},
        "markdown.extensions.toc": {},
    },
    "output_format": "html5",
}

# A tag, a closing tag, a comment or a declaration; not an autolink (<https://…>) nor
# an address (<nom@example.fr>), nor a lone « < » in a sentence.
_RAW_HTML = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?/?>|!--|![A-Za-z])")
# A link or picture whose address would run code ([x](javascript:…), [x]: data:…).
_UNSAFE_ADDRESS = re.compile(r"(\]\(\s*<?|^\s*\[[^\]]+\]:\s*<?)\s*(javascript|vbscript|data):", re.I | re.M)


def raw_html(text: str) -> str | None:
    """The first piece of raw HTML (or a `javascript:`/`data:` address) in `text` outside
    code (`…` and indented blocks), or None."""
    without_code = re.sub(r"`[^`\n]*`", "", text)
    without_code = "\n".join(line for line in without_code.split("\n") if not line.startswith(("    ", "\t")))
    found = _RAW_HTML.search(without_code) or _UNSAFE_ADDRESS.search(without_code)
    return found.group(0).strip() if found else None


def render(text: str) -> str:
    """The HTML Pelican's reader makes of a page's body (its metadata block aside)."""
    import markdown

    return markdown.Markdown(extensions=list(MARKDOWN["extension_configs"]),
                             extension_configs=MARKDOWN["extension_configs"],
                             output_format=MARKDOWN["output_format"]).convert(text)
