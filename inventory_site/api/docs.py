"""Swagger UI and ReDoc from the bundled assets (drf-spectacular-sidecar), with a
Content-Security-Policy that keeps the browser on this server: ReDoc's sidebar always
shows Redocly's logo from their CDN, which the policy refuses to load."""

from typing import TYPE_CHECKING

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.views import APIView

if TYPE_CHECKING:
    _ViewBase = APIView
else:
    _ViewBase = object

DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the pages start the UI from an inline script
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc's search runs in a worker
        "connect-src 'self'",
    ]
)


class OfflineDocsMixin(_ViewBase):
    """Sends `DOCS_CSP` with the page."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(OfflineDocsMixin, SpectacularSwaggerView):
    """Swagger UI on the schema, offline."""


class RedocView(OfflineDocsMixin, SpectacularRedocView):
    """ReDoc on the schema, offline."""
