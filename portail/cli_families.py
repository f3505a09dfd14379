"""The `portail families` commands: registered by portail/cli.py.

`portail families reindex` writes the family search index (chalicelib/family_search.py,
docs/data-model.md) of every family again from its responsables and children: for a
table imported before the index existed, or to repair it. The import, staff's changes
and a parent's contact change keep it current otherwise. Idempotent; one Query per
family (the families from the `FAMILIES` index), its stale tokens deleted.
"""

from __future__ import annotations

from dataclasses import dataclass


def register(commands, endpoint_help: str) -> None:
    """Adds this module's sub-commands to `portail`'s parser."""
    families = commands.add_parser("families", help="familles : index de recherche du back-office")
    actions = families.add_subparsers(dest="action", required=True, metavar="ACTION")
    reindex = actions.add_parser("reindex", help="réécrit l'index de recherche des familles (noms, identifiants, "
                                                 "courriels) ; à lancer une fois sur une table importée avant l'index")
    reindex.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    reindex.set_defaults(handler=reindex_command)


@dataclass
class ReindexReport:
    families: int = 0
    written: int = 0
    deleted: int = 0

    def summary(self) -> str:
        return (f"Index de recherche réécrit : {self.families} famille(s), {self.written} entrée(s) écrite(s), "
                f"{self.deleted} entrée(s) périmée(s) supprimée(s).")


def reindex(storage) -> ReindexReport:
    """Every family's index items written again; the ones no source gives any more deleted."""
    from chalicelib import family_search
    from chalicelib import storage as st

    report = ReindexReport()
    for number in storage.family_numbers():
        items = storage.query_partition(st.family_pk(number))
        state = st.FamilyState.from_items(items)
        if state.profile is None:
            continue
        wanted = family_search.family_index(state.profile, state.responsables, state.children)
        keep = {item["sk"] for item in wanted}
        stale = [(i["pk"], i["sk"]) for i in items if family_search.is_search_key(i["sk"]) and i["sk"] not in keep]
        storage.batch_write(wanted, stale)
        report.families += 1
        report.written += len(wanted)
        report.deleted += len(stale)
    return report


def reindex_command(args) -> int:
    from portail import aws

    print(reindex(aws.storage(args.endpoint_url)).summary())
    return 0
