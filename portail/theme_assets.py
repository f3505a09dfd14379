"""The theme's style sheets and scripts as the site serves them: minified.

The sources under site/theme/static keep every comment (each says why) and their
layout; a parent on a phone downloads neither. `build_site` minifies the copies Pelican
wrote under the output's `theme/` with the well-kept minifiers of the field, rcssmin and
rjsmin (comments, indentation, line breaks and the spaces around punctuation go; names
and code stay as written, no bundling). The budgets of docs/family-pages.md « Bytes »
(the month page 40 KB, the dashboard 20 KB of HTML, CSS and JS) count the served bytes.
"""

from __future__ import annotations

from pathlib import Path

import rcssmin
import rjsmin


def slim_css(text: str) -> str:
    """The style sheet minified: every rule kept, comments and spaces left out."""
    return rcssmin.cssmin(text) + "\n"


def slim_js(text: str) -> str:
    """The script minified: comments and spaces left out, every statement and name kept
    (rjsmin keeps template literals, strings and regular expressions as written)."""
    return rjsmin.jsmin(text) + "\n"


def slim_theme(folder: Path) -> int:
    """Minifies every .css and .js file under `folder` in place; returns the bytes saved."""
    saved = 0
    for path in sorted(Path(folder).rglob("*")):
        slim = {".css": slim_css, ".js": slim_js}.get(path.suffix)
        if slim is None or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        slimmed = slim(text)
        saved += len(text.encode()) - len(slimmed.encode())
        path.write_text(slimmed, encoding="utf-8")
    return saved
