"""The theme's CSS and JS as served (portail/theme_assets.py): their comments left out at
the site's build, the rules and the code as written (docs/family-pages.md « Bytes »)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from portail.theme_assets import slim_css, slim_js, slim_theme
from tests.conftest import ROOT

STATIC = ROOT / "site" / "theme" / "static"


def rules(css: str) -> list[tuple[str, str]]:
    """(selectors, declarations) of every rule, whitespace collapsed, comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(" ".join(s.split()), " ".join(d.split())) for s, d in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


@pytest.mark.parametrize("name", ["portail.css", "calendrier.css", "certificat.css", "print.css"])
def test_a_style_sheet_keeps_every_rule_and_loses_its_comments(name):
    source = (STATIC / "css" / name).read_text(encoding="utf-8")
    served = slim_css(source)
    assert "/*" not in served and "\n\n" not in served and "\n " not in served
    assert rules(served) == rules(source)
    assert len(served.encode()) < 0.85 * len(source.encode())


def test_a_script_keeps_every_line_of_code():
    source = "\n".join([
        "// a comment on its own line", "const a = 1; // kept: code before it", "",
        "  // an indented comment", "if (a) {", "  const b = `first line", "  // inside a template literal: kept",
        "last`;", "}",
        'const url = "https://example.org"; // the address stays', "export { a, b, url };", ""])
    assert slim_js(source) == (
        "const a = 1; // kept: code before it\nif (a) {\nconst b = `first line\n  // inside a template literal: kept\n"
        'last`;\n}\nconst url = "https://example.org"; // the address stays\nexport { a, b, url };\n')


def test_the_served_scripts_are_still_valid_modules(tmp_path):
    shutil.copytree(STATIC, tmp_path / "theme")
    assert slim_theme(tmp_path / "theme") > 0
    for script in sorted((tmp_path / "theme" / "js").glob("*.js")):
        source = (STATIC / "js" / script.name).read_text(encoding="utf-8")
        served = script.read_text(encoding="utf-8")
        assert [line for line in served.splitlines() if line.lstrip().startswith("//")] == [], script.name
        code = [line.strip() for line in source.splitlines() if line.strip() and not line.lstrip().startswith("//")]
        assert [line.strip() for line in served.splitlines()] == code, script.name
        module = script.with_suffix(".mjs")
        module.write_text(served, encoding="utf-8")
        # Node is here for axe-core's npm install (package.json): it checks the syntax.
        check = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
