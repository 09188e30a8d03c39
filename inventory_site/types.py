"""Type aliases shared by the apps' services (for mypy; nothing here runs)."""

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

# Who performs a write, as the entry points hand it over: `request.user` (possibly anonymous), a
# command's or an admin action's user, or None for the system. Services record it only when
# authenticated.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"
