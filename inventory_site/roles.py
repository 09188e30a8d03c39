"""The staff roles: Django groups and the permissions each one holds.

`setup_roles` creates or updates the groups from `ROLES`. The admin and the API
both check Django model permissions, so a role means the same thing in both.
In this project `delete_<model>` is a soft delete (restorable); `purge_<model>`
allows the permanent delete.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

CATALOG_MODELS = ("category", "product", "sku")
STOCK_MODELS = ("warehouse", "stocklevel", "stockmovement", "reservation", "reservationline", "inboundshipment")


def _perms(app_label: str, actions: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    return [f"{app_label}.{action}_{model}" for action in actions for model in models]


CATALOG_VIEW = _perms("catalog", ("view",), CATALOG_MODELS)
STOCK_VIEW = _perms("stock", ("view",), STOCK_MODELS)
# Integrations read the event feed and manage their own webhook subscriptions
# (ping, rotate-secret and redeliver need `change`, the delivery log `view`).
EVENTS_INTEGRATION = [
    "events.view_event",
    *_perms("events", ("add", "change", "view", "delete"), ("webhooksubscription",)),
]

# Group name -> permission names (`app_label.codename`); "*" means every permission of the app.
ROLES: dict[str, list[str]] = {
    "Merchandiser": [
        *_perms("catalog", ("add", "change", "view", "delete"), CATALOG_MODELS),
        *STOCK_VIEW,
    ],
    "Stock clerk": [
        *CATALOG_VIEW,
        *STOCK_VIEW,
        "stock.change_stocklevel",  # the low-stock threshold, safety stock and reorder settings
        "stock.adjust_stock",
        "stock.transfer_stock",
        "stock.add_inboundshipment",  # drafts, by hand or from reorder suggestions
        "stock.change_inboundshipment",  # edit drafts, open, cancel
        "stock.receive_inboundshipment",
        "stock.move_stock_state",
    ],
    "Integration": [
        *CATALOG_VIEW,
        *STOCK_VIEW,
        "stock.add_reservation",
        "stock.commit_reservation",
        "stock.release_reservation",
        *EVENTS_INTEGRATION,
    ],
    "Inventory manager": ["catalog.*", "stock.*", "events.*"],
}


def role_permissions(names: list[str]) -> list[Permission]:
    """Resolve `app_label.codename` names (or `app_label.*`) to permissions; unknown names raise."""
    query = Q(pk__in=[])
    wanted = set()
    for name in names:
        app_label, codename = name.split(".", 1)
        if codename == "*":
            query |= Q(content_type__app_label=app_label)
        else:
            query |= Q(content_type__app_label=app_label, codename=codename)
            wanted.add(name)
    perms = list(Permission.objects.filter(query).select_related("content_type"))
    found = {f"{p.content_type.app_label}.{p.codename}" for p in perms}
    missing = wanted - found
    if missing:
        raise LookupError(f"Unknown permissions: {', '.join(sorted(missing))}")
    return perms


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create the role groups, or reset their permissions to `ROLES`. Idempotent.

    Returns the number of permissions per group.
    """
    counts = {}
    for group_name, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = role_permissions(names)
        group.permissions.set(perms)
        counts[group_name] = len(perms)
    return counts
