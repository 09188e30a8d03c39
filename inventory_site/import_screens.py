"""What every import screen of the admin adds to django-import-export's: CSV chosen from the
start on the import and the export form alike, and a template to download (a CSV of the resource's header row, ready to fill in)."""
import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path, reverse

CSV_FORMAT_INDEX = "0"  # every admin lists its formats CSV first


class ImportScreenMixin:
    """For an `ImportExportMixin` admin whose first format is CSV."""

    def get_import_form_initial(self, request):
        return {**super().get_import_form_initial(request), "format": CSV_FORMAT_INDEX}

    def get_export_form_class(self):
        """The export form with CSV chosen, as the import form has it (both list CSV first)."""
        form_class = super().get_export_form_class()

        class CSVFirstExportForm(form_class):
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
