"""The stage's CloudFormation template, generated from the code, and the deployable package.

`portail package --stage S` (docs/deployment.md) writes `build/S/`: `sam.json` and
`deployment.zip`, made by `chalice package --merge-template` from the function and the
template below:

- the table, from `chalicelib.table.cloudformation_resource()` (the very definition the
  embedded AWS and the tests create), on-demand, point-in-time recovery on, kept when
  the stack is deleted;
- three S3 buckets: the public site, the private family pages, the documents (invoice
  PDFs, medical certificates); all blocked from public access, encrypted (SSE-S3),
  TLS only; CloudFront reads the first two through an origin access control;
- one CloudFront distribution on the commune's domain: `/api/*` to the Chalice API
  (never cached, cookies and every method forwarded, the origin secret header added),
  `/famille/*` to the pages bucket behind the signed cookies' trusted key group, the
  rest to the site bucket; a CloudFront Function maps `…/` to `…/index.html` (an S3
  origin has no index documents); the response headers policy is built from
  `chalicelib.http_headers.SECURITY_HEADERS`, the headers the function sends;
- the functions' IAM role (least privilege) and their environment: the resources'
  names, the site URL, the signing key's id, and the SSM prefix under which the
  function finds its secrets (chalicelib/secret_parameters.py).

Chalice is run on a copy of `functions/` (the working tree is never touched) holding
the commune's `commune.toml` (the function reads it from `chalicelib/`), and told not
to manage the role: its policy analyser cannot read app.py, and the merged template
gives every function the role above. The functions' CloudFormation names are read from
the Chalice app (`function_resources`), and the merged result is checked: a function
left without the role, or a runtime that differs from the compiled modules in the zip,
stops the packaging with a French message.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from chalicelib import table
from chalicelib.http_headers import SECURITY_HEADERS

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
CHALICE_CONFIG = FUNCTIONS_DIR / ".chalice" / "config.json"
APP_NAME = "portail-famille"
DEFAULT_REGION = "eu-west-3"  # Paris: the commune's data stays in France

# CloudFront's managed cache policy "CachingDisabled" (the same id in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Seconds CloudFront may keep a public file that says nothing (publish sets s-maxage).
STATIC_DEFAULT_TTL = 300
# Headers the function reads (chalicelib/web.py): never `Host` (API Gateway answers
# only to its own name), never the viewer's `X-Portail-Origin` (CloudFront adds its own).
API_FORWARDED_HEADERS = [
    "Accept", "Content-Type", "Origin", "Referer", "Sec-Fetch-Site", "CloudFront-Viewer-Address",
]
ORIGIN_SECRET_HEADER = "X-Portail-Origin"
# Lambda's limit for a scheduled function (the nightly re-export of every family).
SCHEDULED_TIMEOUT = 900
# Replaced in every function by the merged template; its presence after packaging is
# an error (a function the template did not know).
ROLE_PLACEHOLDER = "arn:aws:iam::000000000000:role/portail-remplace-par-le-modele"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


class PackageError(Exception):
    """The package could not be made: the message says why, in French."""


# --- names ---------------------------------------------------------------------------------

def stack_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}"


def secret_parameter_prefix(stage: str) -> str:
    """`/portail-famille-<stage>/`: the SSM parameters the function reads its secrets from."""
    return f"/{stack_name(stage)}/"


def stages() -> dict:
    return json.loads(CHALICE_CONFIG.read_text(encoding="utf-8")).get("stages", {})


def check_stage(stage: str) -> dict:
    known = stages()
    if stage not in known:
        raise PackageError(
            f"Étape « {stage} » inconnue : functions/.chalice/config.json définit "
            f"{', '.join(sorted(known)) or 'aucune étape'}."
        )
    return known[stage]


def chalice_app():
    """The Chalice application object of functions/app.py."""
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    return importlib.import_module("app").app


def function_resources(app) -> dict[str, bool]:
    """{CloudFormation name: scheduled?} of every Lambda function `chalice package` makes
    of `app`: `APIHandler` for the routes, the function's CamelCase name for the others."""
    from chalice.utils import to_cfn_resource_name

    names: dict[str, bool] = {}
    if app.routes:
        names["APIHandler"] = False
    for source in app.event_sources:
        names[to_cfn_resource_name(source.name)] = type(source).__name__ in (
            "ScheduledEventConfig", "CloudWatchEventConfig")
    for function in app.pure_lambda_functions:
        names[to_cfn_resource_name(function.name)] = False
    return names


