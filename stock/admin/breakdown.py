"""The per-warehouse breakdown on the product and SKU screens: a compact table naming the
low levels, and a badge that says where stock is low instead of calling the whole SKU low."""

from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html, format_html_join

from inventory_site.templatetags.backoffice import quantity
from stock.selectors_breakdown import WarehouseStock, product_warehouse_stock, sku_warehouse_stock

STATUS_LABELS = {"in": "In stock", "low": "Low", "out": "Out of stock", "none": "No SKUs"}


def status_badge(status: str, rows: list[WarehouseStock] | None = None):
    """The stock status as the lists show it; "low" names the warehouses where it is low."""
    label = STATUS_LABELS[status]
    if status == "low" and rows:
        low_at = [row.warehouse_code for row in rows if row.is_low]
        if low_at:
            label = f"Low at {', '.join(low_at)}"
    return format_html('<span class="stock-status {}">{}</span>', status, label)


def _low_text(row: WarehouseStock, per_product: bool) -> str:
    if per_product:
        return f"{row.low_skus} of {row.skus} SKUs low" if row.low_skus else ""
    return f"low (threshold {row.threshold})" if row.is_low else ""


def _compact_low(row: WarehouseStock, per_product: bool) -> str:
    if per_product:  # "2/3 low": two of its three SKUs there are low (the words in the tooltip)
        return f"{row.low_skus}/{row.skus} low" if row.low_skus else ""
    return f"low, ≤ {row.threshold}" if row.is_low else ""


def breakdown_table(rows: list[WarehouseStock], *, per_product: bool = False, compact: bool = False):
    """One line per warehouse: code, available, on hand, and which level is low.

    `compact` (the lists): code, available and the low marker; the rest in the tooltip.
    """
    if not rows:
        return format_html('<span class="wh-none">{}</span>', "no stock levels yet")
    if compact:
        lines = format_html_join(
            "",
            '<tr class="{}" title="{}: {} available, {} on hand{}"><th>{}</th><td>{}</td><td>{}</td></tr>',
            (
                (
                    "low" if row.is_low else "",
                    row.warehouse_name,
                    quantity(row.available),
                    quantity(row.on_hand),
                    f"; {_low_text(row, per_product)}" if row.is_low else "",
                    row.warehouse_code,
                    quantity(row.available),
                    _compact_low(row, per_product),
                )
                for row in rows
            ),
        )
        return format_html('<table class="wh-stock compact">{}</table>', lines)
    lines = format_html_join(
        "",
        '<tr class="{}"><th title="{}">{}</th><td>{} available</td><td>{} on hand</td><td>{}</td></tr>',
        (
            (
                "low" if row.is_low else "",
                row.warehouse_name,
                row.warehouse_code,
                quantity(row.available),
                quantity(row.on_hand),
                _low_text(row, per_product),
            )
            for row in rows
        ),
    )
    return format_html('<table class="wh-stock">{}</table>', lines)


class BreakdownChangeList(ChangeList):
    """Loads the breakdown of the rows of the page in one query (`warehouse_stock` on each row)."""

    breakdown_of = staticmethod(sku_warehouse_stock)

    def get_results(self, request):
        super().get_results(request)
        rows = self.breakdown_of([obj.pk for obj in self.result_list])
        for obj in self.result_list:
            obj.warehouse_stock = rows.get(obj.pk, [])


class ProductBreakdownChangeList(BreakdownChangeList):
    breakdown_of = staticmethod(product_warehouse_stock)  # type: ignore[assignment]  # ids of products, not SKUs


def warehouse_stock_of(obj, loader) -> list[WarehouseStock]:
    """The rows the change list attached, or (on a change form) loaded for this object."""
    if not hasattr(obj, "warehouse_stock"):
        obj.warehouse_stock = loader([obj.pk]).get(obj.pk, [])
    return obj.warehouse_stock
