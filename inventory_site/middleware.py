"""Request id (taken from `X-Request-ID` when a proxy sets one, else made here), and Django's
session, authentication and messages middleware skipped for token-authenticated API requests."""

import codecs
import re
import uuid

from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.core.signals import request_finished
from django.dispatch import receiver

from inventory_site import errors
from inventory_site.logging import request_id_var
from inventory_site.mixin_bases import MiddlewareMixinBase

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


def declared_charset_is_utf8(request) -> bool:
    """No charset declared on the body, or one that names UTF-8 (`utf-8`, `UTF8`, `utf_8`)."""
    charset = request.content_params.get("charset") if getattr(request, "content_params", None) else None
    if charset is None:
        return True
    try:
        return codecs.lookup(charset.strip().strip('"')).name == "utf-8"
    except (LookupError, ValueError):  # an unknown name, or one with a NUL in it
        return False


class Utf8BodyMiddleware:
    """A body declared in any charset but UTF-8 is refused before anything reads it: `415` in
    the envelope under /api/, a `400` page elsewhere (the admin's forms are UTF-8).

    Django decodes a form with the declared codec; a non-text codec (rot13, base64, zlib,
    punycode) or a wrong one raised from `request.POST` inside the CSRF check, and again in
    the error pages that run that check (Django's own handlers are `requires_csrf_token`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS") or declared_charset_is_utf8(request):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return errors.unsupported_charset(request)
        return errors.bad_request(request)


def is_token_api_request(request) -> bool:
    """`/api/...` with `Authorization: Token ...`: DRF authenticates it by the token alone.

    TokenAuthentication comes first and either finds the user or answers 401, so the
    session (and with it `AuthenticationMiddleware`'s lazy user and the messages) is
    never read; DRF sets `request.user` itself.
    """
    return request.path_info.startswith("/api/") and request.META.get("HTTP_AUTHORIZATION", "")[:6].lower() == "token "


class _BrowserOnly(MiddlewareMixinBase):
    """Runs the wrapped Django middleware for every request but token API requests, for
    which it would only cost CPU (a session store, a lazy user, a message store)."""

    def __call__(self, request):
        if is_token_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_BrowserOnly, sessions_middleware.SessionMiddleware):
    """Django's, skipped for token API requests."""


class AuthenticationMiddleware(_BrowserOnly, auth_middleware.AuthenticationMiddleware):
    """Django's, skipped for token API requests."""


class MessageMiddleware(_BrowserOnly, messages_middleware.MessageMiddleware):
    """Django's, skipped for token API requests."""
