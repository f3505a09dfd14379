"""The function deploys alone and stays light: what it imports is what it lists."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

from tests.conftest import ROOT

FUNCTIONS = ROOT / "functions"
# In the Lambda runtime or packaged by Chalice itself.
PROVIDED = {"boto3", "botocore", "chalice"}
MODULE_OF = {"vacances-scolaires-france": "vacances_scolaires_france", "argon2-cffi": "argon2"}


def _third_party_imports() -> set[str]:
    names = set()
    for path in [FUNCTIONS / "app.py", *(FUNCTIONS / "chalicelib").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("chalicelib", "app", "__future__")}


def _requirements() -> set[str]:
    lines = (FUNCTIONS / "requirements.txt").read_text().splitlines()
    names = {line.split(">")[0].split("=")[0].split("<")[0].strip() for line in lines if line.strip() and not line.startswith("#")}
    return {MODULE_OF.get(n, n) for n in names}


def test_requirements_list_exactly_what_the_function_imports():
    assert _third_party_imports() - PROVIDED == _requirements()


def test_function_import_path_has_no_tooling():
    """What a cold start loads (`import app` and the dependencies a booking needs first,
    as bench/bench_cold_start.py measures it), then with the domain's modules imported."""
    code = (
        "import json, sys, app; from chalicelib import dependencies;"
        "dependencies.storage(); dependencies.bookings(); pages = dependencies.family_pages();"
        "cold = sorted(sys.modules); s3_made = not callable(pages._s3);"
        "import chalicelib.calendar_rules, chalicelib.config, chalicelib.storage, chalicelib.families, "
        "chalicelib.layout, chalicelib.pages, chalicelib.agenda, chalicelib.reminders;"
        "from chalicelib.holiday_sources import public_holidays; public_holidays(2026);"
        "print(json.dumps([cold, sorted(sys.modules), s3_made]))"
    )
    environment = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "cold",
                   "AWS_SECRET_ACCESS_KEY": "cold", "PORTAIL_SECRET": "cold-start"}
    cold, loaded, s3_made = json.loads(subprocess.check_output([sys.executable, "-c", code], cwd=FUNCTIONS,
                                                              env=environment))
    # A cold start loads no library of its own (pydantic, about a third of it, is gone:
    # commune.toml is read by chalicelib/config_checks.py), no renderer (the first page
    # rendered loads it), and makes no S3 client (the first page written does).
    packages = {name.split(".")[0] for name in cold}
    assert not packages & {"pydantic", "jinja2", "babel", "argon2", "holidays", "vacances_scolaires_france", "rsa",
                           "pyotp", "segno", "markdown", "icalendar", "reportlab"}
    assert not {"chalicelib.pages.render", "chalicelib.pages.account", "chalicelib.statement"} & set(cold)
    assert not s3_made
    # The first calendar read loads France's holidays, not the 250 other countries' modules.
    assert [name for name in loaded if name.startswith("holidays.countries")] == ["holidays.countries",
                                                                                 "holidays.countries.france"]
    # icalendar (about 70 ms) is the function's, imported by the first calendar feed made only.
    assert not {name.split(".")[0] for name in loaded} & {"pelican", "moto", "werkzeug", "flask", "playwright",
                                                          "markdown", "portail", "reportlab", "PIL", "icalendar"}


def test_babel_is_loaded_by_the_first_french_text_not_by_the_cold_start():
    """The function lists Babel, but `import app` and the domain's modules do not load it
    (about 100 ms and its locale data): chalicelib.formatting imports it when it formats."""
    code = (
        "import json, sys, app, chalicelib.formatting, chalicelib.pages, chalicelib.bookings, "
        "chalicelib.booking_requests, chalicelib.waiting_list, chalicelib.accounts, chalicelib.password_reset, "
        "chalicelib.billing, chalicelib.statement, chalicelib.calendar_rules;"
        "before = 'babel' in sys.modules;"
        "from datetime import date; from chalicelib.formatting import french_day;"
        "text = french_day(date(2014, 12, 1));"
        "print(json.dumps([before, 'babel' in sys.modules, text]))"
    )
    before, after, text = json.loads(subprocess.check_output([sys.executable, "-c", code], cwd=FUNCTIONS))
    assert (before, after, text) == (False, True, "lundi 1er décembre 2014")
