"""Shared fixtures: API clients for users with exactly the permissions a test names."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached values must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


def grant(user, *perms: str):
    """Give `user` the permissions named `app_label.codename`."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    # Django caches permissions on the instance.
    for attr in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)
    return user


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True)


@pytest.fixture
def api(superuser) -> APIClient:
    """A client authenticated by token as a superuser."""
    return token_client(superuser)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_with_perms(db):
    """`client_with_perms("catalog.view_sku", ...)`: a token client holding only those permissions."""

    def make(*perms: str, username: str | None = None) -> APIClient:
        user = UserFactory(username=username) if username else UserFactory()
        return token_client(grant(user, *perms))

    return make
