"""Django model permissions for every API request, reads included."""

from rest_framework import permissions

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def is_force_delete(request) -> bool:
    return request.method == "DELETE" and request.query_params.get("force", "").lower() == "true"


class ModelActionPermissions(permissions.BasePermission):
    """Needs an authenticated user holding the permissions of the request.

    By default a method maps to the model's `view_`/`add_`/`change_`/`delete_` permission.
    A view names other permissions per action in `action_permissions`
    (`{"restore": ["change"], "commit": ["stock.commit_reservation"]}`: a bare word is
    `<app>.<word>_<model>`), or for all its actions in `required_permissions`.
    A hard delete (`?force=true`) also needs superuser or `<app>.purge_<model>`.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        return user.has_perms(self.required_permissions(request, view))

    def required_permissions(self, request, view) -> list[str]:
        explicit = getattr(view, "required_permissions", None)
        if explicit is not None:
            return list(explicit)
        model = view.get_queryset().model
        action = getattr(view, "action", None)
        words = getattr(view, "action_permissions", {}).get(action)
        if words is None:
            words = [METHOD_ACTIONS.get(request.method, "change")]
            if is_force_delete(request):
                words = ["delete", "purge"]
        return [self._full_name(word, model) for word in words]

    @staticmethod
    def _full_name(word: str, model) -> str:
        if "." in word:
            return word
        return f"{model._meta.app_label}.{word}_{model._meta.model_name}"
