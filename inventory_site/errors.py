"""Error pages: the envelope under /api/, Django's pages elsewhere."""
from django.http import JsonResponse
from django.views import defaults

from inventory_site.api.envelope import error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request, *args, **kwargs):
    """Any path under /api/ that matches no endpoint."""
    return JsonResponse(error("not_found", "Not found."), status=404)


def not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error("server_error", "Internal server error."), status=500)
    return defaults.server_error(request)
