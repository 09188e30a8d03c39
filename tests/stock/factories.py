"""Factories for the stock models (and the catalog rows they need)."""

from datetime import timedelta

import factory
from django.utils import timezone

from catalog.models import SKU, Category, Product
from stock.models import Reservation, ReservationLine, StockLevel, Warehouse


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Stock category {n}")
    slug = factory.Sequence(lambda n: f"stock-category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Stock product {n}")
    slug = factory.Sequence(lambda n: f"stock-product-{n}")
    category = factory.SubFactory(CategoryFactory)


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU

    sku_code = factory.Sequence(lambda n: f"STK-{n:05d}")
    product = factory.SubFactory(ProductFactory)
    price = "9.99"


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A level with its stock; prefer `stock_receive` when the ledger must agree."""

    class Meta:
        model = StockLevel

    sku = factory.SubFactory(SKUFactory)
    warehouse = factory.LazyFunction(lambda: Warehouse.objects.get(is_default=True))


class ReservationFactory(factory.django.DjangoModelFactory):
    """A bare reservation row; use `reservation_create` when levels must follow."""

    class Meta:
        model = Reservation

    reference = factory.Sequence(lambda n: f"ORDER-{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))


class ReservationLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReservationLine

    reservation = factory.SubFactory(ReservationFactory)
    sku = factory.SubFactory(SKUFactory)
    warehouse = factory.LazyFunction(lambda: Warehouse.objects.get(is_default=True))
    quantity = 1
