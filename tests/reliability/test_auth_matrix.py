"""Who may call what: every API route and method for anonymous users, users without
permissions, each role of `manage.py setup_roles` and a superuser; every admin page for
anonymous, non-staff and permission-less staff users; CSRF on session writes.

What each role may do is written here from the spec (admin-and-commands.md, "Roles"), not
read from the code, so that the test checks the code against the spec.
"""

import json
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.urls import URLPattern, URLResolver, reverse
from rest_framework.test import APIClient

from tests.conftest import token_client
from tests.factories import UserFactory
from tests.reliability.bodies import allow_local_webhooks, base_body_for, url_kwargs
from tests.reliability.endpoints import api_routes
from tests.reliability.world import build_world, fingerprint

pytestmark = pytest.mark.django_db
COUNTS = {"checks": 0}

CATALOG = ("category", "product", "sku")
STOCK = ("warehouse", "stocklevel", "stockmovement", "reservation")
# stock-depth.md names no role for inbound shipments: viewing them goes with viewing stock, the
# clerk may or may not draft, open, cancel and receive them.
INBOUND = {"stock.view_inboundshipment"}
CLERK_INBOUND = {"stock.add_inboundshipment", "stock.change_inboundshipment", "stock.receive_inboundshipment"}
ALL = "everything"
# The roles of the spec. A permission listed under `either` may go both ways (the spec does not say).
SPEC_ROLES = {
    "Merchandiser": {
        "has": {f"catalog.{a}_{m}" for a in ("add", "change", "view", "delete") for m in CATALOG}
        | {f"stock.view_{m}" for m in STOCK}
        | INBOUND,
    },
    "Stock clerk": {
        "has": {f"catalog.view_{m}" for m in CATALOG}
        | {f"stock.view_{m}" for m in STOCK}
        | {"stock.adjust_stock", "stock.transfer_stock", "stock.move_stock_state"}
        | INBOUND,
        "either": {"stock.change_stocklevel"} | CLERK_INBOUND,  # the low-stock threshold: part of "adjust"?
    },
    "Integration": {
        "has": {f"catalog.view_{m}" for m in CATALOG}
        | {f"stock.view_{m}" for m in STOCK}
        | {"stock.add_reservation", "stock.commit_reservation", "stock.release_reservation"}
        | INBOUND
        # events.md: integrations read the feed and subscribe (manage their webhooks).
        | {"events.view_event"}
        | {f"events.{a}_webhooksubscription" for a in ("add", "change", "view", "delete")},
    },
    "Inventory manager": {"has": ALL},
}