# --- the response headers policy -------------------------------------------------------

def _hsts(value: str) -> dict:
    directives = [part.strip() for part in value.split(";") if part.strip()]
    settings = {"Override": True, "IncludeSubdomains": False, "Preload": False}
    for directive in directives:
        name, _, argument = directive.partition("=")
        if name.lower() == "max-age":
            settings["AccessControlMaxAgeSec"] = int(argument)
        elif name.lower() == "includesubdomains":
            settings["IncludeSubdomains"] = True
        elif name.lower() == "preload":
            settings["Preload"] = True
        else:
            raise ValueError(f"Strict-Transport-Security : directive inconnue {directive!r}")
    if "AccessControlMaxAgeSec" not in settings:
        raise ValueError("Strict-Transport-Security : max-age manquant")
    return settings


_REFERRER_POLICIES = {
    "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
    "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
}


def response_headers_policy_config(headers: dict[str, str], name) -> dict:
    """CloudFront's ResponseHeadersPolicyConfig sending exactly `headers`.

    The security headers CloudFront knows go into SecurityHeadersConfig (it refuses them
    as custom headers); any other one is a custom header. All override what an origin
    sends, so the function, S3 and CloudFront's own answers carry the same values. A
    value CloudFront cannot express raises ValueError (the policy would silently differ).
    """
    security: dict = {}
    custom = []
    for header, value in headers.items():
        key = header.lower()
        if key == "content-security-policy":
            security["ContentSecurityPolicy"] = {"ContentSecurityPolicy": value, "Override": True}
        elif key == "strict-transport-security":
            security["StrictTransportSecurity"] = _hsts(value)
        elif key == "x-content-type-options":
            if value.lower() != "nosniff":
                raise ValueError(f"X-Content-Type-Options : seul nosniff est possible ({value!r})")
            security["ContentTypeOptions"] = {"Override": True}
        elif key == "x-frame-options":
            if value.upper() not in ("DENY", "SAMEORIGIN"):
                raise ValueError(f"X-Frame-Options : DENY ou SAMEORIGIN ({value!r})")
            security["FrameOptions"] = {"FrameOption": value.upper(), "Override": True}
        elif key == "referrer-policy":
            if value not in _REFERRER_POLICIES:
                raise ValueError(f"Referrer-Policy : valeur inconnue de CloudFront ({value!r})")
            security["ReferrerPolicy"] = {"ReferrerPolicy": value, "Override": True}
        elif key == "x-xss-protection":
            raise ValueError("X-XSS-Protection : non géré ici (obsolète)")
        else:
            custom.append({"Header": header, "Value": value, "Override": True})
    config: dict = {
        "Name": name,
        "Comment": "En-têtes de sécurité du Portail Famille (chalicelib/http_headers.py)",
        "SecurityHeadersConfig": security,
    }
    if custom:
        config["CustomHeadersConfig"] = {"Items": custom}
    return config


def headers_from_policy_config(config: dict) -> dict[str, str]:
    """The headers a ResponseHeadersPolicyConfig sends (the inverse, for the tests)."""
    security = config.get("SecurityHeadersConfig", {})
    headers = {}
    if "ContentSecurityPolicy" in security:
        headers["Content-Security-Policy"] = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        if hsts.get("IncludeSubdomains"):
            value += "; includeSubDomains"
        if hsts.get("Preload"):
            value += "; preload"
        headers["Strict-Transport-Security"] = value
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = item["Value"]
    return headers


# --- the CloudFront Function ------------------------------------------------------------

