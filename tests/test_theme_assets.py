"""The theme's CSS and JS as served (portail/theme_assets.py): minified at the site's
build, every rule and every statement kept (docs/family-pages.md « Bytes »)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from portail.theme_assets import slim_css, slim_js, slim_theme
from tests.conftest import ROOT

STATIC = ROOT / "site" / "theme" / "static"


def rules(css: str) -> list[tuple[str, str]]:
    """(selectors, declarations) of every rule, comments removed, whitespace dropped (the
    minifier removes the spaces a rule does not need, such as after « : » and « , »)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    bare = lambda text: re.sub(r"\s+", "", text).rstrip(";")  # noqa: E731
    return [(bare(s), bare(d)) for s, d in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


@pytest.mark.parametrize("name", sorted(p.name for p in (STATIC / "css").glob("*.css")))
def test_a_style_sheet_keeps_every_rule_and_loses_its_comments(name):
    source = (STATIC / "css" / name).read_text(encoding="utf-8")
    served = slim_css(source)
    assert "/*" not in served and "\n" not in served.rstrip("\n")
    assert rules(served) == rules(source)
    assert len(served.encode()) < 0.8 * len(source.encode())


def test_a_script_keeps_its_code_and_its_strings():
    source = "\n".join([
        "// a comment on its own line", "const a = 1; // gone: after the code", "",
        "  // an indented comment", "if (a) {", "  const b = `first line", "  // inside a template literal: kept",
        "last`;", "}",
        'const url = "https://example.org // not a comment";', "export { a, b, url };", ""])
    assert slim_js(source) == (
        "const a=1;if(a){const b=`first line\n  // inside a template literal: kept\nlast`;}\n"
        'const url="https://example.org // not a comment";export{a,b,url};\n')


def test_the_served_scripts_are_still_valid_modules(tmp_path):
    shutil.copytree(STATIC, tmp_path / "theme")
    assert slim_theme(tmp_path / "theme") > 0
    for script in sorted((tmp_path / "theme" / "js").glob("*.js")):
        source = (STATIC / "js" / script.name).read_text(encoding="utf-8")
        served = script.read_text(encoding="utf-8")
        assert len(served) < 0.8 * len(source), script.name
        # Every exported and imported name is still there, as written.
        for name in re.findall(r"^export (?:async )?(?:const|function) (\w+)", source, flags=re.M):
            assert re.search(rf"export (?:async )?(?:const|function) {name}\b", served), (script.name, name)
        for module in re.findall(r'from "(\./[\w.]+)"', source):
            assert f'from"{module}"' in served or f'from "{module}"' in served, (script.name, module)
        module = script.with_suffix(".mjs")
        module.write_text(served, encoding="utf-8")
        # Node is here for axe-core's npm install (package.json): it checks the syntax.
        check = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
