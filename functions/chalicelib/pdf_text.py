"""Plain texts of the régie's PDFs (invoices, credit notes, receipts) without reportlab's
Paragraph: a `TextBlock` takes the few marks those texts use (`<br/>`, `<b>…</b>` and the
escapes of `invoice_pdf._text`) in a ParagraphStyle's font, size, leading and alignment,
wraps its words to the width it is given and draws them with the canvas. Paragraph parses
its markup as XML and breaks lines through its fragments machinery: most of the time of
an invoice PDF (~3 ms a paragraph, a table's own rendering costing less), while these
texts need none of it. `Columns` sets blocks side by side, top-aligned, as a one-row
Table would, without a Table's cell geometry; `Stack` sets them one under the other.

Imported with reportlab, by the first PDF made (never at the function's start).
"""

from __future__ import annotations

import functools
import re

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.fonts import ps2tt, tt2ps
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth, unicode2T1
from reportlab.platypus.flowables import Flowable


def _differences_once_per_process() -> None:
    """reportlab compares each font's encoding with its base encoding, 256 code points, for
    every font of every PDF (`Encoding.getDifferences`); the encodings in use are frozen
    (immutable), so the answer is kept per pair for the process. A copy is handed out."""
    from reportlab.pdfbase.pdfmetrics import Encoding

    original = Encoding.getDifferences
    if getattr(original, "kept", False):
        return
    kept: dict[tuple, list] = {}

    def getDifferences(self, otherEnc):  # noqa: N802 - reportlab's name
        if not (getattr(self, "frozen", 0) and getattr(otherEnc, "frozen", 0)):
            return original(self, otherEnc)
        key = (self.name, self.vector, otherEnc.name, otherEnc.vector)
        ranges = kept.get(key)
        if ranges is None:
            ranges = kept[key] = original(self, otherEnc)
        return [list(r) for r in ranges]

    getDifferences.kept = True
    Encoding.getDifferences = getDifferences


_differences_once_per_process()

_MARK = re.compile(r"(<br\s*/>|</?b>)")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _unescape(text: str) -> str:
    for entity, character in _ENTITIES:
        text = text.replace(entity, character)
    return text


_WIDTHS: dict[tuple[str, str, float], float] = {}
_WIDTHS_KEPT = 20000  # words of every invoice of a run: the texts' own, names, numbers


def _width(text: str, font: str, size: float) -> float:
    """stringWidth, kept per word: an invoicing run measures the same words in every PDF."""
    key = (text, font, size)
    width = _WIDTHS.get(key)
    if width is None:
        if len(_WIDTHS) >= _WIDTHS_KEPT:
            _WIDTHS.clear()
        width = _WIDTHS[key] = stringWidth(text, font, size)
    return width


_BROKEN: dict[tuple, list] = {}
_BROKEN_KEPT = 2000


@functools.lru_cache(maxsize=32)
def _bold(font: str) -> str:
    family, _, italic = ps2tt(font)
    return tt2ps(family, 1, italic)


def lines_of(markup: str, font: str) -> list[list[tuple[str, str]]]:
    """The markup's lines (split at `<br/>`), each a list of (font, text) runs."""
    bold_font = _bold(font)
    lines: list[list[tuple[str, str]]] = [[]]
    bold = False
    for piece in _MARK.split(markup):
        if piece == "<b>":
            bold = True
        elif piece == "</b>":
            bold = False
        elif piece.startswith("<br"):
            lines.append([])
        elif piece:
            lines[-1].append((bold_font if bold else font, _unescape(piece)))
    return lines


