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
    import secrets

    from portail.serve import serve

    # The stage's secret (form tokens): a new one per run of the local portal.
    os.environ.setdefault("PORTAIL_SECRET", secrets.token_hex(32))
    if args.demo:
        os.environ["PORTAIL_DEMO"] = "1"  # the demo password is accepted in demo mode only

    seed = None
    if args.demo:
        def seed() -> str:
            from chalicelib.clock import now

            from portail.demo import seed_demo
            from portail.family_export import export_all

            storage, commune, instant = aws.storage(), get_commune(), now()
            text = seed_demo(storage, commune, instant)
            export_all(storage, aws.client("s3"), commune, instant)
            return text
    serve(port=args.port, aws_port=args.aws_port, now=args.now, seed=seed, output_dir=Path(args.output))
    return 0


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
    return 0


def _build(args) -> int:
    from portail.build import build_site

    pages = build_site(Path(args.output), site_url=args.site_url)
    print(f"Site public construit : {pages} page(s) dans {args.output}/")
    return 0


def _demo_files(args) -> int:
    from portail.demo import DEMO_DIR, write_demo_files

    target = Path(args.directory) if args.directory else DEMO_DIR
    write_demo_files(target)
    print(f"Fichiers de démonstration écrits dans {target}/")
    return 0


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="portail", description="Portail Famille : outils de la commune.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    serve = commands.add_parser("serve", help="lance tout le portail sur cette machine (AWS embarqué)")
    serve.add_argument("--demo", action="store_true", help="charge les familles de démonstration")
    serve.add_argument("--port", type=int, default=8000, help="port du navigateur (défaut : 8000)")
    serve.add_argument("--aws-port", type=int, default=None,
                       help="port de l'AWS embarqué (défaut : port du navigateur + 1)")
    serve.add_argument("--now", metavar="ISO-8601", help="fige l'horloge du portail, ex. 2014-11-28T12:00:00+01:00")
    serve.add_argument("--output", default="output", help="dossier du site construit (défaut : output)")
    serve.set_defaults(handler=_serve)

    imp = commands.add_parser("import", help="importe familles, responsables et enfants (CSV ; séparés par « ; »)")
    imp.add_argument("--families", "--familles", metavar="FICHIER", help="familles.csv")
    imp.add_argument("--responsables", metavar="FICHIER", help="responsables.csv")
    imp.add_argument("--children", "--enfants", metavar="FICHIER", help="enfants.csv")
    imp.add_argument("--directory", metavar="DOSSIER", help="dossier contenant les trois fichiers sous leurs noms usuels")
    imp.add_argument("--dry-run", action="store_true", help="vérifie les fichiers sans rien écrire")
    imp.add_argument("--endpoint-url", help="adresse de l'AWS embarqué (défaut : AWS_ENDPOINT_URL, sinon AWS)")
    imp.set_defaults(handler=_import)

    build = commands.add_parser("build", help="construit le site public")
    build.add_argument("--output", default="output", help="dossier de sortie (défaut : output)")
    build.add_argument("--site-url", help="adresse publique du site (défaut : celle de commune.toml)")
    build.set_defaults(handler=_build)

    demo = commands.add_parser("demo-files", help="régénère les fichiers CSV de démonstration")
    demo.add_argument("directory", nargs="?", help="dossier cible (défaut : data/demo)")
    demo.set_defaults(handler=_demo_files)
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