# (method, path pattern) -> the permissions the spec requires. Checked in order.
RULES = [
    # events.md: the feed needs view_event; webhooks the usual model permissions; ping, rotate-secret
    # and redeliver change a subscription, its delivery log is part of viewing it. A webhook delete
    # is permanent already (no soft delete, no purge permission): `?force=true` asks for nothing more.
    ("GET", r"^/api/v1/events/", ("events.view_event",)),
    ("GET", r"^/api/v1/webhooks/", ("events.view_webhooksubscription",)),
    ("POST", r"^/api/v1/webhooks/$", ("events.add_webhooksubscription",)),
    (
        "POST",
        r"^/api/v1/webhooks/\d+/(?:ping|rotate-secret|deliveries/\d+/redeliver)/$",
        ("events.change_webhooksubscription",),
    ),
    ("PUT|PATCH", r"^/api/v1/webhooks/\d+/$", ("events.change_webhooksubscription",)),
    ("DELETE", r"^/api/v1/webhooks/\d+/(?:\?force=true)?$", ("events.delete_webhooksubscription",)),
    (
        "DELETE",
        r"^/api/v1/(categories|products|skus|warehouses)/\d+/\?force=true$",
        ("{app}.delete_{model}", "{app}.purge_{model}"),
    ),
    ("GET", r"^/api/v1/categories/", ("catalog.view_category",)),
    ("GET", r"^/api/v1/products/", ("catalog.view_product",)),
    ("GET", r"^/api/v1/skus/", ("catalog.view_sku",)),
    ("GET", r"^/api/v1/warehouses/", ("stock.view_warehouse",)),
    ("GET", r"^/api/v1/stock/levels/", ("stock.view_stocklevel",)),
    ("GET", r"^/api/v1/stock/movements/", ("stock.view_stockmovement",)),
    ("GET", r"^/api/v1/stock/reservations/", ("stock.view_reservation",)),
    ("GET", r"^/api/v1/stock/inbound/", ("stock.view_inboundshipment",)),
    ("POST", r"^/api/v1/stock/inbound/$", ("stock.add_inboundshipment",)),
    ("PUT|PATCH", r"^/api/v1/stock/inbound/\d+/$", ("stock.change_inboundshipment",)),
    ("POST", r"^/api/v1/stock/inbound/\d+/(?:open|cancel)/$", ("stock.change_inboundshipment",)),
    ("POST", r"^/api/v1/stock/inbound/\d+/receive/$", ("stock.receive_inboundshipment",)),
    ("GET", r"^/api/v1/stock/reorder-suggestions/", ("stock.view_stocklevel",)),
    ("POST", r"^/api/v1/stock/reorder-suggestions/create-drafts/$", ("stock.add_inboundshipment",)),
    ("POST", r"^/api/v1/stock/adjustments/", ("stock.adjust_stock",)),
    ("POST", r"^/api/v1/stock/transfers/", ("stock.transfer_stock",)),
    ("POST", r"^/api/v1/stock/state-moves/", ("stock.move_stock_state",)),  # stock-depth.md: state moves
    ("POST", r"^/api/v1/stock/reservations/$", ("stock.add_reservation",)),
    ("POST", r"^/api/v1/stock/reservations/\d+/commit/$", ("stock.commit_reservation",)),
    ("POST", r"^/api/v1/stock/reservations/\d+/release/$", ("stock.release_reservation",)),
    ("PUT|PATCH", r"^/api/v1/stock/levels/\d+/$", ("stock.change_stocklevel",)),
    (
        "POST",
        r"^/api/v1/(categories|products|skus|warehouses)/\d+/restore/$",
        ("{app}.change_{model}|{app}.delete_{model}",),
    ),
    ("POST", r"^/api/v1/categories/\d+/move/$", ("catalog.change_category",)),
    ("POST", r"^/api/v1/(categories|products|skus|warehouses)/$", ("{app}.add_{model}",)),
    ("PUT|PATCH", r"^/api/v1/(categories|products|skus|warehouses)/\d+/$", ("{app}.change_{model}",)),
    ("DELETE", r"^/api/v1/(categories|products|skus|warehouses)/\d+/$", ("{app}.delete_{model}",)),
]
MODELS = {
    "categories": ("catalog", "category"),
    "products": ("catalog", "product"),
    "skus": ("catalog", "sku"),
    "warehouses": ("stock", "warehouse"),
}


def required(method: str, path: str) -> tuple[str, ...] | None:
    for methods, pattern, perms in RULES:
        match = re.search(pattern, path)
        if method in methods.split("|") and match:
            app, model = MODELS.get(match.group(1), ("", "")) if match.groups() else ("", "")
            return tuple(p.format(app=app, model=model) for p in perms)
    return None


def role_may(role: str, perms: tuple[str, ...]) -> bool | None:
    """True/False by the spec, None when the spec leaves it open."""
    spec = SPEC_ROLES[role]
    if spec["has"] == ALL:
        return True
    verdict = True
    for perm in perms:
        options = perm.split("|")
        if any(o in spec["has"] for o in options):
            continue
        if any(o in spec.get("either", ()) for o in options):
            verdict = None
            continue
        return False
    return verdict


def requests_to_check(w):
    """(method, path, body) for every method of every API route, plus hard deletes."""
    out = []
    for route in api_routes():
        path = route.path(**url_kwargs(route, w))
        for method in route.methods:
            make = base_body_for(method, path, w)
            body = make(9000 + len(out)) if make else ({} if method in ("POST", "PUT", "PATCH") else None)
            out.append((method, path, body))
            if method == "DELETE":
                out.append((method, path + "?force=true", None))
    return out


