"""Stock: warehouses, a level per (SKU, warehouse), the movement ledger, reservations,
and stored idempotency keys.

`StockLevel.on_hand` always equals the sum of its movements' `delta`, and
`0 <= reserved <= on_hand` is enforced by the database.
"""
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from inventory_site.models import SoftDeleteModel, TimeStampedModel, VersionedModel

WAREHOUSE_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z0-9_-]{1,20}$", "Use 1-20 characters of A-Z, 0-9, '_' and '-'."
)


class Warehouse(TimeStampedModel, VersionedModel, SoftDeleteModel):
    """A place that holds stock. Exactly one is the default (`MAIN` after the first migrate)."""

    code = models.CharField(
        max_length=20, unique=True, validators=[WAREHOUSE_CODE_VALIDATOR],
        help_text="Upper case; stays reserved while the warehouse is deleted.",
    )
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True, help_text="Inactive warehouses are not picked for reservations.")
    is_default = models.BooleanField(default=False, help_text="Used when a request names no warehouse.")

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="warehouse_single_default"
            ),
        ]
        permissions = [("purge_warehouse", "Can permanently delete warehouses")]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """How many units of one SKU one warehouse holds, and how many of those are reserved."""

    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0, help_text="Units physically present.")
    reserved = models.IntegerField(default=0, help_text="Units held for active reservations.")
    low_stock_threshold = models.IntegerField(
        default=0, help_text="The level counts as low when available is at or below this."
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
        ]
        indexes = [models.Index(fields=["warehouse", "sku"], name="stocklevel_warehouse_sku")]
        permissions = [
            ("adjust_stock", "Can adjust stock (receipts, counts, corrections)"),
            ("transfer_stock", "Can transfer stock between warehouses"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.warehouse_id}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


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


class StockMovement(models.Model):
    """One line of the append-only ledger: a signed change of one level's on-hand."""

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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="movement_delta_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["sku", "warehouse", "-created_at"], name="movement_level_time"),
            models.Index(fields=["-created_at", "-id"], name="movement_time"),
            models.Index(fields=["reason", "-created_at"], name="movement_reason_time"),
            models.Index(fields=["reference"], name="movement_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.reason} ({self.reference})"


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
    """Units of one SKU held in one warehouse by a reservation."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="reservation_lines")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="reservationline_quantity_positive")]
        indexes = [models.Index(fields=["sku", "warehouse"], name="reservationline_level")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_id}@{self.warehouse_id}"


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
