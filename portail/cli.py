"""`portail`: the operator's and staff's command line (docs/cli.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portail import aws


def _serve(args) -> int:
    from chalicelib.config import get_commune

    get_commune()  # a broken commune.toml stops here, before anything starts
    import os

    from portail.local_keys import local_secret
    from portail.serve import serve

    # The stage's secret (form tokens): the local portal's own, kept between runs.
    os.environ.setdefault("PORTAIL_SECRET", local_secret())
    if args.demo:
        os.environ["PORTAIL_DEMO"] = "1"  # the demo passwords (and staff TOTP secret) work in demo mode only

    seed = warm_up = None
    if args.demo:
        def seed() -> str:
            # What the operator reads at once: how to log in. The demo itself is written
            # by the warm-up, once the portal answers (its public site needs none of it).
            from portail.demo import demo_banner
            from portail.demo_staff import staff_banner

            return demo_banner() + "\n" + staff_banner(os.environ["PORTAIL_SITE_URL"])

        def warm_up() -> str:
            # Once the portal answers, so that the first page does not wait for them: the
            # demo's families and staff accounts, the families' pages (a login, any write
            # of the API and a family page asked before they are written wait for them,
            # portail/devserver.py), then the invoices' PDFs and mails.
            from chalicelib.clock import now

            from portail.demo import finish_demo_files, seed_demo
            from portail.demo_staff import seed_staff
            from portail.family_export import export_report, family_states

            # The demo's own requests to its embedded AWS: direct (portail.aws.client).
            storage, commune, instant = aws.storage(direct=True), get_commune(), now()
            seed_demo(storage, commune, instant, files_later=True)
            seed_staff(storage, instant, os.environ["PORTAIL_SITE_URL"])
            states = family_states(storage)  # one Scan for both
            report = export_report(storage, aws.client("s3", direct=True), commune, instant, states=states)
            files = finish_demo_files(storage, commune, instant, states.values())
            return f"Pages des familles de démonstration exportées : {report.pages} page(s). {files}"
    serve(port=args.port, aws_port=args.aws_port, now=args.now, seed=seed, output_dir=Path(args.output),
          data_dir=_data_dir(args), warm_up=warm_up)
    return 0


def _data_dir(args) -> Path | None:
    """Where the embedded AWS keeps its state: --data, else .portail/data; the demo in
    memory unless --data is given (docs/environment.md)."""
    from portail.local_keys import LOCAL_STATE

    if args.data:
        return Path(args.data)
    return None if args.demo else LOCAL_STATE / "data"


def _import(args) -> int:
    from chalicelib.config import get_commune

    from portail.importer import import_directory, import_files

    commune = get_commune()
    storage = aws.storage(args.endpoint_url)
    options = {"dry_run": args.dry_run}
    if args.directory:
        report = import_directory(storage, commune, Path(args.directory), **options)
    else:
        report = import_files(
            storage, commune,
            families=_path(args.families), responsables=_path(args.responsables),
            children=_path(args.children), **options,
        )
    prefix = "Vérification seule, rien n'est écrit : " if args.dry_run else "Import terminé : "
    print(prefix + report.summary())
    if report.folders_moved and not args.dry_run:
        # « compte commun » changed: the logins now open another folder, written now.
        from portail.family_export import FamilyExportError, export_families

        try:
            print(export_families(report.folders_moved, args.endpoint_url))
        except FamilyExportError as error:
            print(str(error), file=sys.stderr)
    return 0


def _build(args) -> int:
    from portail.build import build_site

    pages = build_site(Path(args.output), site_url=args.site_url)
    print(f"Site public construit : {pages} page(s) dans {args.output}/")
    if args.families:
        from portail.family_export import FamilyExportError, export_everything

        try:
            print(export_everything(args.endpoint_url))
        except FamilyExportError as error:
            print(str(error), file=sys.stderr)
            return 1
    return 0


def _demo_files(args) -> int:
    from portail.demo import DEMO_DIR, write_demo_files

    target = Path(args.directory) if args.directory else DEMO_DIR
    write_demo_files(target)
    print(f"Fichiers de démonstration écrits dans {target}/")
    return 0


def _staff(name: str):
    """A staff command of portail/staff.py; its refusals are French sentences (status 1)."""
    def handler(args) -> int:
        from portail import staff

        return staff.run(getattr(staff, name), args)
    return handler


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="portail", description="Portail Famille : outils de la commune.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    serve = commands.add_parser("serve", help="lance tout le portail sur cette machine (AWS embarqué)")
    serve.add_argument("--demo", action="store_true", help="charge les familles de démonstration")
    serve.add_argument("--port", type=int, default=8000, metavar="PORT", help="port du navigateur (défaut : 8000)")
    serve.add_argument("--aws-port", type=int, default=None, metavar="PORT",
                       help="port de l'AWS embarqué (défaut : port du navigateur + 1)")
    serve.add_argument("--now", metavar="ISO-8601", help="fige l'horloge du portail, ex. 2014-11-28T12:00:00+01:00")
    serve.add_argument("--output", default="output", metavar="DOSSIER", help="dossier du site construit (défaut : output)")
    serve.add_argument("--data", metavar="DOSSIER",
                       help="dossier où l'AWS embarqué garde ses données d'un lancement à l'autre (défaut : "
                            ".portail/data ; avec --demo, tout reste en mémoire sauf si --data est donné)")
    serve.set_defaults(handler=_serve)

    imp = commands.add_parser("import", help="importe familles, responsables et enfants (CSV ; séparés par « ; »)")
    imp.add_argument("--families", "--familles", metavar="FICHIER", help="le fichier des familles (familles.csv)")
    imp.add_argument("--responsables", metavar="FICHIER", help="le fichier des responsables (responsables.csv)")
    imp.add_argument("--children", "--enfants", metavar="FICHIER", help="le fichier des enfants (enfants.csv)")
    imp.add_argument("--directory", metavar="DOSSIER", help="dossier contenant les trois fichiers sous leurs noms usuels")
    imp.add_argument("--dry-run", action="store_true", help="vérifie les fichiers sans rien écrire")
    imp.add_argument("--endpoint-url", metavar="URL", help="adresse de l'AWS embarqué (défaut : AWS_ENDPOINT_URL, sinon AWS)")
    imp.set_defaults(handler=_import)

    build = commands.add_parser("build", help="construit le site public")
    build.add_argument("--output", default="output", metavar="DOSSIER", help="dossier de sortie (défaut : output)")
    build.add_argument("--site-url", metavar="URL", help="adresse publique du site (défaut : celle de commune.toml)")
    build.add_argument("--families", "--familles", action="store_true",
                       help="enregistre aussi les informations et exporte les pages de toutes les familles")
    build.add_argument("--endpoint-url", metavar="URL", help="avec --families : adresse de l'AWS embarqué "
                                              "(défaut : AWS_ENDPOINT_URL, sinon AWS)")
    build.set_defaults(handler=_build)

    demo = commands.add_parser("demo-files", help="régénère les fichiers CSV de démonstration")
    demo.add_argument("directory", nargs="?", metavar="DOSSIER", help="dossier cible (défaut : data/demo)")
    demo.set_defaults(handler=_demo_files)

    from portail.staff import parse_day

    endpoint_help = "adresse de l'AWS embarqué (défaut : AWS_ENDPOINT_URL, sinon AWS)"
    requests = commands.add_parser("requests", help="demandes en attente : liste, acceptation, refus")
    decisions = requests.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = decisions.add_parser("list", help="les demandes en attente, par jour et service, dans l'ordre d'arrivée")
    listing.add_argument("--service", help="un service (code ou libellé)")
    listing.add_argument("--date", type=parse_day, metavar="DATE", help="un jour (JJ/MM/AAAA ou AAAA-MM-JJ)")
    listing.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    listing.set_defaults(handler=_staff("requests_list"))
    for action, text in (("accept", "accepte une demande en attente (dans la capacité du service)"),
                         ("refuse", "refuse une demande en attente, avec son motif")):
        decision = decisions.add_parser(action, help=text)
        decision.add_argument("--family", required=True, metavar="N", help="numéro de famille")
        decision.add_argument("--child", required=True, metavar="ENFANT", help="numéro de l'enfant")
        decision.add_argument("--service", required=True, help="le service (code ou libellé)")
        decision.add_argument("--date", required=True, type=parse_day, metavar="DATE",
                              help="le jour demandé (JJ/MM/AAAA ou AAAA-MM-JJ)")
        if action == "refuse":
            decision.add_argument("--reason", required=True, metavar="MOTIF", help="le motif, transmis à la famille")
        decision.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
        decision.set_defaults(handler=_staff(f"requests_{action}"))

    plannings = commands.add_parser("plannings", help="plannings papier du mois prochain")
    planning_actions = plannings.add_subparsers(dest="action", required=True, metavar="ACTION")
    planning = planning_actions.add_parser("import", help="réserve les jours d'un planning papier (CSV ; séparé par « ; »)")
    planning.add_argument("file", metavar="FICHIER", help="numero_famille;numero_enfant;date;service;rang")
    planning.add_argument("--late", action="store_true", help="accepte un planning arrivé après le 20 du mois")
    planning.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    planning.set_defaults(handler=_staff("plannings_import"))

    count = commands.add_parser("headcount", help="les enfants attendus par service un jour donné, et la liste d'attente")
    count.add_argument("--date", required=True, type=parse_day, metavar="DATE", help="le jour (JJ/MM/AAAA ou AAAA-MM-JJ)")
    count.add_argument("--service", help="un seul service (code ou libellé ; défaut : ceux ouverts ce jour-là)")
    count.add_argument("--csv", action="store_true", help="lignes CSV séparées par « ; » sur la sortie standard")
    count.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    count.set_defaults(handler=_staff("headcount"))

    certificates = commands.add_parser("certificates", help="certificats médicaux : liste, acceptation, refus, "
                                                            "enregistrement d'un certificat papier")
    certificate_actions = certificates.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = certificate_actions.add_parser("list", help="les certificats envoyés par les familles et pas encore "
                                                          "décidés : à examiner, ou en attente du fichier")
    listing.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    listing.set_defaults(handler=_staff("certificates_list"))
    for action, text in (("accept", "accepte un certificat reçu : ses jours d'absence ne sont plus facturés"),
                         ("refuse", "refuse un certificat, avec son motif")):
        decision = certificate_actions.add_parser(action, help=text)
        decision.add_argument("--family", required=True, metavar="N", help="numéro de famille")
        decision.add_argument("--id", required=True, metavar="ID",
                              help="l'identifiant du certificat (portail certificates list)")
        if action == "refuse":
            decision.add_argument("--reason", required=True, metavar="MOTIF", help="le motif, transmis à la famille")
        decision.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
        decision.set_defaults(handler=_staff(f"certificates_{action}"))
    record = certificate_actions.add_parser("record", help="enregistre un certificat médical reçu sur papier")
    record.add_argument("--family", required=True, metavar="N", help="numéro de famille")
    record.add_argument("--child", required=True, metavar="ENFANT", help="numéro de l'enfant")
    record.add_argument("--dates", required=True, metavar="D1,D2", help="les jours couverts, séparés par des virgules")
    record.add_argument("--file", metavar="CLÉ", help="le fichier numérisé dans le bucket des documents")
    record.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    record.set_defaults(handler=_staff("certificates_record"))

    # Each concern registers its own commands (billing, messages and family data, deployment).
    from portail import cli_billing, cli_deploy, cli_families, cli_messages, cli_staff

    for module in (cli_billing, cli_messages, cli_staff, cli_families, cli_deploy):
        module.register(commands, endpoint_help)
    return main


def main(argv: list[str] | None = None) -> int:
    from chalicelib.config import ConfigError

    from portail.importer import ImportRejected

    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"Configuration invalide :\n{error}", file=sys.stderr)
    except ImportRejected as error:
        print(f"Import refusé, rien n'a été écrit ({len(error.errors)} erreur(s)) :", file=sys.stderr)
        for problem in error.errors:
            print(f"  {problem}", file=sys.stderr)
    except aws.AWSUnavailable as error:
        print(str(error), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
