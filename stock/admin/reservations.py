"""Reservations: filtered by the status as read (overdue ones are expired); release as an action."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from inventory_site.admin import ReadOnlyAdminMixin, run_service_per_row
from stock import services
from stock.admin.phone_orders import PhoneOrderViewsMixin
from stock.models import Reservation, ReservationLine, ReservationStatus
from stock.selectors import reservation_status, reservations_with_status
from stock.selectors_dashboard import reservations_expiring


class ReservationStatusFilter(admin.SimpleListFilter):
    """The status as read: an overdue active reservation counts as expired."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ReservationStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value in ReservationStatus.values:
            return reservations_with_status(queryset, value)
        return queryset


class ExpiringFilter(admin.SimpleListFilter):
    """Active reservations expiring within the hour: the dashboard's list, soonest first."""

    title = "expiring"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("hour", "Within the hour")]

    def queryset(self, request, queryset):
        if self.value() == "hour":
            return reservations_expiring(queryset, limit=None)
        return queryset


class BackorderedFilter(admin.SimpleListFilter):
    """Reservations with some line waiting on incoming stock."""

    title = "backordered"
    parameter_name = "backordered"

    def lookups(self, request, model_admin):
        return [("yes", "Waiting on incoming stock"), ("no", "Fully allocated")]

    def queryset(self, request, queryset):
        waiting = ReservationLine.objects.filter(backordered__gt=0).values("reservation_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=waiting)
        if self.value() == "no":
            return queryset.exclude(pk__in=waiting)
        return queryset


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ("sku", "warehouse", "quantity", "allocated", "backordered")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="allocated")
    def allocated(self, line):
        return line.allocated

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku", "warehouse")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reservation)
class ReservationAdmin(PhoneOrderViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css", "admin-ext/backoffice.css"]}

    list_display = ("reference", "status_now", "expires", "lines_summary", "backordered", "created")
    list_filter = (ReservationStatusFilter, ExpiringFilter, BackorderedFilter)
    search_fields = ("reference",)
    list_select_related = ("created_by",)
    list_per_page = 100
    show_full_result_count = False
    inlines = [ReservationLineInline]
    fields = ("reference", "status_now", "expires_at", "created_at", "created_by")
    readonly_fields = fields
    actions = ["release_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__sku", "lines__warehouse")

    def has_release_permission(self, request):
        return request.user.has_perm("stock.release_reservation")

    @admin.display(description="status", ordering="status")
    def status_now(self, reservation):
        status = reservation_status(reservation)
        css = {"active": "in", "committed": "none", "released": "none", "expired": "out"}[status]
        return format_html('<span class="stock-status {}">{}</span>', css, ReservationStatus(status).label)

    @admin.display(description="lines")
    def lines_summary(self, reservation):
        """One line each: "2 × CODE @ MAIN", and how many of them wait on incoming stock."""
        return format_html_join(
            mark_safe("<br>"),
            '<span class="line">{} &times; {} @ {}</span>{}',
            (
                (
                    line.quantity,
                    line.sku.sku_code,
                    line.warehouse.code,
                    format_html(' <span class="quiet">({} waiting)</span>', line.backordered)
                    if line.backordered
                    else "",
                )
                for line in reservation.lines.all()
            ),
        )

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, reservation):
        return timezone.localtime(reservation.expires_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="created", ordering="created_at")
    def created(self, reservation):
        by = reservation.created_by.get_username() if reservation.created_by_id else "system"
        return format_html(
            '{}<br><span class="quiet">by {}</span>',
            timezone.localtime(reservation.created_at).strftime("%Y-%m-%d %H:%M"),
            by,
        )

    @admin.display(description="backordered")
    def backordered(self, reservation):
        """Units still waiting on incoming stock (empty when fully allocated)."""
        return sum(line.backordered for line in reservation.lines.all()) or ""

    @admin.action(description="Release selected (give the units back)", permissions=["release"])
    def release_selected(self, request, queryset):
        run_service_per_row(
            self,
            request,
            queryset,
            lambda user, obj: services.reservation_release(reservation=obj, user=user),
            "Released",
        )
