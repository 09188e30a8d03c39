from django.apps import AppConfig


class StockConfig(AppConfig):
    """Warehouses, stock levels, the movement ledger, reservations and idempotency keys."""

    name = "stock"
    verbose_name = "Stock"
