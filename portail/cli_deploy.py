"""The `portail` commands of deploy: registered by portail/cli.py.

  portail package --stage S [--out DIR]     the deployable package (docs/deployment.md)
  portail publish --stage S [--output DIR]  the built public site to the stage's bucket
"""

from __future__ import annotations

import sys
from pathlib import Path


def _package(args) -> int:
    from portail.deploy import PackageError, package, stack_name

    out = Path(args.out or f"build/{args.stage}")
    try:
        result = package(args.stage, out)
    except PackageError as error:
        print(f"Paquet non construit : {error}", file=sys.stderr)
        return 1
    functions = sorted(name for name, resource in result.template["Resources"].items()
                       if resource.get("Type") == "AWS::Serverless::Function")
    print(f"Paquet de l'étape « {args.stage} » prêt en {result.seconds:.1f} s dans {out}/ : "
          f"sam.json (pile {stack_name(args.stage)}, fonctions {', '.join(functions)}) et deployment.zip.")
    print("Étapes suivantes : aws cloudformation package puis deploy (docs/deployment.md).")
    return 0


def _publish(args) -> int:
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    from portail import aws
    from portail.publish import PublishError, publish, site_bucket

    try:
        bucket = args.bucket or site_bucket(args.stage, aws.client("cloudformation", args.endpoint_url))
        report = publish(Path(args.output), bucket, aws.client("s3", args.endpoint_url))
    except PublishError as error:
        print(f"Publication impossible : {error}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("Publication impossible : aucun identifiant AWS (AWS_PROFILE ou AWS_ACCESS_KEY_ID).", file=sys.stderr)
        return 1
    except EndpointConnectionError as error:
        print(f"Publication impossible : AWS injoignable ({error}).", file=sys.stderr)
        return 1
    print(f"Site public publié dans le bucket {report.bucket} : {report.uploaded} fichier(s) envoyé(s), "
          f"{report.deleted} ancien(s) supprimé(s). CloudFront le sert partout d'ici 5 minutes.")
    return 0


def register(commands, endpoint_help: str) -> None:
    """Adds this module's sub-commands to `portail`'s parser."""
    package = commands.add_parser(
        "package", help="construit le paquet déployable d'une étape (modèle CloudFormation et fonction)")
    package.add_argument("--stage", required=True, metavar="ÉTAPE", help="l'étape de functions/.chalice/config.json, ex. prod")
    package.add_argument("--out", metavar="DOSSIER", help="dossier du paquet (défaut : build/ÉTAPE)")
    package.set_defaults(handler=_package)

    publish = commands.add_parser("publish", help="envoie le site public construit dans le bucket de l'étape")
    publish.add_argument("--stage", required=True, metavar="ÉTAPE", help="l'étape déployée, ex. prod (sa pile donne le bucket)")
    publish.add_argument("--output", default="output", metavar="DOSSIER",
                         help="le site construit par « portail build » (défaut : output)")
    publish.add_argument("--bucket", metavar="BUCKET", help="le bucket du site (défaut : la sortie SiteBucketName de la pile)")
    publish.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    publish.set_defaults(handler=_publish)
