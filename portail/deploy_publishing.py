"""The stack's publishing function (docs/deployment.md): its CloudFormation resources and
its package, `publishing.zip`, beside the parents' function's `deployment.zip`.

The parents' function never imports Pelican (tests/test_function_package.py); the site
is rebuilt after a save at /gestion/informations/ by this second function: Pelican and
its Markdown (portail/publishing-requirements.txt), the publishing code
(portail/publishing.py, publishing_function.py), chalicelib for the commune's rules,
and the site's sources (site/: settings and theme; content/: the pages of the
repository, the images, and the guide and notices an empty store is seeded with).

- Its own role: the table (the stored content, the NOTICES item), the site bucket
  (write, delete, list) and the jobs function (the family dashboards after it). The
  API function's role may only invoke it.
- Reserved concurrency 1: publications run one after another, each building the latest
  stored content, so an older build never overwrites a newer one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from chalicelib import publishing

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "portail" / "publishing-requirements.txt"
RESOURCE = "PublishingFunction"
ROLE = "PublishingRole"
ZIP_NAME = "publishing.zip"
FUNCTION_NAME = "${AWS::StackName}-" + publishing.FUNCTION
HANDLER = "portail.publishing_function.handler"
TIMEOUT = 300  # a Pelican build of a commune's site takes seconds; S3 uploads a few hundred files
MEMORY = 1024
# What the zip holds of portail/: the publishing code and what it imports, nothing else.
PACKAGED_MODULES = ("__init__.py", "build.py", "content_types.py", "notices.py", "publish.py", "publishing.py",
                   "publishing_function.py", "site_content.py", "theme.py", "theme_assets.py")
CACHE = ROOT / "build" / ".publication-dependencies"


def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def invoke_statement() -> dict:
    """The API function's right to ask for a publication (an asynchronous invocation)."""
    return {
        "Sid": "Publication",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": _sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + FUNCTION_NAME),
    }


def role(stage: str, jobs_function_name: str) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"Fonction de publication du site public du Portail Famille ({stage})",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [
                _sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")],
            "Policies": [{"PolicyName": "portail-famille-publication", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "Contenu", "Effect": "Allow",
                     "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"],
                     "Resource": {"Fn::GetAtt": ["Table", "Arn"]}},
                    {"Sid": "SitePublic", "Effect": "Allow",
                     "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": _sub("${SiteBucket.Arn}/*")},
                    {"Sid": "ListeDuSitePublic", "Effect": "Allow",
                     "Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["SiteBucket", "Arn"]}},
                    {"Sid": "TableauxDeBord", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                     "Resource": _sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                                      + jobs_function_name)},
                ]}}],
        },
    }


def runtime() -> str:
    """The Python the package is made with (chalice package does the same for the others)."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def function(environment: dict) -> dict:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "FunctionName": _sub(FUNCTION_NAME),
            "CodeUri": f"./{ZIP_NAME}",
            "Handler": HANDLER,
            "Runtime": runtime(),
            "Timeout": TIMEOUT,
            "MemorySize": MEMORY,
            "ReservedConcurrentExecutions": 1,
            "Role": {"Fn::GetAtt": [ROLE, "Arn"]},
            "Environment": {"Variables": environment},
        },
    }


def add_to_template(resources: dict, stage: str, environment: dict, jobs_function_name: str) -> None:
    """The publishing function and its role in the merged template; every other function
    learns its name (PORTAIL_PUBLISHING_FUNCTION) and the API's role may invoke it."""
    environment[publishing.FUNCTION_ENV] = _sub(FUNCTION_NAME)
    resources[ROLE] = role(stage, jobs_function_name)
    resources[RESOURCE] = function({k: v for k, v in environment.items() if k != publishing.FUNCTION_ENV})
    statements = resources["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    statements.append(invoke_statement())


# --- the package -------------------------------------------------------------------------------------

def _dependencies() -> Path:
    """Pelican and the rest installed once per requirements file (a folder kept in build/)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + runtime().encode()).hexdigest()[:16]
    target = CACHE / digest
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
                                 "--target", str(target), "-r", str(REQUIREMENTS)], capture_output=True, text=True)
        if result.returncode != 0:
            from portail.deploy import PackageError

            raise PackageError("Installation des dépendances de la fonction de publication impossible :\n  "
                               + "\n  ".join((result.stderr or result.stdout).strip().splitlines()[-10:]))
        (target / ".complete").write_text("")
    return target


def _files(commune_path: Path, dependencies: Path | None):
    """(path in the zip, file) of everything the publishing function needs."""
    skip = ("__pycache__", ".pyc")
    if dependencies is not None:
        for path in sorted(dependencies.rglob("*")):
            relative = path.relative_to(dependencies).as_posix()
            if path.is_file() and not relative.startswith((".", "bin/")) and not any(s in relative for s in skip):
                yield relative, path
    for name in PACKAGED_MODULES:
        yield f"portail/{name}", ROOT / "portail" / name
    for folder in ("functions/chalicelib", "site", "content"):
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and not any(s in relative for s in skip) and not relative.endswith("commune.toml"):
                yield relative, path
    # The commune's configuration, where chalicelib and the build read it.
    yield "functions/chalicelib/commune.toml", commune_path
    yield "content/commune.toml", commune_path


def build_zip(out: Path, commune_path: Path, *, install: bool = True) -> Path:
    """`out/publishing.zip`; `install=False` leaves the dependencies out (tests)."""
    zip_path = Path(out) / ZIP_NAME
    dependencies = _dependencies() if install else None
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in _files(commune_path, dependencies):
            archive.write(path, name)
    return zip_path

