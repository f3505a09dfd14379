"""Pictures of the real pages for the parents' guide: `python -m portail.screenshots`.

Starts the demo portal at the guide's date (`portail serve --demo --now …`, on free
ports, in a child process), logs in as the guide's family with Debian's Chromium
(Playwright, /usr/bin/chromium), photographs the pages listed in SHOTS at a phone's
width (360 px) and a computer's, and writes small PNGs (a palette of at most 64 colours,
under MAX_BYTES each) into content/images/guide/, ready to commit. The guide's Markdown
shows them with `![what the picture shows](/images/guide/<name>.png)`.

Run it again after changing a page's look: the pictures must stay the real pages.

It also photographs, at a phone's width (360 px), the family pages as a parent sees them
on a phone (PHONE_SHOTS: the month page, the statement, the medical certificate's form),
into docs/images/telephone/ (docs/content.md): not shown by the guide, they show the
pages' state to whoever reviews them.
"""

from __future__ import annotations

import argparse
import io
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "content" / "images" / "guide"
PHONE_OUTPUT = ROOT / "docs" / "images" / "telephone"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GUIDE_NOW = "2014-11-28T12:00:00+01:00"
LOGIN, PASSWORD = "ztest", "portail-demo-2014"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1024, "height": 768}
MAX_BYTES = 80_000
COLOURS = 64
STARTUP_SECONDS = 900  # the demo seeds 51 families into the embedded AWS


@dataclass(frozen=True)
class Shot:
    name: str  # file name in content/images/guide/
    path: str  # address; "{home}" is the family's home (/famille/<key>/)
    viewport: dict
    clip: str | None = None  # CSS selector of the part to photograph (None: the screen)
    logged_in: bool = True
    login: str = LOGIN  # whose pages (a demo family; the same password for all)
    folder: Path = OUTPUT  # where it is written: the guide's pictures, or PHONE_OUTPUT


SHOTS = [
    Shot("connexion-telephone.png", "/connexion/", PHONE, None, logged_in=False),
    Shot("accueil-famille.png", "{home}", DESKTOP, "main"),
    Shot("calendrier-decembre.png", "{home}enfants/1/2014-12/", DESKTOP, "form.formulaire-reservation"),
    Shot("calendrier-telephone.png", "{home}enfants/1/2014-12/", PHONE, "form.formulaire-reservation"),
    # Not the week pattern: Debian's Chromium has no French locale data, its date fields
    # would show 12/05/2014.
]
PHONE_SCREEN = {"width": 360, "height": 800}
# The family pages on a phone, for review (docs/content.md): the first screen of the
# guide's month, the whole statement, and the medical certificate's form.
PHONE_SHOTS = [
    Shot("mois-telephone.png", "{home}enfants/1/2014-12/", PHONE_SCREEN, None, folder=PHONE_OUTPUT),
    Shot("releve-telephone.png", "{home}releve/", PHONE_SCREEN, "main", folder=PHONE_OUTPUT),
    # The certificate's form (section#certificat, famille/certificat.html) shows on the
    # « Liste des demandes » (and the month page) of a family whose absence's following
    # days await a certificate: in the demo, famille03's eldest, absent twice this month.
    Shot("certificat-telephone.png", "{home}demandes/", PHONE_SCREEN, "#certificat", login="famille03",
         folder=PHONE_OUTPUT),
]


class ScreenshotError(Exception):
    """The pictures could not be made (French message)."""


def start_portal(workdir: Path) -> tuple[subprocess.Popen, str]:
    """`portail serve --demo` on free ports at the guide's date: (process, base URL)."""
    log_path = workdir / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "portail.cli", "serve", "--demo", "--port", "0", "--aws-port", "0",
             "--now", GUIDE_NOW, "--output", str(workdir / "output")],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    # Once the demo's family pages are written (the portal answers before: its warm-up).
    while "Pages des familles de démonstration exportées" not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_portal(process)
            raise ScreenshotError(f"Le portail de démonstration n'a pas démarré :\n{log_path.read_text()}")
        time.sleep(0.2)
    url = re.search(r"Portail Famille : (http://\S+?)/?$", log_path.read_text(), re.M)
    if url is None:
        stop_portal(process)
        raise ScreenshotError("Adresse du portail introuvable dans sa sortie.")
    return process, url.group(1)


