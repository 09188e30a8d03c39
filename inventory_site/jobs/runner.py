"""What the worker does for a job: the model's admin (found in the admin registry) imports or
exports with its own resources and formats, as it would in the request.

An import runs its rows once, in one transaction that commits only when no row failed: the
dry run of the request path and its confirmed import are the same code (every row through
`save_instance` and the app's services), so one pass that keeps its writes only when all rows
are good gives the same result without the window between the two. The job's success is
written in that transaction, so a task run again (a worker killed before its ack) finds the
job finished and imports nothing twice.
"""

import io
import logging
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from import_export.formats.base_formats import BINARY_FORMATS
from import_export.signals import post_export, post_import

from inventory_site.jobs.models import AdminJob
from inventory_site.jobs.progress import ProgressWriter
from inventory_site.spreadsheets import SheetRefused

logger = logging.getLogger(__name__)

ROW_ERRORS_KEPT = 500  # a page of 50,000 bad rows helps nobody: the first ones, and a count


def model_admin_for(job: AdminJob):
    """The registered admin of the job's model (the apps fill the registry; this package names none)."""
    return admin.site.get_model_admin(apps.get_model(job.model_label))


def job_request(job: AdminJob) -> HttpRequest:
    """A request as the job's user made it: the admin's hooks (permissions, the changelist's
    filters and search of an export) read it as they read the real one."""
    request = HttpRequest()
    request.method = "GET"
    request.user = job.user
    request.GET = QueryDict(job.params.get("query", ""))
    return request


def posted_form_data(job: AdminJob) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in job.params.get("post", {}).items():
        data.setlist(key, values)
    return data


def tracked(resource_class, progress: ProgressWriter):
    """The resource class, reporting each row it imports or exports to `progress`."""

    class Tracked(resource_class):
        exported = 0

        def import_row(self, row, instance_loader, **kwargs):
            try:
                return super().import_row(row, instance_loader, **kwargs)
            finally:
                progress.advance(kwargs["row_number"])

        def export_resource(self, instance, selected_fields=None, **kwargs):
            values = super().export_resource(instance, selected_fields, **kwargs)
            self.exported += 1
            progress.advance(self.exported)
            return values

    Tracked.__name__ = Tracked.__qualname__ = resource_class.__name__
    # No preview to show: skip the copy of each row's instance and its HTML diff.
    Tracked._meta.skip_diff = True
    return Tracked


JOB_LOCK_NAMESPACE = 0x4A4F42  # "JOB": the first key of the two-key advisory locks of running jobs


