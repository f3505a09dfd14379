"""A parent's phone, slowed: the month page and the dashboard, their time and their bytes.

Starts the demo portal at the guide's date (`portail serve --demo`, as
`python -m portail.screenshots` does, on free ports, in a child process), finds the
demo's busiest December (the largest month page of 2014-12 in the pages bucket) and the
login of its family, then drives Debian's Chromium (Playwright) slowed by the DevTools
protocol as a mid-range phone on a poor network:

- CPU: `Emulation.setCPUThrottlingRate` rate 4 (four times slower than this machine);
- network, « slow 4G » (Lighthouse's mobile profile): `Network.emulateNetworkConditions`
  latency 150 ms, 1.6 Mbit/s down, 750 kbit/s up;
- a 360 × 800 phone screen, touch, no HTTP cache (a fresh context per run: the first
  visit of the day, every byte fetched).

Interactive, as measured here: the navigation's `domContentLoadedEventEnd` (Navigation
Timing). The page's one script is a module, which runs before DOMContentLoaded and only
once the style sheets before it are loaded: at that instant the page is styled and its
booking forms are handled by the script. The load event is printed too.

Bytes: the HTML, CSS and JS of each family page type as fetched by the page (images and
the like aside): transferred (the response bodies on the wire here, without
compression: the local server sends none), decoded, and gzip-compressed as CloudFront
would send them (level 6). The targets apply to the decoded bytes.

Targets: the month page interactive within 2 s and the dashboard within 1 s (medians of
RUNS runs); the month page ≤ 40 KB and the dashboard ≤ 20 KB. Prints the figures, then
last the ratios measured / target (above 1: over the target).

    .venv/bin/python bench/bench_phone.py [--runs N]
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portail.screenshots import (  # noqa: E402  (the repository's root first)
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    ScreenshotError,
    start_portal,
    stop_portal,
)

RUNS = 5
MONTH = "2014-12"
CPU_SLOWDOWN = 4
LATENCY_MS = 150
DOWN_BITS = 1_600_000
UP_BITS = 750_000
PHONE = {"width": 360, "height": 800}
TARGET_SECONDS = {"mois": 2.0, "accueil": 1.0}
TARGET_KB = {"mois": 40, "accueil": 20}
# The family's page types, under its home (the month page's path is added once known).
PAGE_TYPES = {
    "accueil": "",
    "enfants": "enfants/",
    "factures": "factures/",
    "reglements": "reglements/",
    "releve": "releve/",
    "messages": "messages/",
    "demandes": "demandes/",
    "compte": "compte/",
}
KINDS = {"document": "html", "stylesheet": "css", "script": "js"}


def embedded_aws(log: str) -> str:
    found = re.search(r"AWS embarqué \(DynamoDB, S3, SES\) : (\S+)", log)
    if found is None:
        raise ScreenshotError("Adresse de l'AWS embarqué introuvable dans la sortie du portail.")
    return found.group(1)


def busiest_december(endpoint: str) -> tuple[str, str, int]:
    """(login, month page path under the home, its bytes) of the largest December page.
    A bench may scan the local demo table: no page of the portal ever does."""
    import boto3

    options = {"endpoint_url": endpoint, "region_name": "eu-west-3",
               "aws_access_key_id": "demo", "aws_secret_access_key": "demo"}
    s3, table = boto3.client("s3", **options), boto3.resource("dynamodb", **options)
    pages = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-pages"))
    largest = (0, "")
    for listing in s3.get_paginator("list_objects_v2").paginate(Bucket=pages, Prefix="famille/"):
        for item in listing.get("Contents", []):
            if re.fullmatch(rf"famille/[0-9a-f]{{32}}/enfants/[^/]+/{MONTH}/index\.html", item["Key"]):
                largest = max(largest, (item["Size"], item["Key"]))
    size, key = largest
    page_key, child = re.fullmatch(r"famille/([0-9a-f]{32})/enfants/([^/]+)/.*", key).groups()
    name = next(t.name for t in table.tables.all() if t.name.startswith("portail-famille"))
    scan = {"FilterExpression": "begins_with(pk, :p) AND page_key = :k",
            "ExpressionAttributeValues": {":p": "LOGIN#", ":k": page_key}}
    while True:
        answer = table.Table(name).scan(**scan)
        if answer["Items"]:
            return answer["Items"][0]["pk"].removeprefix("LOGIN#"), f"enfants/{child}/{MONTH}/", size
        if "LastEvaluatedKey" not in answer:
            raise ScreenshotError(f"Aucun identifiant pour la clé {page_key}.")
        scan["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def slowed(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": LATENCY_MS,
        "downloadThroughput": DOWN_BITS / 8, "uploadThroughput": UP_BITS / 8})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})


def logged_in_state(browser, base: str, login: str) -> tuple[dict, str]:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/connexion/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(re.compile(r"/famille/[0-9a-f]{32}/$"))
    home = re.search(r"(/famille/[0-9a-f]{32}/)$", page.url).group(1)
    state = context.storage_state()
    context.close()
    return state, home


def visit(browser, state: dict, url: str, *, slow: bool) -> tuple[dict, dict]:
    """One cold visit: ({dcl, load} seconds, {kind: [transferred, decoded, gzip]} bytes)."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="fr-FR",
                                  timezone_id="Europe/Paris", storage_state=state)
    page = context.new_page()
    if slow:
        slowed(page)
    responses = []
    page.on("response", lambda response: responses.append(response))
    answer = page.goto(url, wait_until="load")
    if answer is None or answer.status != 200:
        raise ScreenshotError(f"{url} : réponse {answer.status if answer else 'absente'}")
    timing = page.evaluate("""() => {
        const [n] = performance.getEntriesByType("navigation");
        return {dcl: n.domContentLoadedEventEnd / 1000, load: n.loadEventEnd / 1000};
    }""")
    sizes: dict[str, list[int]] = {}
    for response in responses:
        kind = KINDS.get(response.request.resource_type)
        if kind is None or response.status != 200:
            continue
        body = response.body()
        wire = response.request.sizes()["responseBodySize"]
        total = sizes.setdefault(kind, [0, 0, 0])
        total[0] += wire
        total[1] += len(body)
        total[2] += len(gzip.compress(body, 6))
    context.close()
    return timing, sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        print(f"Chromium est absent ({CHROMIUM}) : apt-get install -y chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="portail-telephone-") as workdir:
        process, base = start_portal(Path(workdir))
        try:
            login, month_path, month_size = busiest_december(embedded_aws((Path(workdir) / "serve.log").read_text()))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    state, home = logged_in_state(browser, base, login)
                    types = {**PAGE_TYPES, "mois": month_path}
                    seconds = {name: [visit(browser, state, base + home + types[name], slow=True)[0]
                                      for _ in range(args.runs)] for name in TARGET_SECONDS}
                    sizes = {name: visit(browser, state, base + home + path, slow=False)[1]
                             for name, path in types.items()}
                finally:
                    browser.close()
        finally:
            stop_portal(process)

    print(f"Demo portal, busiest December: « {login} », {month_path} ({month_size / 1000:.1f} KB of HTML)")
    print(f"Phone: CPU slowed {CPU_SLOWDOWN}x; network {LATENCY_MS} ms, {DOWN_BITS / 1e6:g} Mbit/s down, "
          f"{UP_BITS / 1e3:g} kbit/s up; {PHONE['width']} x {PHONE['height']}; cold cache; {args.runs} runs")
    medians = {}
    for name, runs in seconds.items():
        medians[name] = statistics.median(run["dcl"] for run in runs)
        load = statistics.median(run["load"] for run in runs)
        spread = ", ".join(f"{run['dcl']:.2f}" for run in runs)
        print(f"{name:10} interactive (DOMContentLoaded end) median {medians[name]:.2f} s [{spread}]; "
              f"load event {load:.2f} s")
    print("bytes per page type (KB = 1000 bytes): HTML + CSS + JS, decoded / transferred / gzip")
    decoded = {}
    for name, kinds in sizes.items():
        decoded[name] = sum(v[1] for v in kinds.values())
        wire = sum(v[0] for v in kinds.values())
        packed = sum(v[2] for v in kinds.values())
        parts = ", ".join(f"{kind} {kinds[kind][1] / 1000:.1f}" for kind in ("html", "css", "js") if kind in kinds)
        print(f"{name:10} {decoded[name] / 1000:6.1f} / {wire / 1000:6.1f} / {packed / 1000:5.1f} KB ({parts})")
    ratios = [f"{name} {medians[name] / target:.2f}" for name, target in TARGET_SECONDS.items()]
    ratios += [f"{name} {decoded[name] / 1000 / target:.2f}" for name, target in TARGET_KB.items()]
    print("ratio measured / target (time: month ≤ 2 s, dashboard ≤ 1 s; bytes: month ≤ 40 KB, "
          f"dashboard ≤ 20 KB): {'; '.join(ratios[:2])} (time); {'; '.join(ratios[2:])} (bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
