"""The family search index: normalised name tokens, so that staff find a family by its
number, a responsable's or a child's name, a login or an e-mail, whatever the case and
the accents (« ztést » finds ZTEST), with one Query per word, never a Scan
(docs/data-model.md, « The family search index »).

Each source of names owns its tokens: the family (`F`: its number), a responsable
(`R<rank>`: last and first names, login, e-mail) and a child (`C<child id>`: last and
first names). A token is one item `SEARCH#<source>#<token>` in the family's partition,
indexed by gsi1 under `SEARCH#<its first two characters>`, `<token>#<N°>`. Because a
source's tokens are computed from its item alone, a writer that changes a responsable or
a child knows which tokens to delete (those of the item before) and which to put (those
of the item after) without reading the index. The family's token item, `SEARCH#F#<N°>`,
is also its card: its children's names, which the search list shows (the responsables'
items have known keys, the children's do not).

Pure, but for the item shapes: writers put and delete what `item_changes` gives.
"""

from __future__ import annotations

import re
import unicodedata

from chalicelib.keys import PROFILE, SEARCH, family_pk, search_index_pk, search_sk

MIN_WORD = 2  # a search word has at least two characters (the index's partitions)
MAX_WORDS = 5  # at most five words are looked up (one Query each)
MAX_TOKEN = 200  # longer texts are not names: cut, never refused
FAMILY_SOURCE = "F"

# What a name's parts are separated by: spaces, hyphens, apostrophes (typed or typographic).
_SEPARATORS = re.compile(r"[\s\-‐‑–—'’‘`´]+")
# Ligatures NFKD leaves whole.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "Œ": "oe", "Æ": "ae"})


def normalise(text) -> str:
    """Lower case (casefold), accents removed: « Zoé Lefèvre » → « zoe lefevre »."""
    text = unicodedata.normalize("NFKD", str(text or "").translate(_LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("#", "")


def words(text) -> list[str]:
    """The normalised parts of a text, split on spaces, hyphens and apostrophes."""
    return [w[:MAX_TOKEN] for w in _SEPARATORS.split(normalise(text)) if w]


def tokens(*texts) -> set[str]:
    """The tokens of some names: each part, and a compound name written as one word
    (« Jean-Pierre » → jean, pierre, jeanpierre; « O'Brien » → brien, obrien); parts of
    one character are not looked up, so not stored."""
    found: set[str] = set()
    for text in texts:
        parts = words(text)
        found.update(parts)
        if len(parts) > 1:
            found.add("".join(parts)[:MAX_TOKEN])
    return {t for t in found if len(t) >= MIN_WORD}


def query_words(text: str) -> list[str]:
    """The words a search looks up: distinct, at least MIN_WORD characters, the longest
    (the most selective) first, at most MAX_WORDS."""
    unique = [w for w in dict.fromkeys(words(text)) if len(w) >= MIN_WORD]
    return sorted(unique, key=len, reverse=True)[:MAX_WORDS]


# --- sources ----------------------------------------------------------------------------

def source_of(item: dict) -> str | None:
    """Which source of names a family item is (`F`, `R<rank>`, `C<child id>`), or None."""
    sk = item["sk"]
    if sk == PROFILE:
        return FAMILY_SOURCE
    if sk.startswith("RESPONSABLE#"):
        return "R" + sk.removeprefix("RESPONSABLE#")
    if sk.startswith("CHILD#"):
        return "C" + sk.removeprefix("CHILD#")
    return None


def item_tokens(item: dict | None) -> set[str]:
    """The tokens of one family item (none for an absent item)."""
    if not item:
        return set()
    source = source_of(item)
    if source == FAMILY_SOURCE:
        number = normalise(item.get("family_number", ""))
        return {number} if number else set()
    if source and source.startswith("R"):
        return tokens(item.get("last_name"), item.get("first_name"), item.get("login"), item.get("email"))
    if source and source.startswith("C"):
        return tokens(item.get("last_name"), item.get("first_name"))
    return set()


def token_item(family_number: str, source: str, token: str) -> dict:
    return {
        "pk": family_pk(family_number), "sk": search_sk(source, token), "kind": "search",
        "family_number": family_number, "gsi1pk": search_index_pk(token), "gsi1sk": f"{token}#{family_number}",
    }


def card_sk(family_number: str) -> str:
    return search_sk(FAMILY_SOURCE, normalise(family_number))


def card_item(family_number: str, children: list[dict]) -> dict:
    """The family's own token (its number) and card: its children's names for the list."""
    return {
        **token_item(family_number, FAMILY_SOURCE, normalise(family_number)),
        "children": [{"child_id": c["child_id"], "first_name": c.get("first_name", ""),
                      "last_name": c.get("last_name", "")}
                     for c in sorted(children, key=lambda c: str(c["child_id"]))],
    }


def item_changes(family_number: str, before: dict | None, after: dict) -> tuple[list[dict], list[tuple[str, str]]]:
    """(token items to put, keys to delete) when a responsable's or a child's item goes
    from `before` to `after`: only the tokens that changed, never one item both put and
    deleted (a batch or a transaction refuses that)."""
    source = source_of(after)
    if source is None or source == FAMILY_SOURCE:
        return [], []
    old, new = item_tokens(before), item_tokens(after)
    puts = [token_item(family_number, source, t) for t in sorted(new - old)]
    deletes = [(family_pk(family_number), search_sk(source, t)) for t in sorted(old - new)]
    return puts, deletes


def family_index(profile: dict, responsables: list[dict], children: list[dict]) -> list[dict]:
    """Every index item of a family (its card and every source's tokens): `portail
    families reindex`, and the sample families of tests and benchmarks."""
    number = profile["family_number"]
    items = [card_item(number, children)]
    for item in [*responsables, *children]:
        items += item_changes(number, None, item)[0]
    return items


def is_search_key(sk: str) -> bool:
    return sk.startswith(SEARCH)