def _words(runs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """A line's words, each a list of (font, text) pieces (a word may change font midway,
    « <b>92,15 €</b>. »); spaces separate words, several count as one (as Paragraph)."""
    words: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for font, text in runs:
        for index, part in enumerate(text.replace("\n", " ").split(" ")):
            if index and current:
                words.append(current)
                current = []
            if part:
                current.append((font, part))
    if current:
        words.append(current)
    return words


class TextBlock(Flowable):
    """A text in one ParagraphStyle (font, size, leading, alignment, space before and
    after), wrapped at spaces to the width available."""

    def __init__(self, markup: str, style) -> None:
        super().__init__()
        self.style = style
        self.markup = markup
        self._printed: list = []

    def wrap(self, availWidth, availHeight):
        # The same text in the same style and width breaks the same way: the texts every
        # invoice shares (the régie's address, the notes) are broken once per process.
        key = (self.markup, self.style.fontName, self.style.fontSize, availWidth)
        printed = _BROKEN.get(key)
        if printed is None:
            if len(_BROKEN) >= _BROKEN_KEPT:
                _BROKEN.clear()
            printed = _BROKEN[key] = self._break(availWidth)
        self._printed = printed
        self.width = availWidth
        self.height = len(printed) * self.style.leading
        return self.width, self.height

    def _break(self, width: float) -> list[tuple[float, list[tuple[str, str]]]]:
        """(width, runs of one font each, spaces included) of each printed line."""
        size = self.style.fontSize
        printed = []
        for runs in lines_of(self.markup, self.style.fontName):
            line: list[tuple[str, str]] = []
            used = 0.0
            for word in _words(runs):
                span = sum(_width(text, font, size) for font, text in word)
                space = _width(" ", line[-1][0], size) if line else 0.0
                if line and used + space + span > width:
                    printed.append((used, line))
                    line, used, space = [], 0.0, 0.0
                for index, (font, text) in enumerate(word):
                    if not index and line:
                        text = " " + text
                    if line and line[-1][0] == font:
                        line[-1] = (font, line[-1][1] + text)
                    else:
                        line.append((font, text))
                used += space + span
            printed.append((used, line))
        return printed

    def split(self, availWidth, availHeight):
        return []  # a few lines: kept whole, moved to the next page (as KeepTogether would)

    def getSpaceBefore(self):
        return self.style.spaceBefore

    def getSpaceAfter(self):
        return self.style.spaceAfter

    def draw(self):
        canvas = self.canv
        style = self.style
        canvas.setFillColor(style.textColor)
        key = (self.markup, style.fontName, style.fontSize, style.leading, style.alignment, self.width, self.height)
        parts = _DRAWN.get(key) if canvas.bottomup else False
        if parts is None:
            if len(_DRAWN) >= _BROKEN_KEPT:
                _DRAWN.clear()
            parts = _DRAWN[key] = _code_parts(self._printed, style, self.width, self.height) or False
        if parts is False:  # a character from another font, or a top-down canvas: reportlab's text object
            self._draw_with_text_object()
            return
        # The text object's very operators (see _code_parts), with this document's font names.
        doc = canvas._doc
        canvas._code.append("".join(p if p.__class__ is str else doc.getInternalFontName(p[0]) for p in parts))

    def _draw_with_text_object(self):
        style = self.style
        canvas = self.canv
        y = self.height - style.fontSize
        text = canvas.beginText()
        font_set = None
        for used, pieces in self._printed:
            text.setTextOrigin(_x(style, self.width, used), y)
            for font, run in pieces:
                if font != font_set:
                    text.setFont(font, style.fontSize, style.leading)
                    font_set = font
                text.textOut(run)
            y -= style.leading
        canvas.drawText(text)


# A block's PDF operators, kept per text, style and size: the texts every invoice shares
# are formatted once per process; only the document's font names (`/F1`…, given in the
# order of first use) are looked up at each draw.
_DRAWN: dict[tuple, list | bool] = {}  # False: drawn by the text object


def _x(style, width: float, used: float) -> float:
    if style.alignment == TA_RIGHT:
        return width - used
    if style.alignment == TA_CENTER:
        return (width - used) / 2
    return 0.0


def _shown(font_name: str, text: str) -> str | None:
    """`(…) Tj` as reportlab's text object writes a run in a standard Type 1 font, or
    None when a character would need another font (the text object then does it)."""
    font = getFont(font_name)
    if font._dynamicFont or font._multiByte:
        return None
    segments = unicode2T1(text, [font, *font.substitutionFonts])
    if any(f is not font for f, _ in segments):
        return None
    return " ".join(f"({escapePDF(t)}) Tj" for _, t in segments)


def _code_parts(printed, style, width: float, height: float) -> list | None:
    """What `canvas.beginText()`, `setTextOrigin`, `setFont`, `textOut` and `drawText`
    write for the block, as strings and (font,) places for the document's font name."""
    size, leading = fp_str(style.fontSize), fp_str(style.leading)
    parts: list = ["BT 1 0 0 1 0 0 Tm"]
    y = height - style.fontSize
    font_set = None
    for used, pieces in printed:
        parts.append(f" 1 0 0 1 {fp_str(_x(style, width, used), y)} Tm")
        for font, run in pieces:
            if font != font_set:
                parts += [" ", (font,), f" {size} Tf {leading} TL"]
                font_set = font
            shown = _shown(font, run)
            if shown is None:
                return None
            parts.append(" " + shown)
        y -= style.leading
    parts.append(" ET")
    return parts


class Stack(Flowable):
    """Flowables one under the other, with `gaps` (points) between them, kept on one page:
    a few flowables for the document template to place instead of many (each costs it a
    frame's bookkeeping), as KeepTogether without its double wrapping."""

    def __init__(self, flowables, gaps=()) -> None:
        super().__init__()
        self.flowables = flowables
        self.gaps = list(gaps) + [0] * (len(flowables) - len(gaps))

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        self.height = sum(f.wrap(availWidth, availHeight)[1] for f in self.flowables) + sum(self.gaps[:-1])
        return self.width, self.height

    def split(self, availWidth, availHeight):
        return []

    def draw(self):
        y = self.height
        for flowable, gap in zip(self.flowables, self.gaps, strict=True):
            y -= flowable.height
            flowable.drawOn(self.canv, 0, y)
            y -= gap


class Columns(Flowable):
    """Flowables side by side, each in its width (and its padding: left, right, top, bottom),
    top-aligned: a one-row Table's layout without its cell geometry."""

    def __init__(self, cells, padding=(0, 0, 0, 0)) -> None:
        super().__init__()
        self.cells = cells  # [(flowable, width)]
        self.padding = padding

    def wrap(self, availWidth, availHeight):
        left, right, top, bottom = self.padding
        tallest = max(f.wrap(width - left - right, availHeight)[1] for f, width in self.cells)
        self.width = sum(width for _, width in self.cells)
        self.height = tallest + top + bottom
        return self.width, self.height

    def split(self, availWidth, availHeight):
        return []

    def draw(self):
        left, _, top, _ = self.padding
        x = 0.0
        for flowable, width in self.cells:
            flowable.drawOn(self.canv, x + left, self.height - top - flowable.height)
            x += width
