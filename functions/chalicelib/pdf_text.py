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
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus.flowables import Flowable

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
        style = self.style
        canvas = self.canv
        canvas.setFillColor(style.textColor)
        y = self.height - style.fontSize
        text = canvas.beginText()
        font_set = None
        for used, pieces in self._printed:
            x = 0.0
            if style.alignment == TA_RIGHT:
                x = self.width - used
            elif style.alignment == TA_CENTER:
                x = (self.width - used) / 2
            text.setTextOrigin(x, y)
            for font, run in pieces:
                if font != font_set:
                    text.setFont(font, style.fontSize, style.leading)
                    font_set = font
                text.textOut(run)
            y -= style.leading
        canvas.drawText(text)


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
