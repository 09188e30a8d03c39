"""The admin site's look and the pieces every app's admin shares.

The site header says "Inventory" and the index (templates/admin/index.html) shows the
low-stock panel. The shared pieces keep the admin thin: change forms carry the row's
version and refuse stale saves, soft-deleted rows are hidden by a default filter, and
soft delete / restore are actions that call the app's services.
"""

import os
import tempfile

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from inventory_site.exceptions import DomainError, VersionConflict
from inventory_site.mixin_bases import ModelAdminMixinBase
from inventory_site.refusals import refusal_text

admin.site.site_header = "Inventory"
admin.site.site_title = "Inventory admin"
admin.site.index_title = "What needs attention"

SOFT_DELETE_LISTED = 50  # rows named on the soft delete's confirmation page
STALE_SAVE_MESSAGE = (
    "This {name} was changed by someone else since you opened it (now version {version}). "
    "Nothing was saved: reload the page to see their changes, then make yours again."
)


def object_id(value: str | None) -> int | None:
    """The id in a query-string value, or None. Only ASCII digits of a size a bigint holds:
    `"²".isdigit()` is true and 20 digits overflow the query, and either would be a 500."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class VersionedAdminForm(forms.ModelForm):
    """Carries the version the user opened; refuses the save when the row has moved on.

    `clean()` locks the row (the admin runs the whole change view in one transaction)
    and compares versions, so the check and the write cannot interleave with another
    save; the service repeats the check with the same `expected_version`.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Set by `ServiceAdminMixin` when the service refused the save: shown as form errors.
    service_error: DomainError | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            version = self.instance.version
            if hasattr(self.instance, "_history"):
                # A revert form shows an old state; the save replaces the current version.
                version = self._meta.model._base_manager.values_list("version", flat=True).get(pk=self.instance.pk)
            self.fields["expected_version"].initial = version
            self.fields["expected_version"].required = True

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if self.service_error is not None:
            self._add_service_error(self.service_error)
        lockable = hasattr(self._meta.model, "lock_for_write") and self.instance.pk is not None
        if lockable and "expected_version" in cleaned and not self._is_deleting(cleaned):
            try:
                self._meta.model.lock_for_write(self.instance.pk, expected_version=cleaned["expected_version"])
            except VersionConflict as exc:
                raise ValidationError(self.stale_message(exc.current_version), code="version_conflict") from None
        return cleaned

    def _add_service_error(self, exc: DomainError) -> None:
        if isinstance(exc, VersionConflict):
            self.add_error(None, self.stale_message(exc.current_version))
            return
        placed = False
        for key, messages_ in (exc.errors or {}).items():
            field = key[:-3] if key.endswith("_id") and key[:-3] in self.fields else key
            if field in self.fields and field != "expected_version":
                texts = messages_ if isinstance(messages_, list) else [str(messages_)]
                self.add_error(field, [str(t) for t in texts])
                placed = True
        if not placed:
            self.add_error(None, refusal_text(exc))

    def _is_deleting(self, cleaned) -> bool:
        return bool(cleaned.get("DELETE"))

    def stale_message(self, current_version: int) -> str:
        name = self._meta.model._meta.verbose_name
        label = f"{name} {self.instance}" if self.instance.pk else name
        return STALE_SAVE_MESSAGE.format(name=label, version=current_version)


