"""The movement ledger: read-only for everyone, with links to SKUs and reservations."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from stock.admin.levels import sku_link
from stock.models import StockMovement


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the ledger is append-only."""

    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}


    list_display = (
        "created_at", "sku_link", "warehouse", "signed_delta", "reason", "balance_after",
        "reference", "reservation_link", "created_by",
    )
    list_filter = ("reason", "warehouse", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("sku", "warehouse", "reservation", "created_by")
    search_fields = ("reference", "sku__sku_code")
    list_per_page = 100
    show_full_result_count = False
    fields = ("created_at", "sku_link", "warehouse", "delta", "reason", "balance_after", "reference", "note",
              "reservation_link", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SKU", ordering="sku__sku_code")
    def sku_link(self, movement):
        return sku_link(movement.sku)

    @admin.display(description="change", ordering="delta")
    def signed_delta(self, movement):
        return f"{movement.delta:+d}"

    @admin.display(description="reservation")
    def reservation_link(self, movement):
        if movement.reservation_id is None:
            return "-"
        url = reverse("admin:stock_reservation_change", args=[movement.reservation_id])
        return format_html('<a href="{}">{}</a>', url, movement.reservation.reference)