def stop_portal(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def optimise(png: bytes, max_bytes: int = MAX_BYTES) -> bytes:
    """A palette PNG: screenshots are flat colours and text, 64 colours keep them crisp.
    Fewer colours, then a narrower picture, until it is under max_bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = COLOURS
    while True:
        out = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True)
        data = out.getvalue()
        if len(data) <= max_bytes:
            return data
        if colours > 16:
            colours //= 2
        else:
            image = image.resize((image.width * 9 // 10, image.height * 9 // 10), Image.Resampling.LANCZOS)


def log_in(page, base: str, login: str = LOGIN) -> str:
    page.goto(f"{base}/connexion/")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(re.compile(r"/famille/[0-9a-f]{32}/$"))
    return re.search(r"(/famille/[0-9a-f]{32}/)$", page.url).group(1)


def take(shots: list[Shot], base: str, output: Path | None = None) -> tuple[list[tuple[Path, int]], list[str]]:
    """Writes the pictures (into `output`, else each shot's folder): (written, missing),
    `missing` saying in French each picture whose part is not on its page."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise ScreenshotError(f"Chromium est absent ({CHROMIUM}) : apt-get install -y chromium")
    written, missing = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # Logged in once per family; each shot gets a context of its own size, sharing the cookies.
            sessions: dict[str, tuple[dict, str]] = {}
            for login in dict.fromkeys(shot.login for shot in shots if shot.logged_in):
                first = browser.new_context(locale="fr-FR")
                home = log_in(first.new_page(), base, login)
                sessions[login] = (first.storage_state(), home)
                first.close()
            for shot in shots:
                state, home = sessions.get(shot.login, (None, "")) if shot.logged_in else (None, "")
                context = browser.new_context(viewport=shot.viewport, device_scale_factor=1,
                                              locale="fr-FR", timezone_id="Europe/Paris", storage_state=state)
                page = context.new_page()
                page.goto(base + shot.path.format(home=home))
                page.wait_for_load_state("networkidle")
                # The pictures show the pages as they are, not a focused field or a caret.
                page.evaluate("() => document.activeElement && document.activeElement.blur()")
                target = page.locator(shot.clip).first if shot.clip else page
                if shot.clip and target.count() == 0:
                    missing.append(f"{shot.name} : « {shot.clip} » n'est pas sur {shot.path} ({shot.login})")
                    context.close()
                    continue
                png = target.screenshot(type="png", animations="disabled", caret="hide")
                folder = output or shot.folder
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / shot.name
                path.write_bytes(optimise(png))
                written.append((path, path.stat().st_size))
                context.close()
        finally:
            browser.close()
    return written, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m portail.screenshots",
        description="Photographie les pages du portail de démonstration pour le guide des familles.")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"dossier de toutes les images (défaut : {OUTPUT} pour le guide, "
                             f"{PHONE_OUTPUT} pour les pages sur téléphone)")
    parser.add_argument("--only", action="append", metavar="NOM",
                        help="ne refaire que cette image (ex. accueil-famille.png) ; répétable")
    args = parser.parse_args(argv)
    shots = [shot for shot in [*SHOTS, *PHONE_SHOTS] if not args.only or shot.name in args.only]
    if not shots:
        print(f"Aucune image de ce nom : {', '.join(args.only)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="portail-captures-") as workdir:
        try:
            process, base = start_portal(Path(workdir))
        except ScreenshotError as error:
            print(error, file=sys.stderr)
            return 1
        try:
            written, missing = take(shots, base, args.output)
        except ScreenshotError as error:
            print(error, file=sys.stderr)
            return 1
        finally:
            stop_portal(process)
    for path, size in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} : {size / 1000:.1f} ko")
    for line in missing:
        print(f"Image non faite, {line}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
