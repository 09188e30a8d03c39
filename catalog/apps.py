from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products and SKUs."""

    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.events import EVENT_TYPES
        from events.catalogue import event_types_register

        event_types_register(EVENT_TYPES)
