"""The admin's forms against a body in a charset other than UTF-8: a `400` page, never a 500.

Built over the admin's URL patterns (the login page, every add and upload screen), so that a
new screen is covered without editing this file. The client enforces CSRF as a browser's
request is checked: Django's CSRF check is what reads the form first.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.reliability.hostile import NON_UTF8_CHARSETS

pytestmark = pytest.mark.django_db


def admin_form_urls() -> list[str]:
    """The login page, every model's add page and every import or upload screen of the admin."""
    urls = [reverse("admin:login")]
    for pattern in admin.site.get_urls():
        for sub in getattr(pattern, "url_patterns", []):
            name = getattr(sub, "name", None) or ""
            if name.endswith(("_add", "_import", "_process_import", "_upload", "_transfer")):
                urls.append(reverse(f"admin:{name}"))
    return urls


FORM_URLS = admin_form_urls()


def test_the_admin_has_upload_screens():
    assert any(url.endswith("/upload/") for url in FORM_URLS) and any(url.endswith("/import/") for url in FORM_URLS)


@pytest.mark.parametrize("charset", NON_UTF8_CHARSETS)
def test_a_form_in_another_charset_is_a_400_page(superuser, charset):
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.force_login(superuser)
    browser.get(reverse("admin:index"))  # a page with a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    failures = []
    for url in FORM_URLS:
        body = f"csrfmiddlewaretoken={token}&username=a&password=b&name=x".encode()
        response = browser.generic(
            "POST",
            url,
            body,
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
            headers={"Referer": "http://testserver" + url},
        )
        if response.status_code != 400 or b"Bad Request" not in response.content:
            failures.append(f"{url}: {response.status_code} {response.content[:80]!r}")
    assert not failures, "\n".join(failures)


def test_a_utf8_form_still_reaches_the_view(superuser):
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("admin:login"))
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        reverse("admin:login"),
        f"csrfmiddlewaretoken={token}&username=a&password=b",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert response.status_code == 200 and b"Please enter the correct" in response.content
