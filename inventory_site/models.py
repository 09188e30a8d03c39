"""Abstract model mixins shared by the catalog and stock apps: timestamps, version, soft delete;
and the platform's one concrete model, `AdminJob` (the admin's background imports and exports)."""

from typing import Any, Self, TypeVar

from django.db import models
from django.utils import timezone

from inventory_site.exceptions import PreconditionFailed, VersionConflict

_M = TypeVar("_M", bound=models.Model)


class TimeStampedModel(models.Model):
    """`created_at` and `updated_at`, set by Django."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class VersionedModel(models.Model):
    """A `version` that starts at 1 and grows by 1 on every change (optimistic locking).

    Writers lock the row with `lock_for_write()`, which checks the version the client
    read (compare-and-set) and raises instead of overwriting a newer change; then they
    call `save()`, which bumps the version. Only one of two writers holding the same
    version can pass the check, because the second waits on the row lock and then sees
    the first one's version.
    """

    version = models.PositiveIntegerField(default=1, editable=False, help_text="Grows by 1 on every change.")
    # Set by writers before `save()` (django-simple-history reads it for the author of the
    # history row); only declared here, for the type checker.
    _history_user: Any

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A plain increment is safe because every writer holds the row lock
        # (`lock_for_write`); an F() expression would break django-simple-history,
        # which copies field values into its own INSERT.
        if not self._state.adding:
            self.version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", *self._auto_update_fields()}
        super().save(*args, **kwargs)

    def _auto_update_fields(self) -> set[str]:
        return {"updated_at"} if any(f.name == "updated_at" for f in self._meta.concrete_fields) else set()

    @classmethod
    def lock_for_write(
        cls,
        pk: int,
        *,
        expected_version: int | None = None,
        if_match: int | None = None,
        queryset: models.QuerySet[Any] | None = None,
    ) -> Self:
        """Return the row locked `FOR UPDATE`, after checking the caller's version.

        Raises `DoesNotExist` when the row is gone, `VersionConflict` when the body's
        version is stale and `PreconditionFailed` when the `If-Match` version is.
        """
        qs = queryset if queryset is not None else cls._base_manager.all()
        obj = qs.select_for_update().get(pk=pk)
        if if_match is not None and if_match != obj.version:
            raise PreconditionFailed(obj.version)
        if expected_version is not None and expected_version != obj.version:
            raise VersionConflict(obj.version)
        return obj


class SoftDeleteQuerySet(models.QuerySet[_M]):
    """Queries that know about soft-deleted rows."""

    def active(self) -> Self:
        return self.filter(is_deleted=False)

    def deleted(self) -> Self:
        return self.filter(is_deleted=True)


AllObjectsManager = models.Manager.from_queryset(SoftDeleteQuerySet)


class ActiveManager(AllObjectsManager[_M]):
    """Hides soft-deleted rows."""

    def get_queryset(self) -> models.QuerySet[_M]:
        return super().get_queryset().filter(is_deleted=False)


class SoftDeleteModel(models.Model):
    """`is_deleted` and `deleted_at`. `objects` hides deleted rows, `all_objects` shows them."""

    # No index of its own: a flag this unselective is served by each model's composite indexes.
    is_deleted = models.BooleanField(default=False, help_text="Hidden from lists; can be restored.")
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ActiveManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True

    def mark_deleted(self) -> None:
        """Set the soft-delete flags on this instance; the caller saves."""
        self.is_deleted = True
        self.deleted_at = timezone.now()

    def mark_restored(self) -> None:
        """Clear the soft-delete flags on this instance; the caller saves."""
        self.is_deleted = False
        self.deleted_at = None


from inventory_site.jobs.models import AdminJob  # noqa: E402,F401  (the model of this app)
