from django.apps import AppConfig

from catalog.signals import skus_hiding


class StockConfig(AppConfig):
    """Warehouses, stock levels, the movement ledger, reservations and idempotency keys.

    Stock builds on the catalog: it also adds the stock figures to the catalog's admin
    screens and SKU API, and answers the catalog's signals.
    """

    name = "stock"
    verbose_name = "Stock"

    def ready(self):
        # Django's documented place to connect receivers: models are loaded only now.
        from events.catalogue import event_types_register
        from stock.events import EVENT_TYPES
        from stock.services.skus import skus_hiding_refuse_reserved

        event_types_register(EVENT_TYPES)
        skus_hiding.connect(skus_hiding_refuse_reserved, dispatch_uid="stock.skus_hiding_refuse_reserved")
