"""Swagger UI and ReDoc render the schema in a real browser, loading nothing from outside."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(60000)  # a busy 2-core box renders the 4,000-line schema slowly
    page = context.new_page()
    page.requested, page.errors, page.failed = [], [], {}
    page.on("request", lambda request: page.requested.append(request.url))
    page.on("requestfailed", lambda request: page.failed.__setitem__(request.url, request.failure))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def outside(page, live_server) -> list[str]:
    """Requests that left the server and were not refused by the page's own CSP (ReDoc
    always asks for Redocly's logo on their CDN; the policy must block it)."""
    return [
        url
        for url in page.requested
        if not url.startswith((live_server.url, "data:", "blob:")) and page.failed.get(url) != "csp"
    ]


def test_swagger_ui_renders_every_operation_offline(page, live_server):
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock-summary-path")
    assert page.locator(".opblock").count() >= 40
    assert page.locator(".opblock-summary-operation-id", has_text="reservation_commit").count() == 1
    page.wait_for_selector(".models .model-container")
    assert page.locator(".models", has_text="ErrorEnvelope").count() == 1
    assert outside(page, live_server) == [] and page.errors == []
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in page.requested)


def test_redoc_renders_offline(page, live_server):
    page.goto("/api/redoc/")
    page.wait_for_selector("h1:has-text('Inventory Service API')")
    page.wait_for_selector("text=/api/v1/stock/reservations/{id}/commit/")
    assert outside(page, live_server) == [], page.failed
    assert page.errors == []
    assert any("/static/drf_spectacular_sidecar/redoc/" in url for url in page.requested)