# An S3 REST origin has no index documents: `/guide/` and `/famille/<key>/enfants/1/`
# are stored as `…/index.html`. A path whose last segment has no dot is a folder asked
# without its slash: redirected, as the local server does (relative links stay right).
INDEX_FUNCTION_CODE = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
    return request;
  }
  if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: uri + '/' } }
    };
  }
  return request;
}
"""


# --- the template ------------------------------------------------------------------------

def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def _private_bucket(description: str, *, versioned: bool = False, cors: bool = False) -> dict:
    properties: dict = {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        },
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True},
        ]},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "Tags": [{"Key": "portail-famille", "Value": description}],
    }
    if versioned:
        properties["VersioningConfiguration"] = {"Status": "Enabled"}
        properties["LifecycleConfiguration"] = {"Rules": [{
            "Id": "anciennes-versions", "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }]}
    if cors:
        # Medical certificates: the parent's browser posts the file straight to the
        # bucket with the presigned POST the function hands out (chalicelib/documents.py).
        properties["CorsConfiguration"] = {"CorsRules": [{
            "AllowedOrigins": [_sub("https://${DomainName}")],
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "MaxAge": 600,
        }]}
    return {"Type": "AWS::S3::Bucket", "Properties": properties}


def _tls_only(bucket: str) -> dict:
    return {
        "Sid": "TLSUniquement",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [{"Fn::GetAtt": [bucket, "Arn"]}, _sub(f"${{{bucket}.Arn}}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _cloudfront_reads(bucket: str, objects: str, *, list_bucket: bool) -> list[dict]:
    condition = {"StringEquals": {"AWS:SourceArn": _sub(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}")}}
    statements = [{
        "Sid": "CloudFrontLit",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": _sub(f"${{{bucket}.Arn}}/{objects}"),
        "Condition": condition,
    }]
    if list_bucket:
        # A missing public page is then a 404 (the site's 404 page), not a 403.
        statements.append({
            "Sid": "CloudFrontListe",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:ListBucket",
            "Resource": {"Fn::GetAtt": [bucket, "Arn"]},
            "Condition": condition,
        })
    return statements


def _bucket_policy(bucket: str, statements: list[dict]) -> dict:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": bucket},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        },
    }


def _s3_origin(origin_id: str, bucket: str) -> dict:
    return {
        "Id": origin_id,
        "DomainName": {"Fn::GetAtt": [bucket, "RegionalDomainName"]},
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": {"Fn::GetAtt": ["OriginAccessControl", "Id"]},
    }


def _static_behaviour(origin_id: str) -> dict:
    return {
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "CachePolicyId": {"Ref": "StaticCachePolicy"},
        "ResponseHeadersPolicyId": {"Ref": "SecurityHeadersPolicy"},
        "FunctionAssociations": [{
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": ["IndexFunction", "FunctionMetadata.FunctionARN"]},
        }],
    }


def _function_role(stage: str) -> dict:
    table_arn = {"Fn::GetAtt": ["Table", "Arn"]}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": f"Fonctions du Portail Famille ({stage})",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }]},
            "ManagedPolicyArns": [
                _sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
            ],
            "Policies": [{
                "PolicyName": "portail-famille",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {
                        "Sid": "Table",
                        "Effect": "Allow",
                        # TransactWriteItems is authorised action by action (Put, Update,
                        # Delete, ConditionCheck); Scan is the nightly re-export's.
                        "Action": [
                            "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                            "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem",
                            "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                            "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
                        ],
                        "Resource": [table_arn, _sub("${Table.Arn}/index/*")],
                    },
                    {
                        "Sid": "PagesDesFamilles",
                        "Effect": "Allow",
                        "Action": ["s3:PutObject", "s3:GetObject"],
                        "Resource": _sub("${PagesBucket.Arn}/famille/*"),
                    },
                    {
                        # The nightly export lists a family's folder to write only the
                        # pages that changed (their ETags): listing famille/ only.
                        "Sid": "ListeDesPagesDesFamilles",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": {"Fn::GetAtt": ["PagesBucket", "Arn"]},
                        "Condition": {"StringLike": {"s3:prefix": "famille/*"}},
                    },
                    {
                        # Presigned GETs (invoice PDFs) and POSTs (certificates) are signed
                        # with this role: it must hold what the parent is handed.
                        "Sid": "Documents",
                        "Effect": "Allow",
                        "Action": ["s3:PutObject", "s3:GetObject"],
                        "Resource": _sub("${DocumentsBucket.Arn}/*"),
                    },
                    {
                        "Sid": "Courriels",
                        "Effect": "Allow",
                        "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                        "Resource": _sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"),
                    },
                    {
                        "Sid": "Secrets",
                        "Effect": "Allow",
                        "Action": ["ssm:GetParameters", "ssm:GetParameter"],
                        "Resource": _sub(
                            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${AWS::StackName}/*"),
                    },
                ]},
            }],
        },
    }


def function_environment() -> dict:
    """What every function of the stack reads (docs/environment.md), as template values."""
    return {
        table.TABLE_ENV: {"Ref": "Table"},
        table.BUCKET_ENVS["site"]: {"Ref": "SiteBucket"},
        table.BUCKET_ENVS["pages"]: {"Ref": "PagesBucket"},
        table.BUCKET_ENVS["documents"]: {"Ref": "DocumentsBucket"},
        "PORTAIL_SITE_URL": _sub("https://${DomainName}"),
        "PORTAIL_CLOUDFRONT_KEY_PAIR_ID": {"Ref": "SigningPublicKey"},
        "PORTAIL_ORIGIN_SECRET": {"Ref": "OriginSecret"},
        "PORTAIL_SSM_PREFIX": _sub("/${AWS::StackName}/"),
    }


def template(stage: str, functions: dict[str, bool], *, domain: str = "",
             api_stage: str = "api", log_groups: bool = False) -> dict:
    """The template merged into `chalice package`'s for `stage`.

    `functions`: {CloudFormation name: scheduled?} (function_resources). `domain`: the
    default of the DomainName parameter (commune.toml's host). `api_stage`: the API
    Gateway stage (config.json's `api_gateway_stage`), the API origin's path.
    `log_groups`: the stage sets `log_retention_in_days` (Chalice then adds log groups).
    """
    table_resource = table.cloudformation_resource()
    table_resource["Properties"] = {
        "TableName": {"Ref": "AWS::StackName"},
        **table_resource["Properties"],
        "DeletionProtectionEnabled": True,
    }
    # The families' data outlives the stack.
    table_resource["DeletionPolicy"] = table_resource["UpdateReplacePolicy"] = "Retain"
    documents = _private_bucket("documents", versioned=True, cors=True)
    documents["DeletionPolicy"] = documents["UpdateReplacePolicy"] = "Retain"

    resources: dict = {
        "Table": table_resource,
        "SiteBucket": _private_bucket("site public"),
        "PagesBucket": _private_bucket("pages des familles"),
        "DocumentsBucket": documents,
        "SiteBucketPolicy": _bucket_policy("SiteBucket", [
            *_cloudfront_reads("SiteBucket", "*", list_bucket=True), _tls_only("SiteBucket")]),
        "PagesBucketPolicy": _bucket_policy("PagesBucket", [
            *_cloudfront_reads("PagesBucket", "famille/*", list_bucket=False), _tls_only("PagesBucket")]),
        "DocumentsBucketPolicy": _bucket_policy("DocumentsBucket", [_tls_only("DocumentsBucket")]),
        "OriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {"OriginAccessControlConfig": {
                "Name": _sub("${AWS::StackName}-s3"),
                "Description": "CloudFront lit les buckets du site et des pages des familles",
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }},
        },
        "IndexFunction": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": _sub("${AWS::StackName}-index"),
                "AutoPublish": True,
                "FunctionConfig": {"Comment": "…/ vers …/index.html", "Runtime": "cloudfront-js-2.0"},
                "FunctionCode": INDEX_FUNCTION_CODE,
            },
        },
        "SigningPublicKey": {
            "Type": "AWS::CloudFront::PublicKey",
            "Properties": {"PublicKeyConfig": {
                "CallerReference": _sub("${AWS::StackName}-cookies-signes"),
                "Name": _sub("${AWS::StackName}-cookies-signes"),
                "Comment": "Clé publique des cookies signés (pages des familles)",
                "EncodedKey": {"Ref": "CloudFrontPublicKey"},
            }},
        },
        "SigningKeyGroup": {
            "Type": "AWS::CloudFront::KeyGroup",
            "Properties": {"KeyGroupConfig": {
                "Name": _sub("${AWS::StackName}-familles"),
                "Comment": "Les cookies signés par la fonction ouvrent /famille/<clé>/",
                "Items": [{"Ref": "SigningPublicKey"}],
            }},
        },
        "SecurityHeadersPolicy": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {"ResponseHeadersPolicyConfig": response_headers_policy_config(
                SECURITY_HEADERS, _sub("${AWS::StackName}-securite"))},
        },
        "StaticCachePolicy": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {"CachePolicyConfig": {
                "Name": _sub("${AWS::StackName}-statique"),
                "Comment": "Suit le Cache-Control de S3 ; MinTTL 0 : « private, no-cache » n'est jamais gardé",
                "MinTTL": 0,
                "DefaultTTL": STATIC_DEFAULT_TTL,
                "MaxTTL": 86400,
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": True,
                    "EnableAcceptEncodingBrotli": True,
                    "CookiesConfig": {"CookieBehavior": "none"},
                    "HeadersConfig": {"HeaderBehavior": "none"},
                    "QueryStringsConfig": {"QueryStringBehavior": "none"},
                },
            }},
        },
        "ApiOriginRequestPolicy": {
            "Type": "AWS::CloudFront::OriginRequestPolicy",
            "Properties": {"OriginRequestPolicyConfig": {
                "Name": _sub("${AWS::StackName}-api"),
                "Comment": "Vers la fonction : cookies, paramètres et les en-têtes qu'elle lit",
                "CookiesConfig": {"CookieBehavior": "all"},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": API_FORWARDED_HEADERS},
            }},
        },
        "Distribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {
                "Comment": _sub("Portail Famille (${AWS::StackName})"),
                "Enabled": True,
                "Aliases": [{"Ref": "DomainName"}],
                "ViewerCertificate": {
                    "AcmCertificateArn": {"Ref": "CertificateArn"},
                    "SslSupportMethod": "sni-only",
                    "MinimumProtocolVersion": "TLSv1.2_2021",
                },
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "PriceClass": "PriceClass_100",  # Europe and North America: the parents are in France
                "DefaultRootObject": "index.html",
                "Origins": [
                    _s3_origin("site", "SiteBucket"),
                    _s3_origin("pages", "PagesBucket"),
                    {
                        "Id": "api",
                        "DomainName": _sub("${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
                        "OriginPath": f"/{api_stage}",
                        "CustomOriginConfig": {
                            "OriginProtocolPolicy": "https-only",
                            "OriginSSLProtocols": ["TLSv1.2"],
                        },
                        # The function trusts CloudFront-Viewer-Address only with this.
                        "OriginCustomHeaders": [
                            {"HeaderName": ORIGIN_SECRET_HEADER, "HeaderValue": {"Ref": "OriginSecret"}},
                        ],
                    },
                ],
                "DefaultCacheBehavior": _static_behaviour("site"),
                "CacheBehaviors": [
                    {
                        "PathPattern": "/api/*",
                        "TargetOriginId": "api",
                        "ViewerProtocolPolicy": "https-only",
                        "AllowedMethods": ALL_METHODS,
                        "CachedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_DISABLED,
                        "OriginRequestPolicyId": {"Ref": "ApiOriginRequestPolicy"},
                        "ResponseHeadersPolicyId": {"Ref": "SecurityHeadersPolicy"},
                    },
                    {
                        "PathPattern": "/famille/*",
                        **_static_behaviour("pages"),
                        "TrustedKeyGroups": [{"Ref": "SigningKeyGroup"}],
                    },
                ],
                # One page set for the whole domain (CloudFront has no per-path error
                # pages): a family page without valid cookies (the session ended) shows
                # the site's « Accès réservé » page, an unknown address its 404 page.
                # Never kept: right after a login the same address must open.
                "CustomErrorResponses": [
                    {"ErrorCode": 403, "ResponseCode": 403, "ResponsePagePath": "/403.html", "ErrorCachingMinTTL": 0},
                    {"ErrorCode": 404, "ResponseCode": 404, "ResponsePagePath": "/404.html", "ErrorCachingMinTTL": 0},
                ],
            }},
        },
        "FunctionRole": _function_role(stage),
    }
    environment = function_environment()
    for name, scheduled in functions.items():
        properties: dict = {
            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
            "Environment": {"Variables": environment},
        }
        if scheduled:
            properties["Timeout"] = SCHEDULED_TIMEOUT
        resources[name] = {"Properties": properties}
    if log_groups and "APIHandler" in functions:
        # Chalice names the API handler's log group after `ApiHandler`, the name it
        # gives the function before renaming it `APIHandler`: a dangling reference.
        resources["ApiHandlerLogGroup"] = {
            "Properties": {"LogGroupName": _sub("/aws/lambda/${APIHandler}")}}

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Portail Famille, étape {stage} : table, buckets, CloudFront et fonctions (portail package).",
        "Parameters": {
            "DomainName": {
                "Type": "String",
                "Description": "Le nom de domaine du portail, sans https:// (ex. portail.example.fr)",
                "AllowedPattern": r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
                **({"Default": domain} if domain else {}),
            },
            "CertificateArn": {
                "Type": "String",
                "Description": "Certificat ACM du domaine, créé dans us-east-1 (exigence de CloudFront)",
                "AllowedPattern": r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$",
            },
            "CloudFrontPublicKey": {
                "Type": "String",
                "Description": "Clé publique RSA 2048 (PEM) des cookies signés ; la clé privée est dans SSM",
            },
            "OriginSecret": {
                "Type": "String",
                "NoEcho": True,
                "MinLength": 32,
                "AllowedPattern": "^[A-Za-z0-9_-]+$",
                "Description": "Secret que CloudFront ajoute aux requêtes vers l'API (X-Portail-Origin)",
            },
        },
        "Resources": resources,
        "Outputs": {
            "SiteUrl": {"Value": _sub("https://${DomainName}")},
            "DistributionDomainName": {
                "Description": "La cible du CNAME du domaine",
                "Value": {"Fn::GetAtt": ["Distribution", "DomainName"]},
            },
            "DistributionId": {"Value": {"Ref": "Distribution"}},
            "TableName": {"Value": {"Ref": "Table"}},
            "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
            "PagesBucketName": {"Value": {"Ref": "PagesBucket"}},
            "DocumentsBucketName": {"Value": {"Ref": "DocumentsBucket"}},
            "SigningKeyPairId": {"Value": {"Ref": "SigningPublicKey"}},
            "SecretParameterPrefix": {"Value": _sub("/${AWS::StackName}/")},
        },
    }


# --- the package ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Package:
    directory: Path
    template: dict
    seconds: float

    @property
    def template_path(self) -> Path:
        return self.directory / "sam.json"

    @property
    def zip_path(self) -> Path:
        return self.directory / "deployment.zip"


def _commune_file() -> Path:
    """The commune's configuration to package: PORTAIL_COMMUNE_FILE, else content/commune.toml."""
    from chalicelib.config import load_commune

    configured = os.environ.get("PORTAIL_COMMUNE_FILE")
    path = Path(configured) if configured else ROOT / "content" / "commune.toml"
    load_commune(path)  # a broken file stops here (ConfigError, in French)
    return path


def _domain(commune_path: Path) -> str:
    from urllib.parse import urlsplit

    from chalicelib.config import load_commune

    url = urlsplit(load_commune(commune_path).commune.site_url)
    return url.hostname if url.scheme == "https" and url.hostname else ""


def _project_copy(target: Path, stage: str, commune_path: Path) -> None:
    """functions/ without caches, with the commune's file, and a stage whose role the
    merged template gives."""
    shutil.copytree(
        FUNCTIONS_DIR, target,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "deployments", "venv", "commune.toml"),
    )
    shutil.copyfile(commune_path, target / "chalicelib" / "commune.toml")
    config_path = target / ".chalice" / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["stages"][stage].update(
        autogen_policy=False, manage_iam_role=False, iam_role_arn=ROLE_PLACEHOLDER)
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def _prepare_output(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise PackageError(f"{out} existe et n'est pas un dossier.")
        contents = {entry.name for entry in out.iterdir()}
        if contents - {"sam.json", "deployment.zip"}:
            raise PackageError(
                f"Le dossier {out} contient autre chose qu'un paquet du portail : "
                "choisissez un dossier vide ou nouveau (--out).")
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)


def _run_chalice(project: Path, stage: str, merge: Path, out: Path) -> None:
    environment = dict(os.environ)
    environment.setdefault("AWS_DEFAULT_REGION", environment.get("AWS_REGION") or DEFAULT_REGION)
    command = [sys.executable, "-c", "from chalice.cli import main; main()",
               "package", "--stage", stage, "--merge-template", str(merge), str(out)]
    result = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True)
    if result.returncode != 0 or not (out / "sam.json").is_file():
        output = (result.stderr or result.stdout).strip().splitlines()
        raise PackageError(
            "chalice package a échoué :\n  " + "\n  ".join(output[-15:] or ["(aucun message)"]))


