from django.apps import AppConfig


class InventorySiteConfig(AppConfig):
    """Project-wide plumbing: model mixins, API conventions, health check."""

    name = "inventory_site"
    verbose_name = "Inventory"
