"""URL map: admin, the JSON API under /api/v1/, its schema and docs, /health/ and /metrics."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView

from inventory_site import errors, health, metrics
from inventory_site.api.docs import RedocView, SwaggerView

api_v1: list[URLPattern | URLResolver] = [
    path("", include("catalog.api.urls")),
    path("", include("stock.api.urls")),
    path("", include("events.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    re_path(r"^health/?$", health.health, name="health"),
    re_path(r"^health/live/?$", health.live, name="health-live"),
    re_path(r"^health/ready/?$", health.ready, name="health-ready"),
    re_path(r"^metrics/?$", metrics.metrics, name="metrics"),
    re_path(r"^api/", errors.api_not_found),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
