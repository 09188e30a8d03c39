"""The background imports and exports in the admin: a list, and a page per job with its
progress (refreshed from `status.json`), result, row errors and, for an export, the file.

A job is seen by its user (a superuser sees all) while they may still import or export
that model, as the job itself needed; the list, by those who may import or export something."""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from inventory_site.admin import ReadOnlyAdminMixin
from inventory_site.jobs.models import AdminJob
from inventory_site.jobs.runner import model_admin_for


def may_see(request, job: AdminJob) -> bool:
    """The job's user or a superuser, holding the import (or export) permission of its model."""
    user = request.user
    if not (user.is_superuser or job.user_id == user.pk):
        return False
    try:
        model_admin = model_admin_for(job)
    except (LookupError, NotRegistered):
        return user.is_superuser
    if job.kind == AdminJob.Kind.IMPORT:
        return model_admin.has_import_permission(request)
    return model_admin.has_export_permission(request)


def may_import_or_export(request) -> bool:
    """Whether the user may import or export anything at all (the admins of the registry say)."""
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        for check in ("has_import_permission", "has_export_permission"):
            if getattr(model_admin, check, None) and getattr(model_admin, check)(request):
                return True
    return False


def status_data(job: AdminJob) -> dict:
    data = {
        "status": job.status,
        "finished": job.is_finished,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "summary": job.summary,
    }
    if job.kind == AdminJob.Kind.EXPORT and job.status == AdminJob.Status.SUCCEEDED:
        data["download_url"] = reverse("admin:inventory_site_adminjob_download", args=[job.pk])
    return data


@admin.register(AdminJob)
class AdminJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: jobs are made by the import and export screens and run by the worker."""

    list_display = ("job", "file_name", "status", "progress", "user", "created_at", "finished_at")
    list_filter = ("kind", "status")
    list_select_related = ("user",)
    list_display_links = ("job",)
    detail_template = "admin/inventory_site/adminjob/detail.html"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and may_import_or_export(request)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return may_see(request, obj)

    @admin.display(description="job", ordering="pk")
    def job(self, job):
        return f"{job.get_kind_display().capitalize()} #{job.pk} of {job.model_name_plural}"

    @admin.display(description="progress")
    def progress(self, job):
        return format_html('<progress max="100" value="{}"></progress> {}%', job.percent, job.percent)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/status.json", view(self.status_view), name="inventory_site_adminjob_status"),
            path("<int:object_id>/download/", view(self.download_view), name="inventory_site_adminjob_download"),
            *super().get_urls(),
        ]

    def visible_job(self, request, object_id) -> AdminJob:
        job = self.get_object(request, str(object_id))
        if job is None:
            raise Http404("No such job.")
        if not may_see(request, job):
            raise PermissionDenied
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.visible_job(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "job": job,
            "title": str(job),
            "status": status_data(job),
            "errors": job.row_errors or {},
            "status_url": reverse("admin:inventory_site_adminjob_status", args=[job.pk]),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.detail_template, context)

    def status_view(self, request, object_id):
        return JsonResponse(status_data(self.visible_job(request, object_id)))

    def download_view(self, request, object_id):
        job = self.visible_job(request, object_id)
        if job.kind != AdminJob.Kind.EXPORT or job.status != AdminJob.Status.SUCCEEDED or not job.file:
            raise Http404("This job has no file to download.")
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name)
