from django.apps import AppConfig


class InventorySiteConfig(AppConfig):
    """Project-wide plumbing: model mixins, API conventions, health check."""

    name = "inventory_site"
    verbose_name = "Inventory"

    def ready(self):
        # The background jobs' admin lives in its package; Django's autodiscovery imports only
        # `inventory_site.admin`.
        from inventory_site.jobs import admin  # noqa: F401
