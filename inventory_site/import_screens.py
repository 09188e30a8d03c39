"""What every import screen of the admin adds to django-import-export's: CSV chosen from the
start on the import and the export form alike, a template to download (a CSV of the resource's header
row, ready to fill in), and a file bounded before anything reads it (its size as sent and, for a
workbook, as it expands)."""

import csv

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path, reverse

from inventory_site.mixin_bases import ImportExportAdminMixinBase
from inventory_site.spreadsheets import IMPORT_LIMITS, MB, SheetRefused, xlsx_expanded_size

CSV_FORMAT_INDEX = "0"  # every admin lists its formats CSV first
ZIP_MAGIC = b"PK\x03\x04"


def bounded_import_form(form_class: type[forms.Form]) -> type[forms.Form]:
    """The import form, refusing a file over `IMPORT_LIMITS` (size as sent, or a workbook's size
    once uncompressed) before any reader opens it; `expanded_size` is that size."""

    class BoundedImportForm(form_class):  # type: ignore[valid-type,misc]  # a subclass of the form given
        expanded_size: int | None = None

        def clean_import_file(self):
            upload = self.cleaned_data["import_file"]
            if upload.size > IMPORT_LIMITS.total_bytes:
                raise forms.ValidationError(
                    f"The file is larger than {IMPORT_LIMITS.total_bytes // MB} MB; {IMPORT_LIMITS.describe()}."
                )
            upload.seek(0)
            if upload.read(4) == ZIP_MAGIC:
                try:
                    self.expanded_size = xlsx_expanded_size(upload, IMPORT_LIMITS)
                except SheetRefused as exc:
                    raise forms.ValidationError(str(exc)) from None
            else:
                self.expanded_size = upload.size
            upload.seek(0)
            return upload

    BoundedImportForm.__name__ = BoundedImportForm.__qualname__ = form_class.__name__
    return BoundedImportForm


class ImportScreenMixin(ImportExportAdminMixinBase):
    """For an `ImportExportMixin` admin whose first format is CSV."""

    def get_import_form_initial(self, request):
        return {**super().get_import_form_initial(request), "format": CSV_FORMAT_INDEX}

    def get_import_form_class(self, request):
        return bounded_import_form(super().get_import_form_class(request))

    def add_data_read_fail_error_to_form(self, form, e):
        """A file over a limit says which, in words (django-import-export names the exception)."""
        if isinstance(e, SheetRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def get_export_form_class(self):
        """The export form with CSV chosen, as the import form has it (both list CSV first)."""
        form_class = super().get_export_form_class()

        class CSVFirstExportForm(form_class):  # type: ignore[valid-type,misc]  # of the form django-import-export uses
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.initial.setdefault("format", CSV_FORMAT_INDEX)

        return CSVFirstExportForm

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_import_template"
        return [
            path("import/template.csv", self.admin_site.admin_view(self.import_template_view), name=name),
            *super().get_urls(),
        ]

    def import_template_headers(self, request) -> list[str]:
        resource = self.get_import_resource_classes(request)[0](**self.get_import_resource_kwargs(request))
        return [field.column_name for field in resource.get_import_fields()]

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied(f"{self.opts.app_label}.add_{self.opts.model_name}")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.opts.model_name}-import-template.csv"'
        csv.writer(response).writerow(self.import_template_headers(request))
        return response

    def get_import_context_data(self, **kwargs):
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template")
        return {**super().get_import_context_data(**kwargs), "import_template_url": url}
