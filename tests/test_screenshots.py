"""The guide's pictures (`python -m portail.screenshots`): small palette PNGs."""

from __future__ import annotations

import io
import random
import re

from PIL import Image

from portail.screenshots import MAX_BYTES, OUTPUT, PHONE_OUTPUT, PHONE_SHOTS, ROOT, SHOTS, optimise


def _page_like(width: int, height: int) -> bytes:
    """A screenshot-like picture: flat blocks of many shades, plus noise that PNG
    compresses badly (anti-aliased text)."""
    rng = random.Random(5)
    image = Image.new("RGB", (width, height), "white")
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            if (x // 40 + y // 30) % 3 == 0:
                pixels[x, y] = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            else:
                pixels[x, y] = (29 + (x // 40) % 7, 79, 145)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_screenshot_becomes_a_palette_png_under_the_limit():
    original = _page_like(600, 400)
    assert len(original) > 200_000
    small = optimise(original, max_bytes=60_000)
    assert len(small) <= 60_000
    picture = Image.open(io.BytesIO(small))
    assert picture.format == "PNG" and picture.mode == "P"
    assert picture.width <= 600


def test_a_flat_screenshot_keeps_its_size():
    image = Image.new("RGB", (360, 200), (29, 79, 145))
    out = io.BytesIO()
    image.save(out, format="PNG")
    picture = Image.open(io.BytesIO(optimise(out.getvalue())))
    assert picture.size == (360, 200)


def test_every_picture_is_committed_small_and_shown_by_the_guide():
    """What the script makes is what the guide shows: no missing, stale or stray file."""
    guide = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "content" / "guide").glob("*.md"))
    shown = set(re.findall(r"\(/images/guide/([^)]+\.png)\)", guide))
    made = {shot.name for shot in SHOTS}
    on_disk = {path.name for path in OUTPUT.glob("*.png")}
    assert shown == made == on_disk
    for name in on_disk:
        assert (OUTPUT / name).stat().st_size < MAX_BYTES, name


def test_the_phone_pictures_are_the_month_page_the_statement_and_the_certificate_form():
    """`python -m portail.screenshots` also photographs, at 360 px, the pages a parent uses
    on a phone, into docs/images/telephone/: no stray file there, each one small."""
    assert {(shot.name, shot.viewport["width"], shot.folder) for shot in PHONE_SHOTS} == {
        ("mois-telephone.png", 360, PHONE_OUTPUT), ("releve-telephone.png", 360, PHONE_OUTPUT),
        ("certificat-telephone.png", 360, PHONE_OUTPUT)}
    assert all(shot.folder == OUTPUT for shot in SHOTS)
    on_disk = {path.name for path in PHONE_OUTPUT.glob("*.png")}
    assert on_disk <= {shot.name for shot in PHONE_SHOTS}
    assert {"mois-telephone.png", "releve-telephone.png"} <= on_disk
    for name in on_disk:
        assert (PHONE_OUTPUT / name).stat().st_size < MAX_BYTES, name
