"""Error pages: the envelope under /api/, Django's pages elsewhere."""

import re
import sys

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt

from inventory_site.api.envelope import error
from inventory_site.exceptions import is_timed_out


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
    return defaults.page_not_found.__wrapped__(request, exception)  # type: ignore[attr-defined]  # the view under its decorator


# Django's own 400 and 500 views are `requires_csrf_token`: they run the CSRF check, which
# reads the form again, and raise again when the form is what failed (a charset that cannot
# decode it). Their undecorated bodies (`__wrapped__`) render the same pages without reading it.
def server_error(request):
    if is_timed_out(sys.exc_info()[1]):  # ended by the worker's time limit
        if _is_api(request):
            return JsonResponse(error("service_unavailable", "The request took too long and was stopped."), status=503)
        return HttpResponse("<h1>The request took too long and was stopped.</h1>", status=503)
    if _is_api(request):
        return JsonResponse(error("server_error", "Internal server error."), status=500)
    return defaults.server_error.__wrapped__(request)  # type: ignore[attr-defined]  # the view under its decorator


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error("validation_error", "Bad request."), status=400)
    return defaults.bad_request.__wrapped__(request, exception)  # type: ignore[attr-defined]  # the view under its decorator


def unsupported_charset(request):
    """A JSON body declared in another charset than UTF-8 (JSON is UTF-8, RFC 8259)."""
    return JsonResponse(
        error("unsupported_media_type", "Send the body as UTF-8 JSON: the declared charset is not UTF-8."), status=415
    )


# An admin URL name is "<app>_<model>_<view>"; the view tells which model permission it needs.
_ADMIN_VIEW_ACTIONS = {"add": "add", "change": "change", "delete": "delete", "changelist": "view", "history": "view"}
_PERMISSION_CODE = re.compile(r"^(?P<app>[a-z_]+)\.(?P<codename>[a-z_]+)$")


def missing_permission(request, exception=None) -> str | None:
    """The permission a refused page needed, in words: 'Can adjust stock (stock.adjust_stock)'.

    A view may name it (`PermissionDenied("stock.adjust_stock")`); otherwise it is read from
    the admin URL that was refused.
    """
    code = str(exception) if exception is not None and exception.args else ""
    if not _PERMISSION_CODE.match(code):
        match = getattr(request, "resolver_match", None)
        code = ""
        if match is not None and match.namespace == "admin" and match.url_name:
            app_label, _, rest = match.url_name.partition("_")
            model_name, _, view = rest.rpartition("_")
            if view in _ADMIN_VIEW_ACTIONS and apps.is_installed(app_label):
                try:
                    model = apps.get_model(app_label, model_name)
                except LookupError:
                    model = None
                if model is not None:
                    code = f"{app_label}.{_ADMIN_VIEW_ACTIONS[view]}_{model._meta.model_name}"
    found = _PERMISSION_CODE.match(code)
    if not found:
        return None
    name = (
        Permission.objects.filter(content_type__app_label=found["app"], codename=found["codename"])
        .values_list("name", flat=True)
        .first()
    )
    return f"{name} ({code})" if name else code


def who_can_grant(code: str | None) -> dict:
    """The groups that hold the permission `code` and the people who may give it (active staff
    who manage logins: superusers or holders of `auth.change_user`), for the 403 page."""
    found = _PERMISSION_CODE.match(code or "")
    if not found:
        return {"groups": [], "granters": []}
    permission = Permission.objects.filter(content_type__app_label=found["app"], codename=found["codename"]).first()
    groups = (
        list(Group.objects.filter(permissions=permission).order_by("name").values_list("name", flat=True))
        if permission
        else []
    )
    managers = (
        Q(is_superuser=True)
        | Q(user_permissions__codename="change_user")
        | Q(groups__permissions__codename="change_user")
    )
    granters = list(
        get_user_model().objects.filter(managers, is_active=True, is_staff=True).distinct().order_by("username")[:5]
    )
    return {"groups": groups, "granters": granters}


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error("permission_denied", "You do not have permission to perform this action."), status=403
        )
    missing = missing_permission(request, exception)
    code = missing.rsplit("(", 1)[-1].rstrip(")") if missing else None
    context = {"missing_permission": missing, "title": "Permission needed", **who_can_grant(code)}
    if request.path.startswith("/admin/") and getattr(request, "user", None) is not None and request.user.is_staff:
        context = {**admin.site.each_context(request), **context}
    return TemplateResponse(request, "403.html", context, status=403)


def csrf_failure(request, reason=""):
    """`CSRF_FAILURE_VIEW`: a session write without a valid CSRF token."""
    if _is_api(request):
        return JsonResponse(error("permission_denied", f"CSRF Failed: {reason}"), status=403)
    return csrf.csrf_failure(request, reason=reason)
