"""The theme's style sheets and scripts as the site serves them: their comments left out.

The sources under site/theme/static keep every comment (each says why); a parent on a
phone downloads none of them. `build_site` slims the copies Pelican wrote under the
output's `theme/`: a comment on its own line (in CSS any comment), a line's indentation
and a blank line go; everything else is served as written (no minifier, no bundling:
the browser runs the source's code, line for line). The
dashboard's budget (20 KB of HTML, CSS and JS, docs/family-pages.md « Bytes ») counts
the served bytes.
"""

from __future__ import annotations

import re
from pathlib import Path

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def slim_css(text: str) -> str:
    """The style sheet without its comments, indentation and blank lines. No rule of the
    theme holds « /* » inside a string, so a comment is everything from /* to */."""
    lines = (line.strip() for line in _CSS_COMMENT.sub("", text).splitlines())
    return "".join(line + "\n" for line in lines if line)


def slim_js(text: str) -> str:
    """The script without its whole-line comments, indentation and blank lines. A line
    that starts inside a template literal (an odd number of backticks before it) is
    kept as it is: its spaces are the string's."""
    kept, backticks = [], 0
    for line in text.splitlines():
        inside = backticks % 2 == 1
        backticks += len(re.findall(r"(?<!\\)`", line))
        if inside:
            kept.append(line)
        elif line.strip() and not line.lstrip().startswith("//"):
            kept.append(line.strip())
    return "".join(line + "\n" for line in kept)


def slim_theme(folder: Path) -> int:
    """Slims every .css and .js file under `folder` in place; returns the bytes saved."""
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
