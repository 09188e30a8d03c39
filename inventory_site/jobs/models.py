"""`AdminJob`: one background import or export of the admin, its progress and its result."""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone


def job_file_path(job: "AdminJob", filename: str) -> str:
    return f"admin-jobs/{timezone.now():%Y/%m}/{job.kind}-{filename}"


class AdminJob(models.Model):
    """An import (the uploaded file, checked and written all or nothing) or an export (the file
    written) that the Celery worker runs; the admin shows its progress and result."""

    class Kind(models.TextChoices):
        IMPORT = "import", "import"
        EXPORT = "export", "export"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    model_label = models.CharField(max_length=100, help_text="The model imported or exported, e.g. catalog.sku.")
    file_format = models.CharField(max_length=20, help_text="csv, xlsx, ...")
    params = models.JSONField(
        default=dict, blank=True, help_text="The form as the user posted it (resource, format, fields, filters)."
    )
    file = models.FileField(
        upload_to=job_file_path, max_length=300, blank=True, help_text="The file uploaded (import) or written (export)."
    )
    file_name = models.CharField(max_length=255, blank=True, help_text="The file's name as the user sees it.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    summary = models.TextField(blank=True, help_text="The result in words.")
    row_errors = models.JSONField(
        default=dict,
        blank=True,
        help_text="Bad rows of an import: headers, rows (number, errors in words, cells), count.",
    )
    row_errors_count = models.PositiveIntegerField(default=0)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="admin_jobs")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    queued_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the job was last handed to the worker (the recovery sweep sends it again).",
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started, a worker's death included.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "background import or export"
        verbose_name_plural = "background imports and exports"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rows_total__isnull=True) | models.Q(rows_done__lte=models.F("rows_total")),
                name="admin_job_rows_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display().capitalize()} #{self.pk} of {self.model_name_plural} ({self.status})"

    @property
    def model_name_plural(self) -> str:
        """The model's name as the admin shows it ("SKUs"), or its label when it is gone."""
        try:
            return str(apps.get_model(self.model_label)._meta.verbose_name_plural)
        except LookupError:
            return self.model_label

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)
