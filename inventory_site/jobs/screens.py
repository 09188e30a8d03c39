"""The admin's import and export screens, with the files too large for a request handed to the
worker: an upload over `ADMIN_SYNC_IMPORT_BYTES` once uncompressed is streamed to storage and
becomes an `AdminJob` unread (the worker counts and checks its rows), as does a smaller one over
`ADMIN_SYNC_IMPORT_ROWS` rows, and an export of more rows; the user is sent to the job's page.
Below that nothing changes (django-import-export's own flow)."""

from django.conf import settings
from django.contrib import messages
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from inventory_site.jobs.models import AdminJob
from inventory_site.jobs.queue import send
from inventory_site.jobs.runner import dataset_from_bytes, export_rows_count, finish
from inventory_site.mixin_bases import ImportExportAdminMixinBase

QUEUE_DOWN = (
    "The background queue could not be reached, so the {kind} was not started and nothing was "
    "written. Try again in a few minutes."
)


def job_url(job: AdminJob) -> str:
    return reverse("admin:inventory_site_adminjob_change", args=[job.pk])


def queue(job: AdminJob) -> None:
    """Send the job to the worker once it is committed; a broker that cannot be reached fails the job."""

    def send_or_fail():
        if not send(job.pk):
            finish(job, AdminJob.Status.FAILED, QUEUE_DOWN.format(kind=job.kind))

    transaction.on_commit(send_or_fail)


def queued_response(model_admin, request, job: AdminJob, what: str):
    if job.status == AdminJob.Status.FAILED:
        model_admin.message_user(request, job.summary, messages.ERROR)
    else:
        rows = f" ({job.rows_total} rows)" if job.rows_total is not None else ""
        model_admin.message_user(
            request,
            format_html(
                'The {}{} is queued and runs in the background: <a href="{}">follow its progress</a>.',
                what,
                rows,
                job_url(job),
            ),
            messages.SUCCESS,
        )
    return HttpResponseRedirect(job_url(job))


class BackgroundImportMixin(ImportExportAdminMixinBase):
    """For an `ImportMixin` admin: an upload of more than `ADMIN_SYNC_IMPORT_ROWS` rows is
    checked and imported (all or nothing) by the worker instead of the preview and confirm."""

    def import_action(self, request, **kwargs):
        if request.method == "POST" and self.has_import_permission(request):
            form = self.create_import_form(request)
            if form.is_valid():
                job = self.import_job(request, form)
                if job is not None:
                    return queued_response(self, request, job, f"import of {job.file_name}")
        return super().import_action(request, **kwargs)

    def import_job(self, request, form) -> AdminJob | None:
        """The queued job, or None when the file is small enough (or unreadable: the request
        path says why). A file too large to read in the request is not read here at all."""
        input_format = self.get_import_formats()[int(form.cleaned_data["format"])](encoding=self.from_encoding)
        upload = form.cleaned_data["import_file"]
        rows = None
        if (getattr(form, "expanded_size", None) or upload.size) <= settings.ADMIN_SYNC_IMPORT_BYTES:
            raw = b"".join(upload.chunks())
            try:
                rows = len(dataset_from_bytes(raw, input_format, self.from_encoding))
            except Exception:
                return None
            if rows <= settings.ADMIN_SYNC_IMPORT_ROWS:
                return None
            upload = ContentFile(raw, name=upload.name)
        job = AdminJob(
            kind=AdminJob.Kind.IMPORT,
            model_label=self.opts.label_lower,
            file_format=input_format.get_title(),
            params={"format": form.cleaned_data["format"], "resource": form.cleaned_data.get("resource") or "0"},
            file_name=upload.name,
            user=request.user,
            rows_total=rows,
        )
        upload.seek(0)
        job.file.save(upload.name, upload)  # streamed in chunks from the upload's own temporary file
        queue(job)
        return job


class BackgroundExportMixin(ImportExportAdminMixinBase):
    """For an `ExportMixin` admin: an export of more than `ADMIN_SYNC_IMPORT_ROWS` rows is
    written by the worker; its page offers the file when it is ready."""

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # django-import-export's one seam between the validated export form and the file.
        if export_form is not None and request.method == "POST":
            kwargs = {"export_form": export_form}
            resource = self.choose_export_resource_class(export_form, request)(
                **self.get_export_resource_kwargs(request, **kwargs)
            )
            rows = export_rows_count(resource, queryset)
            if rows > settings.ADMIN_SYNC_IMPORT_ROWS:
                job = self.export_job(request, export_form, file_format, rows)
                return queued_response(self, request, job, "export")
        return super()._do_file_export(file_format, request, queryset, export_form=export_form)

    def export_job(self, request, form, file_format, rows: int) -> AdminJob:
        params = {
            "query": request.GET.urlencode(),  # the change list's filters and search
            "post": {
                key: request.POST.getlist(key)
                for key in request.POST
                if key not in ("csrfmiddlewaretoken", "export_items")
            },
        }
        if "export_items" in form.changed_data:
            params["export_items"] = [str(pk) for pk in form.cleaned_data["export_items"]]
        job = AdminJob.objects.create(
            kind=AdminJob.Kind.EXPORT,
            model_label=self.opts.label_lower,
            file_format=file_format.get_title(),
            params=params,
            user=request.user,
            rows_total=rows,
        )
        queue(job)
        return job


class BackgroundImportExportMixin(BackgroundImportMixin, BackgroundExportMixin):
    """Both, for an `ImportExportMixin` admin (list it before that mixin)."""
