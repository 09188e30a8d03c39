"""The admin tours (the README's and the pages under docs/) show screenshots that exist, and
every screenshot is shown."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shown() -> set[str]:
    """Every picture the README and docs/**/*.md show, as a path from the repository root."""
    shown = set(re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+)\)", ROOT.joinpath("README.md").read_text()))
    for page in ROOT.joinpath("docs").rglob("*.md"):
        for link in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", page.read_text()):
            shown.add(str((page.parent / link).resolve().relative_to(ROOT)))
    return shown


def test_every_screenshot_is_in_the_tour_and_every_picture_exists():
    shown = _shown()
    stored = {f"docs/screenshots/{p.name}" for p in ROOT.joinpath("docs", "screenshots").glob("*.png")}
    assert shown - stored == set(), "pictures the tours show but docs/screenshots lacks"
    assert stored - shown == set(), "screenshots no tour shows"
