"""Playwright driving Debian's Chromium against pytest-django's live server.

The sync Playwright API runs an asyncio loop in the main thread while it is open, and Django
refuses ORM calls from a thread with a running loop: the browser fixture allows that, and
closes Playwright (and the allowance) at the end of the module, so no other test sees either.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The committed screenshots are refreshed only on request (`SAVE_SCREENSHOTS=1`), so that a
# test run does not dirty the working tree; otherwise they go to a temporary directory.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser-pass-123"
WIDTH = 1280


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def admin_user(transactional_db):
    from django.contrib.auth import get_user_model

    from stock.models import Warehouse

    # Transactional tests start from flushed tables: bring back what the migrations seed.
    Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    return get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)


@pytest.fixture
def demo(admin_user):
    call_command("load_demo_data", skus=60, seed=7, verbosity=0)


@pytest.fixture
def page(chromium, live_server, admin_user, demo):
    context = chromium.new_context(viewport={"width": WIDTH, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15000)
    page = context.new_page()
    login(page)
    yield page
    context.close()


@pytest.fixture
def new_page(chromium, live_server, admin_user):
    """`new_page()` opens a fresh browser context (its own session) logged in as admin."""
    contexts = []

    def make():
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        login(page)
        return page

    yield make
    for context in contexts:
        context.close()


def login(page, username="admin", password=PASSWORD):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def screenshot(page, name: str, full_page: bool = True) -> None:
    """Save a screenshot: into docs/screenshots with `SAVE_SCREENSHOTS=1`, else a temporary directory."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        folder = DOCS_SCREENSHOTS
    else:
        folder = Path(tempfile.gettempdir()) / "inventory-admin-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def pick(page, field, search, option_text):
    """Choose in an autocomplete (select2) field: open it, type, click the option."""
    page.click(f".field-{field} .select2-selection, #id_{field} + .select2 .select2-selection")
    page.fill(".select2-search__field", search)
    page.click(f".select2-results__option:has-text('{option_text}')")


def drag_row_onto(page, cut_pk, target_pk, *, posts: bool = False):
    """Drag a tree row by its handle and drop it in the middle third of the target row (as child).

    `posts`: wait for the move's POST too (there is none when a confirmation is declined).
    """
    handle = page.locator(f'tr:has(.tree-node[data-pk="{cut_pk}"]) .drag-handle')
    target = page.locator(f'tr:has(.tree-node[data-pk="{target_pk}"])')
    start, box = handle.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    middle_y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 200, middle_y - 10, steps=8)
    page.mouse.move(box["x"] + 200, middle_y, steps=4)
    if posts:
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.mouse.up()
    else:
        page.mouse.up()
    page.wait_for_load_state("load")
