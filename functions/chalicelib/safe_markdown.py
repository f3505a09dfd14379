"""The Markdown of staff messages, rendered to safe HTML by the function itself.

The function cannot carry the `markdown` package (cold start, docs/architecture.md), and a message
is written by staff but shown inside a family's private pages: so a small subset is
rendered here, after escaping everything. The only tags in the output are the ones
written below; a link keeps its address only for http(s), mailto, tel or a path of the
portal (never `javascript:`, never `//other.host`).

Subset: paragraphs (blank lines), `#`…`###` headings (h3…h5: under the page's h1 and
the subject's h2, as `portail messages send` renders them), `-`/`*` and `1.` lists,
**bold**, *italic* / _italic_, `code`, [text](address) and <https://address>. Anything
else stays as text.
"""

from __future__ import annotations

import html
import re

_SAFE_ADDRESS = re.compile(r"^(https?://|mailto:|tel:|/(?![/\\]))", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_AUTOLINK = re.compile(r"&lt;(https?://[^\s&]+(?:&amp;[^\s&]+)*)&gt;")
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[*_](?=\S)(.+?)(?<=\S)[*_](?![\w*])")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*#*\s*$")


def _inline(escaped: str) -> str:
    """Inline marks on text already escaped (so no tag or quote can come from it). Code
    spans and addresses are set aside first: no emphasis is ever made inside them."""
    kept: list[str] = []

    def keep(fragment: str) -> str:
        kept.append(fragment)
        return f"\x00{len(kept) - 1}\x00"

    def link(match: re.Match) -> str:
        text, address = match.group(1), match.group(2)
        if not _SAFE_ADDRESS.match(html.unescape(address)):
            return text
        return keep(f'<a href="{address}">') + text + keep("</a>")

    text = _CODE.sub(lambda m: keep(f"<code>{m.group(1)}</code>"), escaped)
    text = _AUTOLINK.sub(lambda m: keep(f'<a href="{m.group(1)}">{m.group(1)}</a>'), text)
    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)


def render(markdown_text: str) -> str:
    """Safe HTML for a message's Markdown (see the module's docstring)."""
    escaped = html.escape(str(markdown_text or "").replace("\r\n", "\n"), quote=True).replace("\x00", "")
    out: list[str] = []
    for block in re.split(r"\n\s*\n", escaped.strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        for kind, pattern in (("ul", _BULLET), ("ol", _NUMBERED)):
            if all(pattern.match(line) for line in lines):
                items = "".join(f"<li>{_inline(pattern.match(line).group(1))}</li>" for line in lines)
                out.append(f"<{kind}>{items}</{kind}>")
                break
        else:
            heading = _HEADING.match(lines[0]) if len(lines) == 1 else None
            if heading:
                level = len(heading.group(1)) + 2
                out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            else:
                out.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(out)
