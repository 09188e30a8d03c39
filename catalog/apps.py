from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, products and SKUs."""

    name = "catalog"
    verbose_name = "Catalog"