def send(client, method, path, body):
    """One request inside a savepoint that is rolled back: every check sees the same data."""
    sid = transaction.savepoint()
    try:
        data = json.dumps(body) if body is not None else None
        return client.generic(method, path, data or "", content_type="application/json")
    finally:
        transaction.savepoint_rollback(sid)


@pytest.fixture
def world(settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 0
    allow_local_webhooks(settings)
    return build_world()


def test_every_route_has_a_rule_in_the_spec_table(world):
    """A new endpoint must be added to RULES (and so to this matrix) to pass."""
    missing = [f"{m} {p}" for m, p, _ in requests_to_check(world) if required(m, p) is None]
    assert not missing, f"routes without a permission rule here: {missing}"


def test_anonymous_gets_401_everywhere(world, anon):
    failures = []
    for method, path, body in requests_to_check(world):
        response = send(anon, method, path, body)
        COUNTS["checks"] += 1
        if (
            response.status_code != 401
            or response.json().get("code") != "not_authenticated"
            or "WWW-Authenticate" not in response
        ):
            failures.append(f"{method} {path}: {response.status_code} {response.content[:100]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "header", ["Token", "Token ", "Token a b", "Bearer abc", "Token " + "0" * 40, "Basic Zm9vOmJhcg=="]
)
def test_bad_credentials_get_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    for method, path in (("GET", "/api/v1/skus/"), ("POST", "/api/v1/stock/adjustments/")):
        response = send(client, method, path, {})
        COUNTS["checks"] += 1
        assert response.status_code == 401, (header, method, response.content)
        assert response.json()["code"] == "not_authenticated"


def test_inactive_users_token_gets_401(world):
    user = UserFactory(is_superuser=True, is_active=False)
    response = send(token_client(user), "GET", "/api/v1/skus/", None)
    assert response.status_code == 401


def test_user_without_permissions_gets_403_everywhere(world):
    client = token_client(UserFactory(username="nobody"))
    failures = []
    for method, path, body in requests_to_check(world):
        response = send(client, method, path, body)
        COUNTS["checks"] += 1
        if response.status_code != 403 or response.json().get("code") != "permission_denied":
            failures.append(f"{method} {path}: {response.status_code} {response.content[:100]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", list(SPEC_ROLES))
def test_role_gets_exactly_what_the_spec_allows(world, role):
    call_command("setup_roles", verbosity=0)
    user = UserFactory(username=f"role-{role}")
    user.groups.add(Group.objects.get(name=role))
    client = token_client(user)
    before = fingerprint()
    failures = []
    for method, path, body in requests_to_check(world):
        expected = role_may(role, required(method, path))
        response = send(client, method, path, body)
        COUNTS["checks"] += 1
        status = response.status_code
        if status >= 500 or status == 401:
            failures.append(f"{method} {path}: {status}")
        elif expected is True and status == 403:
            failures.append(f"{method} {path}: 403 but the spec allows {role}")
        elif expected is False and status != 403:
            failures.append(f"{method} {path}: {status} but the spec forbids it to {role}")
    assert fingerprint() == before
    assert not failures, f"{role}:\n" + "\n".join(failures)


def test_superuser_is_never_refused(world, api):
    for method, path, body in requests_to_check(world):
        response = send(api, method, path, body)
        COUNTS["checks"] += 1
        assert response.status_code not in (401, 403) and response.status_code < 500, (method, path, response.content)


# --- CSRF on session writes -------------------------------------------------------------


def session_client(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_session_writes_need_the_csrf_token(world):
    user = UserFactory(username="staff-session", is_superuser=True)
    client = session_client(user)
    before = fingerprint()
    failures = []
    for method, path, body in requests_to_check(world):
        if method == "GET":
            continue
        response = send(client, method, path, body)
        COUNTS["checks"] += 1
        if response.status_code != 403 or "CSRF" not in response.json().get("message", ""):
            failures.append(f"{method} {path}: {response.status_code} {response.content[:120]!r}")
    assert fingerprint() == before
    assert not failures, "session writes without a CSRF token went through:\n" + "\n".join(failures)


def test_session_write_with_csrf_token_and_token_auth_without_it(world):
    user = UserFactory(username="staff-csrf", is_superuser=True)
    client = session_client(user)
    assert client.get("/api/v1/skus/").status_code == 200  # reads need no token
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    body = {"code": "CSRF1", "name": "With token"}
    created = client.post("/api/v1/warehouses/", body, format="json", HTTP_X_CSRFTOKEN=secret)
    assert created.status_code == 201, created.content
    wrong = client.post("/api/v1/warehouses/", {**body, "code": "CSRF2"}, format="json", HTTP_X_CSRFTOKEN="b" * 32)
    assert wrong.status_code == 403
    # Token clients are not browsers: no CSRF for them, even with a session cookie present.
    api = token_client(user)
    api.cookies = client.cookies
    assert api.post("/api/v1/warehouses/", {**body, "code": "CSRF3"}, format="json").status_code == 201


def test_unknown_api_path_is_an_enveloped_404_for_any_method(world):
    client = session_client(UserFactory(username="staff-404", is_superuser=True))
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        response = client.generic(method, "/api/v1/skus/not-a-number/", "{}", content_type="application/json")
        assert response.status_code == 404, (method, response.content[:200])
        assert response.json()["code"] == "not_found"


# --- the admin -------------------------------------------------------------------------


def _admin_urls(patterns=None, prefix="admin:"):
    for pattern in patterns if patterns is not None else admin.site.get_urls():
        if isinstance(pattern, URLResolver):
            yield from _admin_urls(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name, tuple(pattern.pattern.regex.groupindex)


def admin_pages(w):
    """Every named admin URL with its arguments filled from the data set."""
    pages = []
    for name, kwargs in _admin_urls():
        if name in ("admin:logout", "admin:login", "admin:jsi18n", "admin:view_on_site", "admin:password_change_done"):
            continue
        values = {}
        for kwarg in kwargs:
            if kwarg == "app_label":
                values[kwarg] = "catalog"
            elif kwarg == "object_id" or kwarg.endswith("id") or kwarg == "pk":
                values[kwarg] = _object_for(name, w)
            else:
                values = None
                break
        if values is None:
            continue
        try:
            pages.append(reverse(name, kwargs=values))
        except Exception:
            continue
    return pages


def _object_for(url_name: str, w) -> int:
    for model_name, obj in (
        ("category", w.leaf),
        ("product", w.product),
        ("sku", w.sku),
        ("warehouse", w.west),
        ("stocklevel", w.level),
        ("reservation", w.reservation),
        ("user", None),
    ):
        if f"_{model_name}_" in url_name:
            return obj.pk if obj is not None else 1
    return 1


def test_admin_pages_refuse_anonymous_and_non_staff(world, client):
    pages = admin_pages(world)
    assert len(pages) > 20
    non_staff = UserFactory(username="customer", is_staff=False)
    staff_without_perms = UserFactory(username="staff-noperm", is_staff=True)
    failures = []
    for page in pages:
        client.logout()
        response = client.get(page)
        COUNTS["checks"] += 1
        if response.status_code != 302 or "/admin/login/" not in response["Location"]:
            failures.append(f"anonymous {page}: {response.status_code}")
        client.force_login(non_staff)
        response = client.get(page)
        COUNTS["checks"] += 1
        if response.status_code != 302 or "/admin/login/" not in response["Location"]:
            failures.append(f"non-staff {page}: {response.status_code}")
        client.force_login(staff_without_perms)
        response = client.get(page)
        COUNTS["checks"] += 1
        if page.rstrip("/") not in ("/admin", "/admin/password_change") and response.status_code not in (
            403,
            302,
            404,
            405,
        ):
            failures.append(f"staff without permissions {page}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_admin_post_refuses_non_staff(world, client):
    client.force_login(UserFactory(username="customer2", is_staff=False))
    before = fingerprint()
    response = client.post(reverse("admin:catalog_category_add"), {"name": "Sneaky"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert fingerprint() == before
