"""A small, complete data set for the reliability suites, and a fingerprint of every table.

Built with the ORM only (no services), so that these suites do not depend on the code
under test to set themselves up. The rows keep the ledger invariants:
`on_hand` = sum of movements, `reserved` = active reservation lines.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from catalog.models import SKU, Category, Product
from events.models import Event, WebhookDelivery, WebhookSubscription
from stock.models import (
    InboundLine,
    InboundShipment,
    MovementReason,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    Warehouse,
)

# Every table of the project's own apps (found, not listed: a new app is covered) and the tokens.
# Django's admin log and sessions are left out: logging in writes them, and no API request does.
FINGERPRINT_EXTRA_APPS = ("authtoken",)


def fingerprint_apps() -> tuple[str, ...]:
    base = str(settings.BASE_DIR)
    own = [
        c.label
        for c in apps.get_app_configs()
        if str(c.path).startswith(base) and "site-packages" not in str(c.path) and list(c.get_models())
    ]
    return tuple(own) + FINGERPRINT_EXTRA_APPS


@dataclass
class World:
    root: Category
    leaf: Category
    spare: Category
    deleted_category: Category
    product: Product
    spare_product: Product
    deleted_product: Product
    sku: SKU
    spare_sku: SKU
    deleted_sku: SKU
    main: Warehouse
    west: Warehouse
    deleted_warehouse: Warehouse
    level: StockLevel
    reservation: Reservation
    webhook: WebhookSubscription
    event: Event
    delivery: WebhookDelivery
    inbound: InboundShipment | None = None

    def live_object(self, model):
        """The row a detail URL of `model` points at: an ordinary, non-deleted one."""
        return {
            Category: self.leaf,
            Product: self.product,
            SKU: self.sku,
            Warehouse: self.west,
            StockLevel: self.level,
            Reservation: self.reservation,
            WebhookSubscription: self.webhook,
            Event: self.event,
            WebhookDelivery: self.delivery,
            InboundShipment: self.inbound,
        }.get(model) or model._base_manager.order_by("pk").first()

    def deleted_object(self, model):
        return {
            Category: self.deleted_category,
            Product: self.deleted_product,
            SKU: self.deleted_sku,
            Warehouse: self.deleted_warehouse,
        }.get(model)


def _receive(sku: SKU, warehouse: Warehouse, quantity: int) -> StockLevel:
    level, _ = StockLevel.objects.get_or_create(sku=sku, warehouse=warehouse)
    level.on_hand += quantity
    level.save()
    StockMovement.objects.create(
        sku=sku,
        warehouse=warehouse,
        delta=quantity,
        reason=MovementReason.RECEIPT,
        reference="SEED",
        balance_after=level.on_hand,
    )
    return level


def build_world() -> World:
    """Categories, products, SKUs (one of each deleted), two warehouses with stock, a reservation,
    a webhook subscription with one delivered event."""
    # The first migrate creates MAIN; a transactional test before this one may have flushed it.
    main = Warehouse.objects.filter(is_default=True).first() or Warehouse.objects.create(
        code="MAIN", name="Main warehouse", is_default=True
    )
    west = Warehouse.objects.create(code="WEST", name="West")
    gone = Warehouse.objects.create(code="GONE", name="Gone", is_deleted=True, deleted_at=timezone.now())
    root = Category.objects.create(name="Apparel", path="Apparel", slug="apparel")
    leaf = Category.objects.create(name="Shirts", parent=root, path="Apparel/Shirts", slug="shirts")
    spare = Category.objects.create(name="Hats", parent=root, path="Apparel/Hats", slug="hats")
    old = Category.objects.create(
        name="Old", parent=root, path="Apparel/Old", slug="old", is_deleted=True, deleted_at=timezone.now()
    )
    product = Product.objects.create(name="Tee", slug="tee", category=leaf)
    spare_product = Product.objects.create(name="Cap", slug="cap", category=spare)
    deleted_product = Product.objects.create(
        name="Retired", slug="retired", category=leaf, is_deleted=True, deleted_at=timezone.now()
    )
    sku = SKU.objects.create(sku_code="TEE-RED-M", product=product, price="19.99", attributes={"color": "red"})
    spare_sku = SKU.objects.create(sku_code="CAP-1", product=spare_product, price="5.00")
    deleted_sku = SKU.objects.create(
        sku_code="OLD-1", product=product, price="1.00", is_deleted=True, deleted_at=timezone.now()
    )
    level = _receive(sku, main, 50)
    _receive(sku, west, 10)
    _receive(spare_sku, main, 5)
    reservation = Reservation.objects.create(reference="ORDER-1", expires_at=timezone.now() + timedelta(hours=1))
    ReservationLine.objects.create(reservation=reservation, sku=sku, warehouse=main, quantity=2)
    StockLevel.objects.filter(pk=level.pk).update(reserved=2)
    level.refresh_from_db()
    # Written directly (no URL check, no DNS): the host is never contacted, no worker runs here.
    webhook = WebhookSubscription.objects.create(
        url="https://hooks.example.com/inventory",
        events=["stock.*"],
        description="ERP",
        secret="whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )
    event = Event.objects.create(
        type="stock.level.changed",
        aggregate=f"stock_level:{level.pk}",
        sku_code=sku.sku_code,
        reference="SEED",
        position=(Event.objects.aggregate(top=models.Max("position"))["top"] or 0) + 1,
        data={
            "sku_id": sku.pk,
            "sku_code": sku.sku_code,
            "warehouse": main.code,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.on_hand - level.reserved,
            "is_low": False,
            "version": 1,
            "cause": {"reservation_id": reservation.pk},
            "reason": "reservation",
        },
    )
    delivery = WebhookDelivery.objects.create(
        subscription=webhook,
        event=event,
        aggregate=event.aggregate,
        position=event.position,
        status=WebhookDelivery.Status.DELIVERED,
        attempts=1,
        last_status_code=200,
        first_attempt_at=timezone.now(),
        delivered_at=timezone.now(),
    )
    # A draft purchase order: editable; receiving it is refused (409) after the body is checked.
    inbound = InboundShipment.objects.create(reference="PO-SEED", supplier="Acme", warehouse=main)
    InboundLine.objects.create(shipment=inbound, sku=sku, quantity_expected=5)
    return World(
        inbound=inbound,
        root=root,
        leaf=leaf,
        spare=spare,
        deleted_category=old,
        product=product,
        spare_product=spare_product,
        deleted_product=deleted_product,
        sku=sku,
        spare_sku=spare_sku,
        deleted_sku=deleted_sku,
        main=main,
        west=west,
        deleted_warehouse=gone,
        level=level,
        reservation=reservation,
        webhook=webhook,
        event=event,
        delivery=delivery,
    )


_NUMERIC = (models.IntegerField, models.DecimalField, models.FloatField, models.BooleanField, models.ForeignKey)
_TEXT = (models.CharField, models.TextField, models.JSONField, models.SlugField)


@lru_cache(maxsize=1)
def _fingerprint_sql() -> str:
    """One query over every table: row count, sums of numeric columns, max of timestamps and
    total text length. Any insert, delete or update of a value moves one of them (and every
    catalog or stock save also inserts a history row)."""
    parts = []
    for app_label in fingerprint_apps():
        for model in apps.get_app_config(app_label).get_models():
            if not model._meta.managed or model._meta.proxy:
                continue
            columns = ["COUNT(*)"]
            for f in model._meta.concrete_fields:
                col = connection.ops.quote_name(f.column)
                if isinstance(f, (models.AutoField, models.BigAutoField)) or isinstance(f, _NUMERIC):
                    columns.append(
                        f"COALESCE(SUM(CAST({col} AS NUMERIC)), 0)"
                        if not isinstance(f, models.BooleanField)
                        else f"SUM(CASE WHEN {col} THEN 1 ELSE 0 END)"
                    )
                elif isinstance(f, models.DateTimeField):
                    columns.append(f"MAX({col})")
                elif isinstance(f, _TEXT):
                    columns.append(f"SUM(LENGTH(CAST({col} AS TEXT)))")
            cells = " || ',' || ".join(f"COALESCE(CAST({c} AS TEXT), '')" for c in columns)
            table = connection.ops.quote_name(model._meta.db_table)
            parts.append(f"SELECT '{model._meta.db_table}' AS t, {cells} AS v FROM {table}")
    return " UNION ALL ".join(parts)


def fingerprint() -> str:
    """A digest of every table of the project's apps (catalog, stock, events, history tables
    included) and the tokens, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        rows = sorted(cursor.fetchall())
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for app_label in fingerprint_apps()
        for model in apps.get_app_config(app_label).get_models()
    }
