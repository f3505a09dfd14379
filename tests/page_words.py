"""What a page says, checked for two slips of wording: a doubled colon and a sentence said twice.

The text is what a parent reads or hears: the elements' text (not scripts or styles),
and the `aria-label`, `title` and `alt` a screen reader says, each on its own. It is cut
into *sentences* at every block boundary (paragraph, list item, table cell, heading,
label, button, line break…) and at every sentence end (`.`, `!`, `?` or `…` followed by
a space).

- **Doubled colon**: two French colons (a colon preceded by a space, as French writes
  it) in one *chunk*: a sentence cut at its list separators (`,` and `;`), where a
  quotation « … » or a parenthesis ( … ) is a chunk of its own, apart from the words
  around it. « Jour férié : Noël : le service … est fermé » is one slip; « Jours refusés :
  … » then, in the next list item, « Noël (jour férié) : … » is none, nor « une ligne par
  opération : sa description (par exemple « Facture : 01/06/2017 ») » or « (F : férié,
  P : vacances) ».
- **Sentence said twice**: two sentences back to back, in one block, equal once
  normalised (case, spaces and final punctuation aside); or a short label (the words
  after the last colon of a sentence, three words at most) said again at the start of
  the next sentence: « RESTAURATION : validée. Réservation validée. » (« validée »
  among the first words of the next sentence).
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "button", "caption", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "label", "legend", "li", "main", "nav", "ol", "option", "p", "pre", "section", "select", "summary", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
SILENT = {"script", "style", "template", "noscript", "head"}
SPOKEN_ATTRIBUTES = ("aria-label", "title", "alt")
FRENCH_COLON = re.compile(r"\s:(?=\s|$)")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
LABEL_WORDS = 3


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = [""]
        self.silent = 0

    def handle_starttag(self, tag, attrs):
        if tag in SILENT:
            self.silent += 1
        if tag in BLOCKS:
            self.blocks.append("")
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.blocks.append(value)
                self.blocks.append("")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SILENT:
            self.silent -= 1

    def handle_endtag(self, tag):
        if tag in SILENT:
            self.silent = max(0, self.silent - 1)
        if tag in BLOCKS:
            self.blocks.append("")

    def handle_data(self, data):
        if not self.silent:
            self.blocks[-1] += data


def blocks(html: str) -> list[str]:
    """The page's text, one string per block (spaces collapsed), empty ones left out."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return [text for text in (" ".join(b.split()) for b in parser.blocks) if text]


def sentences(block: str) -> list[str]:
    return [s for s in SENTENCE_END.split(block) if s]


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().strip(" .!?…:;,").split())


NESTED = re.compile(r"«[^«»]*»|\([^()]*\)")
LIST_SEPARATOR = re.compile(r"[,;]")


def chunks(sentence: str) -> list[str]:
    """The sentence's chunks: its quotations and parentheses (innermost first) taken out
    as chunks of their own, then what is left cut at `,` and `;`."""
    nested, rest = [], sentence
    while (found := NESTED.search(rest)) is not None:
        nested.append(found.group(0)[1:-1])
        rest = rest[:found.start()] + " … " + rest[found.end():]
    return [part for text in (rest, *nested) for part in LIST_SEPARATOR.split(text)]


def doubled_colons(html: str) -> list[str]:
    return [sentence for block in blocks(html) for sentence in sentences(block)
            if any(len(FRENCH_COLON.findall(chunk)) >= 2 for chunk in chunks(sentence))]


def repeated_sentences(html: str) -> list[str]:
    found = []
    for block in blocks(html):
        parts = sentences(block)
        for before, after in zip(parts, parts[1:], strict=False):
            label = _normal(FRENCH_COLON.split(before)[-1])
            words = _normal(after).split()
            label_words = label.split()
            repeated = _normal(before) == _normal(after)
            if 0 < len(label_words) <= LABEL_WORDS and len(words) > len(label_words):
                start = words[:len(label_words) + 1]
                repeated |= any(start[i:i + len(label_words)] == label_words for i in range(2))
            if repeated:
                found.append(f"{before} {after}")
    return found


def problems(pages: dict[str, str]) -> list[str]:
    """`{name: html}` → French lines, one per slip: empty when every page reads well."""
    lines = []
    for name, html in sorted(pages.items()):
        lines += [f"{name} : deux-points doublés : « {chunk} »" for chunk in doubled_colons(html)]
        lines += [f"{name} : phrase répétée : « {text} »" for text in repeated_sentences(html)]
    return lines
