"""Who is who on a staff list: children and responsables by family, read in one batch.

Staff lists (the waiting list, the headcount, certificates, paper plannings) hold
family numbers, child ids and responsable ranks; the people's names come from their
CHILD# and RESPONSABLE# items, fetched together with one BatchGetItem (100 keys a round
trip), never a Query per family.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib import storage as st


@dataclass
class People:
    """The CHILD# and RESPONSABLE# items found, by (family, child id) and (family, rank)."""

    children: dict[tuple[str, str], dict] = field(default_factory=dict)
    responsables: dict[tuple[str, int], dict] = field(default_factory=dict)

    def child(self, family: str, child: str) -> dict | None:
        return self.children.get((family, child))

    def child_name(self, family: str, child: str, default: str | None = None) -> str:
        """« NOM Prénom », or `default` (the child id when None) for a child not found."""
        item = self.child(family, child)
        if item is None:
            return child if default is None else default
        return f"{item['last_name']} {item['first_name']}"

    def responsable_name(self, family: str, rank: int, default: str = "") -> str:
        """« Civilité PRÉNOM NOM », or `default` for a responsable not found."""
        item = self.responsables.get((family, int(rank)))
        if item is None:
            return default
        return f"{item['civility']} {item['first_name']} {item['last_name']}"

    def as_dict(self) -> dict:
        """{(family, child): "NOM Prénom"} and {(family, rank): "Civilité PRÉNOM NOM"}."""
        found = {key: self.child_name(*key) for key in self.children}
        found.update({key: self.responsable_name(*key) for key in self.responsables})
        return found


def keys(wanted: Iterable[tuple[str, str | None, int | None]]) -> list[tuple[str, str]]:
    """The table keys of the children and responsables of (family, child, rank) triples;
    a None child or rank asks for nothing of that kind."""
    found = []
    for family, child, rank in wanted:
        if child is not None:
            found.append((st.family_pk(family), st.child_sk(child)))
        if rank is not None:
            found.append((st.family_pk(family), st.responsable_sk(int(rank))))
    return list(dict.fromkeys(found))


def sort(found: dict[tuple[str, str], dict]) -> People:
    """The CHILD# and RESPONSABLE# items of a batch_get's answer (others are left out)."""
    people = People()
    for (pk, sk), item in found.items():
        family = pk.removeprefix("FAMILY#")
        if sk.startswith("CHILD#"):
            people.children[(family, item["child_id"])] = item
        elif sk.startswith("RESPONSABLE#"):
            people.responsables[(family, int(item["rank"]))] = item
    return people


def read(storage: st.Storage, wanted: Iterable[tuple[str, str | None, int | None]]) -> People:
    """The children and responsables of (family, child, rank) triples: one BatchGetItem
    (per 100 keys), none when nothing is wanted."""
    wanted_keys = keys(wanted)
    return sort(storage.batch_get(wanted_keys) if wanted_keys else {})
