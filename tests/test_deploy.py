"""Deployment: the stage's package made by a real `chalice package
--merge-template` passes cfn-lint and says what the design says (table, private buckets,
CloudFront behaviours, security headers, the functions' role and environment);
`portail publish` serves every file from S3 (moto) with the right headers; production
reads its secrets from SSM."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from chalicelib import sessions, table
from chalicelib.http_headers import content_security_policy, security_headers

from portail import deploy
from portail.cli import main
from tests.conftest import ROOT, SHIPPED_COMMUNE_FILE

STAGE = "prod"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The stage's package, made once (about 8 s: chalice package with the wheel cache),
    as an operator makes it: with the commune's own content/commune.toml."""
    from portail import deploy_publishing

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAIL_COMMUNE_FILE", str(SHIPPED_COMMUNE_FILE))
        # Pelican's installation (pip, cached in build/) is left out of the tests' zip.
        patch.setattr(deploy_publishing, "_dependencies", lambda: None)
        return deploy.package(STAGE, tmp_path_factory.mktemp("paquet") / STAGE)


@pytest.fixture(scope="module")
def resources(package):
    return package.template["Resources"]


@pytest.fixture(scope="module")
def distribution(resources):
    return resources["Distribution"]["Properties"]["DistributionConfig"]


def behaviour(distribution, pattern):
    if pattern == "default":
        return distribution["DefaultCacheBehavior"]
    return next(b for b in distribution["CacheBehaviors"] if b["PathPattern"] == pattern)


def origin(distribution, origin_id):
    return next(o for o in distribution["Origins"] if o["Id"] == origin_id)


def lint(path: Path) -> list[str]:
    from cfnlint.api import lint

    matches = lint(path.read_text(encoding="utf-8"), regions=["eu-west-3"])
    return [f"{m.rule.id} {m.message} (ligne {m.linenumber})" for m in matches]


# --- the template -------------------------------------------------------------------------

def test_the_merged_template_passes_cfn_lint(package, tmp_path):
    assert lint(package.template_path) == []
    # The same lint sees a misspelt property: the empty list above means something.
    broken = json.loads(package.template_path.read_text(encoding="utf-8"))
    config = broken["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    famille = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/famille/*")
    famille["TrustedKeyGroup"] = famille.pop("TrustedKeyGroups")
    (tmp_path / "casse.json").write_text(json.dumps(broken), encoding="utf-8")
    assert any("TrustedKeyGroup" in problem for problem in lint(tmp_path / "casse.json"))


def test_the_package_holds_chalice_functions_and_the_commune(package):
    functions = {name for name, resource in package.template["Resources"].items()
                 if resource.get("Type") == "AWS::Serverless::Function"}
    assert "APIHandler" in functions
    # Chalice's functions, and the publishing function (Pelican) packaged apart.
    assert set(deploy.function_resources(deploy.chalice_app())) | {"PublishingFunction"} == functions
    assert deploy.ROLE_PLACEHOLDER not in package.template_path.read_text(encoding="utf-8")
    with zipfile.ZipFile(package.zip_path) as archive:
        names = set(archive.namelist())
        assert archive.read("chalicelib/commune.toml") == SHIPPED_COMMUNE_FILE.read_bytes()
    assert {"app.py", "chalicelib/secret_parameters.py", "chalicelib/templates/base.html"} <= names
    assert not any(name.startswith(("pelican/", "moto/", "playwright/")) for name in names)
    # The invoicing run started from /gestion/facturation/ makes its PDFs in the function.
    assert "reportlab/platypus/__init__.py" in names
    # The working tree is untouched: the function finds content/commune.toml locally.
    assert not (ROOT / "functions" / "chalicelib" / "commune.toml").exists()