@contextmanager
def running_alone(job_id: int):
    """Yield whether this worker alone runs the job. A message is delivered again when the
    broker thinks its worker lost (Redis: after the visibility timeout), possibly while the
    first run is still going: a session advisory lock lets only one run, and a worker that
    dies drops its lock with its connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_NAMESPACE, job_id])
        alone = cursor.fetchone()[0]
    try:
        yield alone
    finally:
        if alone:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_NAMESPACE, job_id])


WORKER_LOST = (
    "The worker stopped while running this {kind} ({attempts} times); nothing was written. "
    "{again} If it stops again, tell the administrator."
)
AGAIN: dict[str, str] = {AdminJob.Kind.IMPORT: "Upload the file again.", AdminJob.Kind.EXPORT: "Export again."}


def claim(job_id: int) -> AdminJob | None:
    """Mark the job running; None when it is finished already (a task delivered twice), or when
    it has been started `ADMIN_JOB_MAX_ATTEMPTS` times already: then it fails here, whoever
    delivered it again (the broker after its worker was SIGKILLed, or the recovery sweep)."""
    unfinished = AdminJob.objects.filter(pk=job_id, status__in=[AdminJob.Status.QUEUED, AdminJob.Status.RUNNING])
    claimed = unfinished.filter(attempts__lt=settings.ADMIN_JOB_MAX_ATTEMPTS).update(
        status=AdminJob.Status.RUNNING, started_at=timezone.now(), rows_done=0, attempts=F("attempts") + 1
    )
    if claimed:
        return AdminJob.objects.select_related("user").get(pk=job_id)
    job = unfinished.first()
    if job is not None:
        logger.error("admin job %s lost its worker %s times: failed", job.pk, job.attempts)
        finish(
            job, AdminJob.Status.FAILED, WORKER_LOST.format(kind=job.kind, attempts=job.attempts, again=AGAIN[job.kind])
        )
    return None


def finish(job: AdminJob, status: str, summary: str, **fields) -> None:
    job.status, job.summary, job.finished_at = status, summary, timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    if status == AdminJob.Status.SUCCEEDED and job.rows_total is not None:
        job.rows_done = job.rows_total
    job.save()


def run(job_id: int) -> None:
    """Run the job; any failure ends it `failed` with a sentence (the traceback goes to the log)."""
    with running_alone(job_id) as alone:
        if alone:
            _run(job_id)


def _run(job_id: int) -> None:
    job = claim(job_id)
    if job is None:
        return
    try:
        (run_import if job.kind == AdminJob.Kind.IMPORT else run_export)(job)
    except Exception:
        logger.exception("admin job %s failed", job.pk)
        job.refresh_from_db(fields=["rows_total", "rows_done"])
        finish(
            job,
            AdminJob.Status.FAILED,
            f"The {job.kind} stopped on an unexpected error; nothing was written. "
            "Try again; if it fails again, tell the administrator (the error is in the worker's log).",
        )


def dataset_from_bytes(raw: bytes, input_format, encoding: str):
    """The file as a dataset, read as django-import-export reads its temporary copy (text
    formats in text mode, universal newlines)."""
    if input_format.is_binary():
        return input_format.create_dataset(raw)
    return input_format.create_dataset(io.TextIOWrapper(io.BytesIO(raw), encoding=encoding).read())


def _read_dataset(job: AdminJob, model_admin, input_format):
    with job.file.open("rb") as stored:
        return dataset_from_bytes(stored.read(), input_format, model_admin.from_encoding)


def run_import(job: AdminJob) -> None:
    model_admin = model_admin_for(job)
    request = job_request(job)
    if not model_admin.has_import_permission(request):
        finish(job, AdminJob.Status.FAILED, f"{job.user} may no longer import {model_admin.opts.verbose_name_plural}.")
        return
    input_format = model_admin.get_import_formats()[int(job.params["format"])](encoding=model_admin.from_encoding)
    try:
        dataset = _read_dataset(job, model_admin, input_format)
    except SheetRefused as exc:  # over the readers' limits: refused before any row is worked on
        finish(job, AdminJob.Status.FAILED, f"Nothing was imported: {exc}")
        return
    job.rows_total = len(dataset)
    job.save(update_fields=["rows_total"])
    resource_class = model_admin.get_import_resource_classes(request)[int(job.params.get("resource") or 0)]
    with ProgressWriter(job) as progress, transaction.atomic():
        resource = tracked(resource_class, progress)(**model_admin.get_import_resource_kwargs(request))
        result = resource.import_data(
            dataset,
            dry_run=False,
            raise_errors=False,
            use_transactions=True,
            rollback_on_validation_errors=True,
            file_name=job.file_name,
            user=job.user,
            request=request,
            retain_instance_in_row_result=True,
        )
        failed = result.has_errors() or result.has_validation_errors()
        if not failed:  # the rows, their admin log entries and the job's success commit together
            model_admin.generate_log_entries(result, request)
            totals = result.totals
            finish(
                job,
                AdminJob.Status.SUCCEEDED,
                f"Import finished: {totals['new']} new, {totals['update']} updated, {totals['delete']} deleted "
                f"and {totals['skip']} skipped {model_admin.opts.verbose_name_plural}.",
            )
            transaction.on_commit(lambda: post_import.send(sender=None, model=model_admin.model))
    if failed:
        errors = import_errors(result)
        finish(
            job,
            AdminJob.Status.FAILED,
            f"Nothing was imported: {errors['count']} of {len(dataset)} rows have errors. "
            "Correct these rows in your file, then upload it again.",
            rows_done=progress.rows_done,
            row_errors=errors,
            row_errors_count=errors["count"],
        )


def _text(value) -> str:
    return "" if value is None else str(value)


def import_errors(result) -> dict:
    """The bad rows as the import screen shows them: number, each error in words, the cells."""
    rows = []
    for number, errors in result.row_errors():
        rows.append({"number": number, "errors": [_text(e.error) for e in errors], "values": []})
    for row in result.invalid_rows:
        errors = [
            f"{field}: {message}" for field, messages in row.field_specific_errors.items() for message in messages
        ]
        errors += [_text(message) for message in row.non_field_specific_errors]
        rows.append({"number": row.number, "errors": errors, "values": [_text(v) for v in row.values]})
    rows.sort(key=lambda r: r["number"] or 0)
    base = [_text(e.error) for e in result.base_errors]
    count = len(rows) + (1 if base and not rows else 0)
    return {
        "headers": [_text(h) for h in result.diff_headers],
        "file_errors": base,
        "rows": rows[:ROW_ERRORS_KEPT],
        "count": count,
    }


def run_export(job: AdminJob) -> None:
    model_admin = model_admin_for(job)
    request = job_request(job)
    if not model_admin.has_export_permission(request):
        finish(job, AdminJob.Status.FAILED, f"{job.user} may no longer export {model_admin.opts.verbose_name_plural}.")
        return
    formats = model_admin.get_export_formats()
    form = model_admin.get_export_form_class()(
        formats, model_admin.get_export_resource_classes(request), data=posted_form_data(job)
    )
    if not form.is_valid():
        finish(job, AdminJob.Status.FAILED, f"The export form is no longer valid: {form.errors.as_text()}")
        return
    file_format = formats[int(form.cleaned_data["format"])]()
    queryset = model_admin.get_export_queryset(request)
    if "export_items" in job.params:
        queryset = queryset.filter(pk__in=job.params["export_items"])
    resource_class = model_admin.choose_export_resource_class(form, request)
    kwargs = {
        "force_native_type": type(file_format) in BINARY_FORMATS,
        "encoding": model_admin.to_encoding,
        "export_form": form,
    }
    job.rows_total = export_rows_count(
        resource_class(**model_admin.get_export_resource_kwargs(request, **kwargs)), queryset
    )
    job.save(update_fields=["rows_total"])
    with ProgressWriter(job) as progress:
        resource = tracked(resource_class, progress)(**model_admin.get_export_resource_kwargs(request, **kwargs))
        data = resource.export(
            queryset=queryset, export_fields=model_admin.get_export_resource_fields_from_form(form), **kwargs
        )
        content = file_format.export_data(data)
    if isinstance(content, str):
        content = content.encode(model_admin.to_encoding or "utf-8")
    name = model_admin.get_export_filename(request, queryset, file_format)
    job.file.save(name, ContentFile(content), save=False)
    job.rows_total = len(data)
    finish(job, AdminJob.Status.SUCCEEDED, f"Export finished: {len(data)} rows, ready to download.", file_name=name)
    post_export.send(sender=None, model=model_admin.model)


def export_rows_count(resource, queryset) -> int:
    """Rows the export will write: the resource's own count when its rows are not the
    queryset's (a product export of one row per SKU), else the queryset's."""
    counter = getattr(resource, "export_rows_count", None)
    return counter(queryset) if counter else queryset.count()