class DeletedListFilter(admin.SimpleListFilter):
    """Active rows by default; deleted ones or all on request."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("deleted", "Deleted"), ("all", "All")]

    def value(self):
        return super().value() or "active"

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "deleted":
            return queryset.filter(is_deleted=True)
        if self.value() == "all":
            return queryset
        return queryset.filter(is_deleted=False)


def run_service_per_row(modeladmin, request, queryset, service, verb: str, describe=refusal_text) -> None:
    """Call `service(user=..., obj)` for each selected row, each in its own transaction.

    A refused row (a `DomainError`) is reported, in the words of `describe(exc)`, and does
    not stop the others.
    """
    done, refused = 0, []
    for obj in queryset.order_by("pk"):
        try:
            with transaction.atomic():
                service(request.user, obj)
        except DomainError as exc:
            refused.append(f"{obj}: {describe(exc)}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{verb} {done} {modeladmin.opts.verbose_name_plural}.", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, f"Not {verb.lower()}: {line}", messages.ERROR)


class ServiceFormAdminMixin(ModelAdminMixinBase):
    """Change forms saved through a service: a refused save shows the form again with the error.

    An add form leaves out what only a stored row has: the fieldsets named in
    `change_only_fieldsets` (the record's version and timestamps) and `change_only_fields`.
    """

    change_only_fieldsets: tuple[str, ...] = ("Record",)
    change_only_fields: tuple[str, ...] = ()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        kept = []
        for name, options in fieldsets:
            if name in self.change_only_fieldsets:
                continue
            fields = [f for f in options.get("fields", ()) if f not in self.change_only_fields]
            kept.append((name, {**options, "fields": fields}))
        return kept

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            # A plain choice field: django-mptt's tree field would prefix "--- " to the category path.
            kwargs.setdefault("form_class", forms.ModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """On a refused save, roll back and show the same form again with the service's error."""
        return self._service_view(
            request,
            lambda: super(ServiceFormAdminMixin, self).changeform_view(request, object_id, form_url, extra_context),
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """A revert (django-simple-history) is a change like any other: one transaction, the
        update service, its refusals shown on the form."""
        return self._service_view(
            request,
            lambda: super(ServiceFormAdminMixin, self).history_form_view(  # type: ignore[misc]  # simple-history's admin (no stubs)
                request, object_id, version_id, extra_context
            ),
        )

    @staticmethod
    def _service_view(request, view):
        try:
            with transaction.atomic():
                return view()
        except DomainError as exc:
            if request.method != "POST" or getattr(request, "_service_error", None) is not None:
                raise
            request._service_error = exc
            with transaction.atomic():
                return view()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form
        return type(form.__name__, (form,), {"service_error": error})


class ServiceAdminMixin(ServiceFormAdminMixin):
    """Soft delete / restore actions and a hard delete that needs the purge permission.

    Subclasses name their services through `soft_delete_row`, `restore_row` and
    `hard_delete_row` (each `(user, obj)`).
    """

    actions = ["soft_delete_selected", "restore_selected"]

    def soft_delete_row(self, user, obj):  # pragma: no cover - overridden
        raise NotImplementedError

    def restore_row(self, user, obj):  # pragma: no cover - overridden
        raise NotImplementedError

    def hard_delete_row(self, user, obj):  # pragma: no cover - overridden
        raise NotImplementedError

    def has_soft_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    def has_restore_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        """The admin's own delete is permanent: it needs `purge_<model>`."""
        return request.user.has_perm(f"{self.opts.app_label}.purge_{self.opts.model_name}")

    @admin.action(description="Delete selected (soft, can be restored)", permissions=["soft_delete"])
    def soft_delete_selected(self, request, queryset):
        """Asks first, as Django's delete does (`post=yes` confirms), then deletes row by row."""
        rows = queryset.filter(is_deleted=False)
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Are you sure?",
                "rows": list(rows.order_by("pk")[:SOFT_DELETE_LISTED]),
                "count": rows.count(),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "listed": SOFT_DELETE_LISTED,
                "select_across": request.POST.get("select_across", "0"),
            }
            return TemplateResponse(request, "admin/soft_delete_confirmation.html", context)
        run_service_per_row(self, request, rows, self.soft_delete_row, "Deleted")
        return None

    @admin.action(description="Restore selected", permissions=["restore"])
    def restore_selected(self, request, queryset):
        run_service_per_row(self, request, queryset.filter(is_deleted=True), self.restore_row, "Restored")

    def get_list_display(self, request):
        """The `is_deleted` column only when deleted rows are listed."""
        columns = super().get_list_display(request)
        if request.GET.get(DeletedListFilter.parameter_name) in ("deleted", "all"):
            return columns
        return tuple(c for c in columns if c != "is_deleted")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if (delete_selected := actions.get("delete_selected")) is not None:
            func, name, _ = delete_selected
            actions["delete_selected"] = (func, name, "Purge selected (permanent)")
        return actions

    def delete_model(self, request, obj):
        try:
            self.hard_delete_row(request.user, obj)
        except DomainError as exc:
            # Raised inside the delete view's transaction: roll back and report.
            raise ValidationError(exc.message) from exc

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset.order_by("pk"):
            self.delete_model(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, f"Not purged: {' '.join(exc.messages)}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    # The stubs give every Django version 6.0's `action_location` argument here; Django 5.2 has none.
    def response_action(self, request, queryset):  # type: ignore[override]
        try:
            return super().response_action(request, queryset)
        except ValidationError as exc:
            self.message_user(request, f"Not purged: {' '.join(exc.messages)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def _is_kept_upload(name: str) -> bool:
    """Whether `name` is a file django-import-export's temporary storage wrote (a `tmp*`
    file directly in the temporary folder) and still holds."""
    folder = os.path.realpath(tempfile.gettempdir())
    path = os.path.realpath(os.path.join(folder, name)) if name else ""
    return os.path.dirname(path) == folder and os.path.basename(path).startswith("tmp") and os.path.isfile(path)


class ImportConfirmMixin(ModelAdminMixinBase):
    """The confirm step of an import names the file the preview kept; a made-up, expired or
    already imported name sends the user back to the upload with a message (not a 500)."""

    GONE_MESSAGE = "The file to import is gone (expired, already imported, or never uploaded); upload it again."

    def process_import(self, request, **kwargs):
        if request.method == "POST" and not _is_kept_upload(request.POST.get("import_file_name", "")):
            return self._upload_again(request)
        try:
            return super().process_import(request, **kwargs)  # type: ignore[misc]  # import-export's ImportMixin (no stubs)
        except FileNotFoundError:  # removed by a concurrent confirm of the same file
            return self._upload_again(request)

    def _upload_again(self, request):
        self.message_user(request, self.GONE_MESSAGE, messages.ERROR)
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import"))


class ReadOnlyAdminMixin(ModelAdminMixinBase):
    """An admin that shows rows and never adds, changes or deletes them (ledgers, logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
