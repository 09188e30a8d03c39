"""The API conventions that hold for every endpoint: health, 404s, schema and docs."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_health_reports_database_ok(client):
    for path in ("/health/", "/health"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "healthy", "database": "ok"}


@pytest.mark.django_db
def test_health_reports_unhealthy_when_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


@pytest.mark.django_db
def test_unknown_api_path_is_enveloped_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "data": None,
        "message": "Not found.",
        "code": "not_found",
        "errors": None,
    }


@pytest.mark.django_db
def test_schema_needs_no_login(anon):
    response = anon.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_load_only_local_assets(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "fonts.googleapis" not in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_token_api_requests_skip_sessions_and_messages_browser_requests_keep_them(api, client, superuser):
    response = api.get("/api/v1/warehouses/")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session") and not hasattr(response.wsgi_request, "_messages")
    assert response.wsgi_request.user == superuser  # set by DRF from the token
    client.force_login(superuser)
    page = client.get("/admin/")
    assert page.status_code == 200 and page.wsgi_request.session.session_key and page.wsgi_request.user == superuser


@pytest.mark.django_db
def test_bad_token_is_refused_without_a_session(api):
    api.credentials(HTTP_AUTHORIZATION="Token nope")
    response = api.get("/api/v1/warehouses/")
    assert response.status_code == 401 and response.json()["code"] in {"authentication_failed", "not_authenticated"}
