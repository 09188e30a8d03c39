"""The README's admin tour shows screenshots that exist, and every screenshot is shown."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_screenshot_is_in_the_tour_and_every_picture_exists():
    shown = set(re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+)\)", ROOT.joinpath("README.md").read_text()))
    stored = {f"docs/screenshots/{p.name}" for p in ROOT.joinpath("docs", "screenshots").glob("*.png")}
    assert shown - stored == set(), "pictures the README shows but docs/screenshots lacks"
    assert stored - shown == set(), "screenshots the README does not show"
