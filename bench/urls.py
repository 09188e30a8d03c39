"""The product's URLs plus the baseline endpoint `/api/v1/bench/floor/` (bench only)."""

from django.urls import path

from bench.baseline_app import FloorView
from inventory_site import urls as site_urls

FLOOR_PATH = "/api/v1/bench/floor/"

# Before the product's routes: they end with a catch-all 404 for /api/.
urlpatterns = [path(FLOOR_PATH.lstrip("/"), FloorView.as_view(), name="bench-floor"), *site_urls.urlpatterns]

handler404 = site_urls.handler404
handler500 = site_urls.handler500
