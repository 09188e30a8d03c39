"""Stock: warehouses, a level per (SKU, warehouse) with its quantity states, the movement
ledger, reservations, inbound shipments, and stored idempotency keys.

`StockLevel.on_hand` always equals the sum of its movements' `delta`; `damaged` and
`quality_control` equal the units their movements moved in minus those moved out. The
database enforces `reserved + damaged + quality_control <= on_hand` and
`backordered <= incoming` (see ../shared/spec/stock-depth.md).
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils import timezone
from simple_history.models import HistoricalRecords

from inventory_site.models import SoftDeleteModel, TimeStampedModel, VersionedModel

WAREHOUSE_CODE_VALIDATOR = RegexValidator(r"^[A-Z0-9_-]{1,20}$", "Use 1-20 characters of A-Z, 0-9, '_' and '-'.")


class Warehouse(TimeStampedModel, VersionedModel, SoftDeleteModel):
    """A place that holds stock. Exactly one is the default (`MAIN` after the first migrate)."""

    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[WAREHOUSE_CODE_VALIDATOR],
        help_text="Upper case; stays reserved while the warehouse is deleted.",
    )
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True, help_text="Inactive warehouses are not picked for reservations.")
    is_default = models.BooleanField(default=False, help_text="Used when a request names no warehouse.")
    priority = models.PositiveIntegerField(
        default=100,
        db_default=100,
        help_text="Order in which reservations that name no warehouse try warehouses: lower first, "
        "the default warehouse first among equals.",
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="warehouse_single_default"
            ),
            models.CheckConstraint(condition=Q(priority__gte=0), name="warehouse_priority_not_negative"),
        ]
        permissions = [("purge_warehouse", "Can permanently delete warehouses")]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """How many units of one SKU one warehouse holds, and in which states.

    `reserved`, `damaged` and `quality_control` are parts of `on_hand`; `safety_stock` is a
    setting held back from sale; `incoming` (open inbound shipments) and `backordered`
    (reserved against `incoming`) are not on hand yet.
    """

    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0, help_text="Units physically present.")
    reserved = models.IntegerField(default=0, help_text="Units held for active reservations (allocated units only).")
    # The new columns also have database defaults, so that raw SQL and COPY paths that do
    # not name them (bulk loads, the reservation statement) write the same rows.
    damaged = models.IntegerField(default=0, db_default=0, help_text="Units on hand that are broken: not sellable.")
    quality_control = models.IntegerField(
        default=0, db_default=0, help_text="Units on hand waiting for inspection: not sellable."
    )
    safety_stock = models.IntegerField(
        default=0, db_default=0, help_text="Units held back from sale (a setting, not a state)."
    )
    incoming = models.IntegerField(
        default=0,
        db_default=0,
        help_text="Units expected on open inbound shipments (expected minus received, per line).",
    )
    backordered = models.IntegerField(default=0, db_default=0, help_text="Units reserved against incoming stock.")
    low_stock_threshold = models.IntegerField(
        default=0, help_text="The level counts as low when available is at or below this."
    )
    reorder_point = models.IntegerField(
        null=True,
        blank=True,
        help_text="Suggest a reorder when available + incoming - backordered is at or below this (empty: off).",
    )
    reorder_quantity = models.IntegerField(
        null=True,
        blank=True,
        help_text="Units to suggest (empty: enough to bring the figure above to twice the reorder point).",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stocklevel_one_per_sku_warehouse"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_le_on_hand"),
            models.CheckConstraint(condition=Q(low_stock_threshold__gte=0), name="stocklevel_threshold_not_negative"),
            models.CheckConstraint(condition=Q(damaged__gte=0), name="stocklevel_damaged_not_negative"),
            models.CheckConstraint(condition=Q(quality_control__gte=0), name="stocklevel_quality_control_not_negative"),
            models.CheckConstraint(condition=Q(safety_stock__gte=0), name="stocklevel_safety_stock_not_negative"),
            models.CheckConstraint(condition=Q(incoming__gte=0), name="stocklevel_incoming_not_negative"),
            models.CheckConstraint(condition=Q(backordered__gte=0), name="stocklevel_backordered_not_negative"),
            # In bigint: three int4 columns near their maximum must fail the check, not overflow it.
            models.CheckConstraint(
                condition=Q(
                    on_hand__gte=Cast("reserved", models.BigIntegerField())
                    + Cast("damaged", models.BigIntegerField())
                    + Cast("quality_control", models.BigIntegerField())
                ),
                name="stocklevel_states_within_on_hand",
            ),
            models.CheckConstraint(
                condition=Q(backordered__lte=F("incoming")), name="stocklevel_backordered_le_incoming"
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__isnull=True) | Q(reorder_point__gte=0),
                name="stocklevel_reorder_point_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(reorder_quantity__isnull=True) | Q(reorder_quantity__gte=1),
                name="stocklevel_reorder_quantity_positive",
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "sku"], name="stocklevel_warehouse_sku")]
        permissions = [
            ("adjust_stock", "Can adjust stock (receipts, counts, corrections)"),
            ("transfer_stock", "Can transfer stock between warehouses"),
            ("move_stock_state", "Can move stock between states (damaged, quality control)"),
        ]

    def __str__(self) -> str:
        return f"{self.sku.sku_code} at {self.warehouse.name}"

    @property
    def sellable(self) -> int:
        """On hand and in no other state: what state moves and write-offs may take from."""
        return self.on_hand - self.reserved - self.damaged - self.quality_control

    # `available` (what can be reserved: sellable minus the safety stock, never below 0) is the
    # database's `stock_available` function (migration 0006), not a property: levels read for
    # a write carry it from `lock_levels`; reads annotate it (`stock.selectors`).
    # For the type checker only (no field, no class attribute): the figures those reads set.
    available: int
    effective_reserved: int
    effective_available: int
    effective_is_low: bool


class MovementReason(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    RETURN = "return", "Return"
    DAMAGE = "damage", "Damage"
    LOSS = "loss", "Loss"
    CORRECTION = "correction", "Correction"
    COUNT = "count", "Cycle count"
    SALE = "sale", "Sale"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    INSPECTION = "inspection", "Inspection"


class StockState(models.TextChoices):
    """The states units on hand can be moved between (`sellable`: on hand and in no other state)."""

    SELLABLE = "sellable", "Sellable"
    DAMAGED = "damaged", "Damaged"
    QUALITY_CONTROL = "quality_control", "Quality control"


class StockMovement(models.Model):
    """One line of the append-only ledger: a signed change of one level's on-hand, and/or
    `quantity` units moved out of `state_from` into `state_to`.

    A state move has `delta` 0 and both states; a receipt into a state has `state_to` only
    (units arrive from outside); a write-off of damaged units has `state_from` only and a
    negative `delta`. Empty states with `delta` only are plain sellable stock.
    """

    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="movements")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    delta = models.IntegerField(help_text="Signed change of on-hand.")
    reason = models.CharField(max_length=20, choices=MovementReason.choices)
    reference = models.CharField(max_length=100, blank=True, default="", help_text="PO, order or count number.")
    note = models.CharField(max_length=500, blank=True, default="")
    reservation = models.ForeignKey(
        "Reservation", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    balance_after = models.IntegerField(help_text="On-hand of the level after this movement.")
    state_from = models.CharField(
        max_length=20,
        choices=StockState.choices,
        blank=True,
        default="",
        db_default="",
        help_text="The state the units left (empty: from outside the level's states).",
    )
    state_to = models.CharField(
        max_length=20,
        choices=StockState.choices,
        blank=True,
        default="",
        db_default="",
        help_text="The state the units went into (empty: out of the level's states).",
    )
    quantity = models.PositiveIntegerField(null=True, blank=True, help_text="Units moved between states.")
    inbound = models.ForeignKey(
        "InboundShipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
        help_text="The inbound shipment a receipt belongs to.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A movement changes on-hand, or moves units between states (or both). `quantity`
            # is tested for NULL explicitly: a CHECK that evaluates to NULL passes.
            models.CheckConstraint(
                condition=~Q(delta=0)
                | (Q(quantity__isnull=False) & Q(quantity__gte=1) & ~Q(state_from="") & ~Q(state_to="")),
                name="movement_changes_something",
            ),
            models.CheckConstraint(
                condition=(Q(state_from="") & Q(state_to="")) | (Q(quantity__isnull=False) & Q(quantity__gte=1)),
                name="movement_state_move_has_quantity",
            ),
            models.CheckConstraint(
                condition=Q(state_from="") | ~Q(state_from=F("state_to")), name="movement_states_differ"
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["sku", "warehouse", "-created_at"], name="movement_level_time"),
            models.Index(fields=["-created_at", "-id"], name="movement_time"),
            models.Index(fields=["reason", "-created_at"], name="movement_reason_time"),
            models.Index(fields=["reference"], name="movement_reference"),
            models.Index(fields=["inbound"], name="movement_inbound", condition=Q(inbound__isnull=False)),
        ]

    def __str__(self) -> str:
        if self.delta == 0 and self.state_from and self.state_to:
            change = f"{self.quantity} {self.get_state_from_display().lower()} → {self.get_state_to_display().lower()}"
        else:
            change = f"{self.delta:+d}"
        return f"{self.get_reason_display()} {change}" + (f" ({self.reference})" if self.reference else "")


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMMITTED = "committed", "Committed"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Reservation(TimeStampedModel):
    """Stock held for an order until it is committed (sold), released or expires."""

    reference = models.CharField(max_length=100, db_index=True, help_text="The order number.")
    status = models.CharField(max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE)
    expires_at = models.DateTimeField(help_text="After this the held units count as available again.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_at"], name="reservation_status_expiry"),
            models.Index(fields=["-created_at"], name="reservation_time"),
        ]
        permissions = [
            ("commit_reservation", "Can commit reservations (goods left)"),
            ("release_reservation", "Can release reservations"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"


class ReservationLine(models.Model):
    """Units of one SKU held in one warehouse by a reservation: `quantity` asked for, of which
    `backordered` wait on incoming stock and the rest (`allocated`) are in the level's `reserved`."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="reservation_lines")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField()
    backordered = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Units of the line waiting on incoming stock."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="reservationline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(backordered__gte=0) & Q(backordered__lte=F("quantity")),
                name="reservationline_backordered_within_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "warehouse"], name="reservationline_level"),
            models.Index(
                fields=["sku", "warehouse", "reservation"],
                name="reservationline_waiting",
                condition=Q(backordered__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku.sku_code} from {self.warehouse.name}"

    @property
    def allocated(self) -> int:
        """Units of the line held in the level's `reserved`."""
        return self.quantity - self.backordered


class InboundStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


INBOUND_OPEN_STATUSES = (InboundStatus.OPEN, InboundStatus.PARTIALLY_RECEIVED)


class InboundShipment(TimeStampedModel, VersionedModel):
    """Stock on its way to one warehouse (a purchase order). Open ones count in `incoming`."""

    reference = models.CharField(max_length=100, unique=True, help_text="The purchase order number.")
    supplier = models.CharField(max_length=200, blank=True, default="")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="inbound_shipments")
    expected_at = models.DateTimeField(null=True, blank=True, help_text="When the goods are expected.")
    status = models.CharField(max_length=20, choices=InboundStatus.choices, default=InboundStatus.DRAFT)
    note = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        indexes = [
            models.Index(fields=["warehouse", "status", "expected_at"], name="inbound_warehouse_status"),
            models.Index(fields=["-created_at"], name="inbound_time"),
        ]
        permissions = [("receive_inboundshipment", "Can receive inbound shipments")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display().lower()})"


class InboundLine(models.Model):
    """Units of one SKU expected on an inbound shipment, and how many have been received."""

    shipment = models.ForeignKey(InboundShipment, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="inbound_lines")
    quantity_expected = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "sku"], name="inboundline_one_per_sku"),
            models.CheckConstraint(condition=Q(quantity_expected__gte=1), name="inboundline_expected_positive"),
            models.CheckConstraint(condition=Q(quantity_received__gte=0), name="inboundline_received_not_negative"),
        ]
        indexes = [models.Index(fields=["sku"], name="inboundline_sku")]

    def __str__(self) -> str:
        return f"{self.quantity_expected} × {self.sku.sku_code}"

    @property
    def quantity_outstanding(self) -> int:
        """What still counts in `incoming`: never negative, even after an over-receipt."""
        return max(0, self.quantity_expected - self.quantity_received)


class IdempotencyRecord(models.Model):
    """A stored `Idempotency-Key`: the request's fingerprint and, once done, its response."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while running.")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
