"""Type aliases shared by the apps' services (for mypy; nothing here runs)."""

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec, _ListFilterT
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

# Who performs a write, as the entry points hand it over: `request.user` (possibly anonymous), a
# command's or an admin action's user, or None for the system. Services record it only when
# authenticated.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"

# An admin's `fieldsets` and `list_filter`, as django-stubs spells them: declared on an admin that
# another extends, so that the longer tuples of the extending admin still match.
AdminFieldsets: TypeAlias = "_FieldsetSpec"
AdminListFilters: TypeAlias = "tuple[_ListFilterT, ...]"
