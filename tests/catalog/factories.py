"""Factories for the catalog. They create through the services, so `path`, `slug` and the
tree fields are what the application itself would write."""

from decimal import Decimal

import factory

from catalog import services
from catalog.models import SKU, Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    parent = None
    description = ""
    attributes = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *, parent=None, **kwargs):
        return services.category_create(parent_id=parent.pk if parent else None, **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    description = ""
    attributes = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *, category, **kwargs):
        return services.product_create(category_id=category.pk, **kwargs)


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU

    sku_code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    product = factory.SubFactory(ProductFactory)
    price = Decimal("19.99")
    attributes = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *, product, **kwargs):
        return services.sku_create(product_id=product.pk, **kwargs)
