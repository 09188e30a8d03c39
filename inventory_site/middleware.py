"""Request id: taken from `X-Request-ID` when a proxy sets one, else made here."""
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

from inventory_site.logging import request_id_var

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Tags the request, its log lines and its response with one request id.

    The id stays set until the response is finished, not just until this middleware
    returns: Django logs each 4xx/5xx (`django.request`) after the middleware chain.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished, dispatch_uid="inventory_site.clear_request_id")
def clear_request_id(**kwargs) -> None:
    """Lines logged between requests (worker start, shutdown) carry no stale id."""
    request_id_var.set("-")