def test_the_table_is_table_py_on_demand_with_point_in_time_recovery(resources):
    resource = resources["Table"]
    properties = resource["Properties"]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["KeySchema"] == table.KEY_SCHEMA
    assert properties["AttributeDefinitions"] == table.ATTRIBUTE_DEFINITIONS
    assert properties["GlobalSecondaryIndexes"] == table.GLOBAL_SECONDARY_INDEXES
    assert properties["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": table.TTL_ATTRIBUTE}
    assert resource["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("bucket", ["SiteBucket", "PagesBucket", "DocumentsBucket"])
def test_every_bucket_is_private_encrypted_and_tls_only(resources, bucket):
    properties = resources[bucket]["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    statements = resources[f"{bucket}Policy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)
    for statement in statements:
        if statement["Effect"] == "Allow":  # only this distribution, through its OAC
            assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            assert "${Distribution}" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_cloudfront_reads_the_site_and_the_family_pages_only(resources):
    def allowed(bucket):
        return [(s["Action"], s["Resource"]) for s in
                resources[f"{bucket}Policy"]["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]

    assert ("s3:GetObject", {"Fn::Sub": "${PagesBucket.Arn}/famille/*"}) in allowed("PagesBucket")
    assert all(action == "s3:GetObject" for action, _ in allowed("PagesBucket"))  # no listing of the families
    assert allowed("DocumentsBucket") == []  # invoices leave by presigned URLs only


def test_calendar_feeds_are_read_from_the_pages_bucket_without_cookies(resources, distribution):
    """A phone's calendar sends no cookie: `/agenda/*` needs none (the key is the secret),
    and CloudFront reads `agenda/*` of the pages bucket, never the families' folders there."""
    agenda = behaviour(distribution, "/agenda/*")
    assert "TrustedKeyGroups" not in agenda and agenda["AllowedMethods"] == ["GET", "HEAD"]
    assert origin(distribution, agenda["TargetOriginId"])["DomainName"] == {
        "Fn::GetAtt": ["PagesBucket", "RegionalDomainName"]}
    statements = resources["PagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reads = {s["Sid"]: s["Resource"] for s in statements if s["Effect"] == "Allow"}
    assert reads == {"CloudFrontLit": {"Fn::Sub": "${PagesBucket.Arn}/famille/*"},
                     "CloudFrontLitLesAgendas": {"Fn::Sub": "${PagesBucket.Arn}/agenda/*"}}


def test_family_pages_need_the_signed_cookies_of_the_functions_key(resources, distribution):
    famille = behaviour(distribution, "/famille/*")
    assert famille["TrustedKeyGroups"] == [{"Ref": "SigningKeyGroup"}]
    assert origin(distribution, famille["TargetOriginId"])["DomainName"] == {
        "Fn::GetAtt": ["PagesBucket", "RegionalDomainName"]}
    group = resources["SigningKeyGroup"]["Properties"]["KeyGroupConfig"]
    assert group["Items"] == [{"Ref": "SigningPublicKey"}]
    key = resources["SigningPublicKey"]["Properties"]["PublicKeyConfig"]
    assert key["EncodedKey"] == {"Ref": "CloudFrontPublicKey"}
    # The cookies carry the id of the very key the group trusts.
    for name, resource in resources.items():
        if resource.get("Type") == "AWS::Serverless::Function":
            variables = resource["Properties"]["Environment"]["Variables"]
            assert variables["PORTAIL_CLOUDFRONT_KEY_PAIR_ID"] == {"Ref": "SigningPublicKey"}, name
    for pattern in ("default", "/api/*"):
        assert "TrustedKeyGroups" not in behaviour(distribution, pattern)


def test_the_api_behaviour_forwards_everything_and_caches_nothing(resources, distribution):
    api = behaviour(distribution, "/api/*")
    assert sorted(api["AllowedMethods"]) == sorted(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
    assert api["CachePolicyId"] == deploy.CACHING_DISABLED
    policy = resources["ApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    assert policy["CookiesConfig"] == {"CookieBehavior": "all"}
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    headers = {h.lower() for h in policy["HeadersConfig"]["Headers"]}
    assert {"origin", "sec-fetch-site", "content-type", "cloudfront-viewer-address"} <= headers
    assert "referer" in headers  # GET /api/session/renew goes back to the page it names
    assert "host" not in headers  # API Gateway answers only to its own name
    api_origin = origin(distribution, api["TargetOriginId"])
    assert api_origin["DomainName"]["Fn::Sub"].startswith("${RestAPI}.execute-api.")
    # /api/login reaches the stage `api`, whose routes are /api/...
    assert api_origin["OriginPath"] == "/api"
    definition = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert "/api/login" in definition
    assert {"get", "post"} <= set(definition["/api/session/renew"])  # the page cookies' renewal
    # The origin secret CloudFront adds is the one the function compares.
    assert api_origin["OriginCustomHeaders"] == [
        {"HeaderName": "X-Portail-Origin", "HeaderValue": {"Ref": "OriginSecret"}}]
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["PORTAIL_ORIGIN_SECRET"] == {
        "Ref": "OriginSecret"}
    assert api["ViewerProtocolPolicy"] == "https-only"
    assert "FunctionAssociations" not in api


def test_the_staff_pages_go_to_the_function_uncached_like_the_api(resources, distribution):
    api = behaviour(distribution, "/api/*")
    for pattern in ("/gestion/*", "/gestion"):
        assert behaviour(distribution, pattern) == {**api, "PathPattern": pattern}
    definition = resources["RestAPI"]["Properties"]["DefinitionBody"]
    assert {"get", "post"} <= set(definition["paths"]["/gestion/connexion"])
    # A paper-planning CSV reaches the function whole: API Gateway passes multipart bodies as binary.
    assert "multipart/form-data" in definition["x-amazon-apigateway-binary-media-types"]


def test_the_site_behaviours_map_folders_to_index_html(distribution):
    default = behaviour(distribution, "default")
    assert origin(distribution, default["TargetOriginId"])["DomainName"] == {
        "Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}
    for pattern in ("default", "/famille/*"):
        associations = behaviour(distribution, pattern)["FunctionAssociations"]
        assert [a["EventType"] for a in associations] == ["viewer-request"]
        assert associations[0]["FunctionARN"] == {"Fn::GetAtt": ["IndexFunction", "FunctionMetadata.FunctionARN"]}
    for origin_id in ("site", "pages"):
        assert origin(distribution, origin_id)["OriginAccessControlId"] == {
            "Fn::GetAtt": ["OriginAccessControl", "Id"]}


def run_index_function(uri: str) -> dict:
    node = shutil.which("node")
    assert node, "node est nécessaire (make test l'installe pour axe-core)"
    script = (deploy.INDEX_FUNCTION_CODE
              + f"\nconsole.log(JSON.stringify(handler({{request: {{uri: {json.dumps(uri)}, headers: {{}}}}}})));\n")
    return json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize(("uri", "expected"), [
    ("/", "/index.html"),
    ("/guide/", "/guide/index.html"),
    ("/famille/0123456789abcdef0123456789abcdef/", "/famille/0123456789abcdef0123456789abcdef/index.html"),
    ("/famille/0123456789abcdef0123456789abcdef/enfants/1/2014-12/",
     "/famille/0123456789abcdef0123456789abcdef/enfants/1/2014-12/index.html"),
    ("/theme/css/portail.css", "/theme/css/portail.css"),
    ("/404.html", "/404.html"),
])
def test_the_cloudfront_function_asks_s3_for_index_html(uri, expected):
    assert run_index_function(uri)["uri"] == expected


def test_the_cloudfront_function_redirects_a_folder_without_its_slash():
    answer = run_index_function("/famille/0123456789abcdef0123456789abcdef/compte")
    assert answer["statusCode"] == 301
    assert answer["headers"]["location"]["value"] == "/famille/0123456789abcdef0123456789abcdef/compte/"


# What CloudFormation would name the documents bucket, and the stack's region.
BUCKET = "prod-documentsbucket-1a2b3c4d5e6f"
REGION = "eu-west-3"


def resolved(value) -> str:
    """A header's value as CloudFront sends it: the template's Fn::Sub resolved."""
    if isinstance(value, dict):
        value = value["Fn::Sub"].replace("${DocumentsBucket}", BUCKET).replace("${AWS::Region}", REGION)
    assert "${" not in value
    return value


def csp_sources(policy: str, directive: str) -> list[str]:
    for part in policy.split(";"):
        name, *sources = part.split()
        if name == directive:
            return sources
    raise AssertionError(f"{directive} absent de {policy}")


def test_cloudfront_sends_the_functions_security_headers_everywhere(resources, distribution, monkeypatch):
    config = resources["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = {name: resolved(value) for name, value in deploy.headers_from_policy_config(config).items()}
    # The function's own headers in the same stack (its bucket and region): the same values.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv(table.BUCKET_ENVS["documents"], BUCKET)
    from chalicelib.http_headers import current_security_headers

    assert headers == current_security_headers()
    for pattern in ("default", "/api/*", "/famille/*"):
        assert behaviour(distribution, pattern)["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}


def test_a_header_cloudfront_cannot_send_stops_the_template():
    with pytest.raises(ValueError, match="X-Frame-Options"):
        deploy.response_headers_policy_config({**security_headers(), "X-Frame-Options": "ALLOW-FROM x"}, "n")


def test_every_function_has_the_role_and_the_stacks_names(resources):
    functions = {n: r for n, r in resources.items()
                 if r.get("Type") == "AWS::Serverless::Function" and n != "PublishingFunction"}
    for name, resource in functions.items():
        properties = resource["Properties"]
        assert properties["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}, name
        variables = properties["Environment"]["Variables"]
        assert variables["PORTAIL_TABLE"] == {"Ref": "Table"}
        for kind, env in table.BUCKET_ENVS.items():
            assert variables[env] == {"Ref": f"{kind.capitalize()}Bucket"}
        assert variables["PORTAIL_SSM_PREFIX"] == {"Fn::Sub": "/${AWS::StackName}/"}
        assert "PORTAIL_SECRET" not in variables and "PORTAIL_CLOUDFRONT_PRIVATE_KEY" not in variables
        assert "PORTAIL_DEMO" not in variables
        assert variables["PORTAIL_JOBS_FUNCTION"] == {"Fn::Sub": "${AWS::StackName}-jobs"}
        assert variables["PORTAIL_PUBLISHING_FUNCTION"] == {"Fn::Sub": "${AWS::StackName}-publishing"}
        if "Events" in properties and any(e["Type"] == "Schedule" for e in properties["Events"].values()):
            assert properties["Timeout"] == deploy.SCHEDULED_TIMEOUT


def test_the_runtime_is_the_one_the_compiled_modules_were_built_for(package):
    runtimes = {r["Properties"]["Runtime"] for r in package.template["Resources"].values()
                if r.get("Type") == "AWS::Serverless::Function"}
    with zipfile.ZipFile(package.zip_path) as archive:
        compiled = {n for n in archive.namelist() if n.endswith(".so")}
    assert any("argon2" in name for name in compiled)
    tags = {name.split(".cpython-")[1][:3] for name in compiled if ".cpython-" in name}
    assert {f"python3.{tag[1:]}" for tag in tags} == runtimes
    # Every compiled distribution is a manylinux wheel (its libraries inside), none built
    # here against this machine's libraries (deploy.LAMBDA_CONSTRAINTS).
    with zipfile.ZipFile(package.zip_path) as archive:
        wheels = {name.split("-")[0]: archive.read(name).decode() for name in archive.namelist()
                  if name.endswith(".dist-info/WHEEL")}
    platform = {name: text for name, text in wheels.items() if "Root-Is-Purelib: false" in text}
    assert {"argon2_cffi_bindings", "pillow"} <= set(platform)
    tags = {name: [line.removeprefix("Tag: ") for line in text.splitlines() if line.startswith("Tag: ")]
            for name, text in platform.items()}
    assert all(found and all("manylinux" in tag for tag in found) for found in tags.values()), tags


def test_the_package_holds_the_bytecode_of_what_a_cold_start_imports(package):
    """Lambda cannot write a __pycache__: without this, each cold start compiles every module."""
    (runtime,) = {r["Properties"]["Runtime"] for r in package.template["Resources"].values()
                  if r.get("Type") == "AWS::Serverless::Function"}
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    with zipfile.ZipFile(package.zip_path) as archive:
        names = set(archive.namelist())
        header = archive.read(f"__pycache__/app.{tag}.pyc")[:8]
    sources = [n for n in names if n.endswith(".py") and n.startswith(("app.py", "chalicelib/", "chalice/", "jinja2/"))]
    missing = [n for n in sources if f"{Path(n).parent}/__pycache__/{Path(n).stem}.{tag}.pyc".lstrip("./") not in names]
    assert len(sources) > 100 and missing == []
    # « unchecked-hash » (PEP 552: flags 0b01): used as is, whatever dates the unzipped files get.
    assert int.from_bytes(header[4:8], "little") == 0b01
    assert not any(n.startswith("reportlab/") and n.endswith(".pyc") for n in names)  # PDFs: rare, source only


def test_a_package_whose_modules_do_not_fit_the_runtime_is_refused(package, tmp_path):
    archive_path = tmp_path / "deployment.zip"
    commune = SHIPPED_COMMUNE_FILE
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("_argon2_cffi_bindings/_ffi.cpython-313-x86_64-linux-gnu.so", b"")
        archive.writestr("chalicelib/commune.toml", commune.read_bytes())
    with pytest.raises(deploy.PackageError, match="python3.13"):
        deploy.check_package(package.template, archive_path, commune)
    template = json.loads(json.dumps(package.template))
    template["Resources"]["APIHandler"]["Properties"]["Role"] = deploy.ROLE_PLACEHOLDER
    with pytest.raises(deploy.PackageError, match="APIHandler"):
        deploy.check_package(template, package.zip_path, commune)


def test_the_functions_role_holds_only_what_they_use(resources):
    statements = resources["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(not action.endswith("*") for action in actions), statement["Sid"]
        assert statement["Resource"] != "*"
    assert by_sid["PagesDesFamilles"]["Resource"] == {"Fn::Sub": "${PagesBucket.Arn}/famille/*"}
    # The nightly export reads the stored pages' ETags (pages.FamilyPages._stored_etags).
    listing = by_sid["ListeDesPagesDesFamilles"]
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", {"Fn::GetAtt": ["PagesBucket", "Arn"]})
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "famille/*"}}
    assert "parameter/${AWS::StackName}/*" in by_sid["Secrets"]["Resource"]["Fn::Sub"]
    assert not any("SiteBucket" in json.dumps(s["Resource"]) for s in statements)  # publish is the operator's
    # Requests defer work to the jobs function, and to nothing else.
    assert by_sid["TravauxDifferes"]["Action"] == "lambda:InvokeFunction"
    assert by_sid["TravauxDifferes"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-jobs"}


def test_the_publishing_function_runs_pelican_alone_with_its_own_small_role(package, resources):
    """The site is rebuilt after a save at /gestion/informations/ by a second function,
    packaged with Pelican (portail/deploy_publishing.py); the API may only invoke it."""
    function = resources["PublishingFunction"]["Properties"]
    assert function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-publishing"}
    assert (function["Handler"], function["CodeUri"]) == ("portail.publishing_function.handler", "./publishing.zip")
    assert function["ReservedConcurrentExecutions"] == 1  # one build at a time: never an older one last
    assert function["Role"] == {"Fn::GetAtt": ["PublishingRole", "Arn"]}
    variables = function["Environment"]["Variables"]
    assert variables["PORTAIL_SITE_BUCKET"] == {"Ref": "SiteBucket"} and "PORTAIL_PUBLISHING_FUNCTION" not in variables
    assert function["Runtime"] == resources["APIHandler"]["Properties"]["Runtime"]
    statements = {s["Sid"]: s for s in
                  resources["PublishingRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["SitePublic"]["Resource"] == {"Fn::Sub": "${SiteBucket.Arn}/*"}
    assert "dynamodb:Scan" not in statements["Contenu"]["Action"]
    assert statements["TableauxDeBord"]["Resource"]["Fn::Sub"].endswith(":function:${AWS::StackName}-jobs")
    api = {s["Sid"]: s for s in resources["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}
    assert api["Publication"]["Action"] == "lambda:InvokeFunction"
    assert api["Publication"]["Resource"]["Fn::Sub"].endswith(":function:${AWS::StackName}-publishing")
    with zipfile.ZipFile(package.directory / "publishing.zip") as archive:
        names = set(archive.namelist())
        assert archive.read("functions/chalicelib/commune.toml") == SHIPPED_COMMUNE_FILE.read_bytes()
    assert {"portail/publishing_function.py", "portail/build.py", "site/pelicanconf.py",
            "site/theme/templates/article.html", "content/pages/accueil.md", "content/guide/regles.md",
            "functions/chalicelib/templates/base.html"} <= names
    assert not any(name.startswith(("portail/devserver", "portail/embedded_aws", "functions/app.py")) for name in names)


def test_the_jobs_function_has_the_name_the_others_invoke(resources):
    """Deferred jobs (chalicelib/jobs.py): the name the role grants and the environment
    gives is the jobs function's own."""
    jobs_function = resources["Jobs"]["Properties"]
    assert jobs_function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-jobs"}
    assert jobs_function["Handler"] == "app.run_job"


def test_package_names_an_unknown_stage_in_french(capsys):
    assert main(["package", "--stage", "inconnue"]) == 1
    error = capsys.readouterr().err
    assert "Étape « inconnue » inconnue" in error and "prod" in error


# --- publish --------------------------------------------------------------------------------

SITE_FILES = {
    ".portail-build": b"marker",
    "index.html": b"<!doctype html><title>Accueil</title>",
    "guide/index.html": "<!doctype html><title>Guide des familles – Crégy</title>".encode(),
    "404.html": b"<!doctype html><title>Introuvable</title>",
    "theme/css/portail.css": b"body{margin:0}",
    "theme/js/portail.js": b"export {};",
    "theme/images/logo.png": b"\x89PNG\r\n\x1a\nfake",
    "feeds/annonces.atom.xml": b"<?xml version='1.0'?><feed/>",
}
EXPECTED_HEADERS = {
    "index.html": ("text/html; charset=utf-8", "public, max-age=0, s-maxage=300"),
    "guide/index.html": ("text/html; charset=utf-8", "public, max-age=0, s-maxage=300"),
    "404.html": ("text/html; charset=utf-8", "public, max-age=0, s-maxage=300"),
    "theme/css/portail.css": ("text/css; charset=utf-8", "public, max-age=3600, s-maxage=300"),
    "theme/js/portail.js": ("text/javascript; charset=utf-8", "public, max-age=3600, s-maxage=300"),
    "theme/images/logo.png": ("image/png", "public, max-age=86400, s-maxage=300"),
    "feeds/annonces.atom.xml": ("application/xml; charset=utf-8", "public, max-age=0, s-maxage=300"),
}


@pytest.fixture
def built_site(tmp_path):
    site = tmp_path / "output"
    for name, data in SITE_FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    return site


@pytest.fixture
def site_bucket(aws):
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="portail-prod-site", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket="portail-prod-site", Key="informations/annonce-retiree/index.html", Body=b"old")
    return s3


def test_publish_serves_every_file_with_its_type_and_cache_control(built_site, site_bucket, capsys):
    assert main(["publish", "--stage", STAGE, "--output", str(built_site), "--bucket", "portail-prod-site"]) == 0
    assert "7 fichier(s) envoyé(s), 1 ancien(s) supprimé(s)" in capsys.readouterr().out
    keys = {o["Key"] for o in site_bucket.list_objects_v2(Bucket="portail-prod-site")["Contents"]}
    assert keys == set(EXPECTED_HEADERS)  # the stale notice is gone, the marker never sent
    for key, (content_type, cache_control) in EXPECTED_HEADERS.items():
        head = site_bucket.head_object(Bucket="portail-prod-site", Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
        body = site_bucket.get_object(Bucket="portail-prod-site", Key=key)["Body"].read()
        assert body == SITE_FILES[key]


def test_publish_finds_the_bucket_in_the_stages_stack(built_site, aws, capsys):
    import boto3

    boto3.client("cloudformation", region_name="eu-west-3").create_stack(
        StackName=deploy.stack_name(STAGE), TemplateBody=json.dumps({
            "Resources": {"SiteBucket": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {"SiteBucketName": {"Value": {"Ref": "SiteBucket"}}},
        }))
    assert main(["publish", "--stage", STAGE, "--output", str(built_site)]) == 0
    bucket = capsys.readouterr().out.split("dans le bucket ")[1].split(" ")[0]
    head = boto3.client("s3", region_name="eu-west-3").head_object(Bucket=bucket, Key="guide/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"


def test_publish_of_the_real_build_types_every_file(tmp_path, aws):
    import boto3

    from portail.build import build_site
    from portail.publish import publish

    site = tmp_path / "site"
    build_site(site, site_url="https://portail.example.fr")
    s3 = boto3.client("s3", region_name="eu-west-3")
    s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    report = publish(site, "site", s3)
    assert report.uploaded >= 10
    for item in s3.list_objects_v2(Bucket="site")["Contents"]:
        head = s3.head_object(Bucket="site", Key=item["Key"])
        assert head["ContentType"] != "application/octet-stream", item["Key"]
        if item["Key"].endswith(".html"):
            assert head["ContentType"] == "text/html; charset=utf-8"
            assert "max-age=0" in head["CacheControl"]


def test_publish_refuses_a_folder_that_is_not_a_build(tmp_path, site_bucket, capsys):
    (tmp_path / "index.html").write_text("x")
    assert main(["publish", "--stage", STAGE, "--output", str(tmp_path), "--bucket", "portail-prod-site"]) == 1
    assert "n'est pas un site construit par « portail build »" in capsys.readouterr().err
    assert site_bucket.list_objects_v2(Bucket="portail-prod-site")["KeyCount"] == 1  # nothing touched


def test_publish_without_a_stack_says_so(built_site, aws, capsys):
    assert main(["publish", "--stage", "recette", "--output", str(built_site)]) == 1
    assert "La pile CloudFormation portail-famille-recette n'existe pas" in capsys.readouterr().err


# --- secrets ---------------------------------------------------------------------------------

def test_load_secrets_reads_ssm_once_and_only_with_a_prefix(aws):
    import boto3
    from chalicelib.secret_parameters import SecretsUnavailable, load_secrets

    ssm = boto3.client("ssm", region_name="eu-west-3")
    calls = []
    ssm.meta.events.register("before-call.ssm.GetParameters", lambda **_: calls.append(1))
    ssm.put_parameter(Name="/portail-famille-prod/PORTAIL_SECRET", Value="s3cret", Type="SecureString")
    environment = {"PORTAIL_SSM_PREFIX": "/portail-famille-prod/"}
    with pytest.raises(SecretsUnavailable, match="/portail-famille-prod/PORTAIL_CLOUDFRONT_PRIVATE_KEY"):
        load_secrets(environment, ssm)
    assert "PORTAIL_SECRET" not in environment  # all or nothing
    ssm.put_parameter(Name="/portail-famille-prod/PORTAIL_CLOUDFRONT_PRIVATE_KEY", Value="pem", Type="SecureString")
    load_secrets(environment, ssm)
    load_secrets(environment, ssm)
    assert (environment["PORTAIL_SECRET"], environment["PORTAIL_CLOUDFRONT_PRIVATE_KEY"]) == ("s3cret", "pem")
    assert len(calls) == 2  # the refused first call, then one for both; none once loaded
    local = {"PORTAIL_SECRET": "local"}
    load_secrets(local, ssm)
    assert local == {"PORTAIL_SECRET": "local"} and len(calls) == 2


def test_the_function_in_production_signs_and_checks_forms_with_the_ssm_secrets(
        client, families, signing_keys, monkeypatch):
    import boto3

    ssm = boto3.client("ssm", region_name="eu-west-3")
    ssm.put_parameter(Name="/portail-famille-prod/PORTAIL_SECRET", Value="secret-de-production", Type="SecureString")
    ssm.put_parameter(Name="/portail-famille-prod/PORTAIL_CLOUDFRONT_PRIVATE_KEY",
                      Value=signing_keys.private_key_pem, Type="SecureString")
    monkeypatch.delenv("PORTAIL_SECRET")
    monkeypatch.delenv("PORTAIL_CLOUDFRONT_PRIVATE_KEY")
    monkeypatch.setenv("PORTAIL_SSM_PREFIX", "/portail-famille-prod/")
    origin = {"Origin": "http://127.0.0.1:8000"}
    login = client.http.post("/api/login", headers={**origin, "Content-Type": "application/json"},
                             body=json.dumps({"login": "alice", "password": "une phrase de passe tres longue"}))
    assert login.status_code == 200
    cookies = login.headers["Set-Cookie"]
    assert any(c.startswith(f"CloudFront-Key-Pair-Id={signing_keys.key_pair_id};") for c in cookies)
    session = "; ".join(next(c for c in cookies if c.startswith(name + "=")).split(";")[0]
                        for name in (sessions.COOKIE_NAME, sessions.CSRF_COOKIE_NAME))
    form = {**origin, "Content-Type": "application/x-www-form-urlencoded", "Cookie": session}
    stale = sessions.csrf_token("secret-de-test", families["A"]["page_key"])
    assert client.http.post("/api/logout", headers=form, body=f"csrf_token={stale}").status_code == 403
    token = sessions.csrf_token("secret-de-production", families["A"]["page_key"])
    assert client.http.post("/api/logout", headers=form, body=f"csrf_token={token}").status_code == 303


# --- a certificate posted from a page straight to the documents bucket ---------------------

def test_the_template_lets_the_pages_post_certificates_to_the_documents_bucket(resources, monkeypatch):
    """The CSP CloudFront sends names the bucket's origin in form-action (the form without
    script) and connect-src (the script's fetch), and it is exactly the address the
    function's presigned POST gives (chalicelib.dependencies.documents); the bucket's CORS
    rule lets the site's pages post there."""
    from datetime import date

    import boto3
    from chalicelib import dependencies
    from moto import mock_aws

    config = resources["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    policy = resolved(deploy.headers_from_policy_config(config)["Content-Security-Policy"])
    bucket_origin = f"https://{BUCKET}.s3.{REGION}.amazonaws.com"
    for directive in ("form-action", "connect-src"):
        assert csp_sources(policy, directive) == ["'self'", bucket_origin]
    assert csp_sources(policy, "default-src") == ["'self'"]

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv(table.BUCKET_ENVS["documents"], BUCKET)
    monkeypatch.setattr(dependencies, "_dependencies", {})
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        upload = dependencies.documents().certificate_upload("100", "1", [date(2014, 11, 24)], "application/pdf",
                                                             1000, None)
    assert upload["url"].rstrip("/") == bucket_origin

    rules = resources["DocumentsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rules == [{"AllowedOrigins": [{"Fn::Sub": "https://${DomainName}"}], "AllowedMethods": ["POST"],
                      "AllowedHeaders": ["*"], "MaxAge": 600}]


def test_the_local_server_lets_the_pages_post_to_the_embedded_s3(tmp_path, monkeypatch):
    """`portail serve` points boto3 at the embedded AWS (AWS_ENDPOINT_URL): its pages' CSP
    names that origin for form-action and connect-src, and the presigned POST goes there."""
    from chalice import Chalice
    from werkzeug.test import Client

    from portail.devserver import DevServer

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8123")
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>")
    answer = Client(DevServer(tmp_path, chalice_app=Chalice(app_name="vide"))).get("/")
    policy = answer.headers["Content-Security-Policy"]
    for directive in ("form-action", "connect-src"):
        assert csp_sources(policy, directive) == ["'self'", "http://127.0.0.1:8123"]
    assert policy == content_security_policy("http://127.0.0.1:8123")
