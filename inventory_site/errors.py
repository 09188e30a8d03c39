"""Error pages: the envelope under /api/, Django's pages elsewhere."""
from django.http import JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt

from inventory_site.api.envelope import error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


# Exempt from CSRF: it writes nothing, and a POST to an unknown API path must be the
# enveloped 404, not Django's HTML CSRF page.
@csrf_exempt
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


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error("validation_error", "Bad request."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(error("permission_denied", "You do not have permission to perform this action."), status=403)
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """`CSRF_FAILURE_VIEW`: a session write without a valid CSRF token."""
    if _is_api(request):
        return JsonResponse(error("permission_denied", f"CSRF Failed: {reason}"), status=403)
    return csrf.csrf_failure(request, reason=reason)
