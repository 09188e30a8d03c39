"""The movement ledger: read-only for everyone, with links to SKUs and reservations."""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory_site.admin import ReadOnlyAdminMixin
from stock.admin.levels import sku_link
from stock.models import StockMovement


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only for everyone, superusers included: the ledger is append-only."""

    class Media:
        css = {"all": ["admin-ext/admin-ext.css", "admin-ext/backoffice.css"]}

    list_display = (
        "when",
        "sku_at_warehouse",
        "change_and_balance",
        "reason",
        "reference_and_reservation",
    )
    list_filter = ("reason", "warehouse", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("sku", "warehouse", "reservation", "inbound", "created_by")
    search_fields = ("reference", "sku__sku_code")
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "created_at",
        "sku_link",
        "warehouse",
        "delta",
        "reason",
        "balance_after",
        "states",
        "reference",
        "note",
        "reservation_link",
        "inbound_link",
        "created_by",
    )
    readonly_fields = fields

    @admin.display(description="when", ordering="created_at")
    def when(self, movement):
        by = movement.created_by.get_username() if movement.created_by_id else "system"
        return format_html(
            '{}<br><span class="quiet">by {}</span>',
            timezone.localtime(movement.created_at).strftime("%Y-%m-%d %H:%M"),
            by,
        )

    @admin.display(description="SKU at warehouse", ordering="sku__sku_code")
    def sku_at_warehouse(self, movement):
        return format_html(
            '{}<br><span class="quiet" title="{}">{}</span>',
            sku_link(movement.sku),
            movement.warehouse.name,
            movement.warehouse.code,
        )

    @admin.display(description="change → on hand", ordering="delta")
    def change_and_balance(self, movement):
        """The change of on hand; a state move (on hand unchanged) names its two states."""
        if movement.delta == 0 and movement.state_from and movement.state_to:
            return format_html(
                '{} {} → {}<br><span class="quiet">on hand {}</span>',
                movement.quantity,
                movement.get_state_from_display().lower(),
                movement.get_state_to_display().lower(),
                movement.balance_after,
            )
        change = f"{movement.delta:+d} → {movement.balance_after}"
        if movement.state_to:
            return format_html(
                '{}<br><span class="quiet">into {}</span>', change, movement.get_state_to_display().lower()
            )
        if movement.state_from:
            return format_html(
                '{}<br><span class="quiet">from {}</span>', change, movement.get_state_from_display().lower()
            )
        return change

    @admin.display(description="reference", ordering="reference")
    def reference_and_reservation(self, movement):
        if movement.inbound_id is not None:
            return format_html("{}<br>inbound {}", movement.reference or "-", self.inbound_link(movement))
        if movement.reservation_id is None:
            return movement.reference or "-"
        return format_html("{}<br>reservation {}", movement.reference or "-", self.reservation_link(movement))

    @admin.display(description="states")
    def states(self, movement):
        if not (movement.state_from or movement.state_to):
            return "-"
        return (
            f"{movement.quantity} {movement.get_state_from_display().lower() or 'arriving'} → "
            f"{movement.get_state_to_display().lower() or 'leaving'}"
        )

    @admin.display(description="inbound shipment")
    def inbound_link(self, movement):
        if movement.inbound_id is None:
            return "-"
        url = reverse("admin:stock_inboundshipment_change", args=[movement.inbound_id])
        return format_html('<a href="{}">{}</a>', url, movement.inbound.reference)

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