_EXTENSION = re.compile(r"\.cpython-(\d)(\d+)-[^/]*\.so$")


def check_package(package_template: dict, zip_path: Path, commune_path: Path) -> None:
    """Refuses a package the stack could not run: a function left without the template's
    role, a runtime other than the one the compiled modules were built for, a zip
    without the commune's file."""
    functions = {name: resource for name, resource in package_template["Resources"].items()
                 if resource.get("Type") == "AWS::Serverless::Function"}
    if not functions:
        raise PackageError("Le modèle produit ne contient aucune fonction.")
    for name, resource in functions.items():
        if resource["Properties"].get("Role") != {"Fn::GetAtt": ["FunctionRole", "Arn"]}:
            raise PackageError(f"La fonction {name} n'a pas reçu le rôle du modèle (portail/deploy.py).")
    runtimes = {resource["Properties"]["Runtime"] for resource in functions.values()}
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        packaged = archive.read("chalicelib/commune.toml") if "chalicelib/commune.toml" in names else None
    if packaged != commune_path.read_bytes():
        raise PackageError("Le paquet ne contient pas le commune.toml de la commune.")
    built_for = {f"python{m[1]}.{m[2]}" for m in map(_EXTENSION.search, names) if m}
    if built_for - runtimes:
        raise PackageError(
            f"Modules compilés pour {', '.join(sorted(built_for))}, mais environnement Lambda "
            f"{', '.join(sorted(runtimes))} : lancez le paquet avec le Python de l'environnement visé.")


def package(stage: str, out: Path) -> Package:
    """Makes `out/sam.json` and `out/deployment.zip` for `stage` (docs/deployment.md)."""
    stage_config = check_stage(stage)
    commune_path = _commune_file()
    start = time.perf_counter()
    out = Path(out).resolve()
    _prepare_output(out)
    merge = template(
        stage, function_resources(chalice_app()), domain=_domain(commune_path),
        api_stage=stage_config.get("api_gateway_stage", "api"),
        log_groups="log_retention_in_days" in stage_config,
    )
    with tempfile.TemporaryDirectory(prefix="portail-package-") as temporary:
        project = Path(temporary) / "functions"
        _project_copy(project, stage, commune_path)
        merge_path = Path(temporary) / "portail-resources.json"
        merge_path.write_text(json.dumps(merge, indent=2, ensure_ascii=False), encoding="utf-8")
        _run_chalice(project, stage, merge_path, out)
    result = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    check_package(result, out / "deployment.zip", commune_path)
    return Package(out, result, time.perf_counter() - start)
