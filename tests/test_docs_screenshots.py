"""The docs show screenshots that exist, and every screenshot is shown somewhere (README or docs)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PICTURE = re.compile(r"!\[[^\]]*\]\(((?:\.\./)*(?:docs/)?screenshots/[^)]+)\)")


def shown_screenshots() -> set[str]:
    pages = [ROOT / "README.md", *ROOT.joinpath("docs").rglob("*.md")]
    return {f"docs/screenshots/{Path(link).name}" for page in pages for link in PICTURE.findall(page.read_text())}


def test_every_screenshot_is_shown_and_every_picture_exists():
    shown = shown_screenshots()
    stored = {f"docs/screenshots/{p.name}" for p in ROOT.joinpath("docs", "screenshots").glob("*.png")}
    assert shown - stored == set(), "pictures the docs show but docs/screenshots lacks"
    assert stored - shown == set(), "screenshots no page shows"
