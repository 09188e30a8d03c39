"""Reads of the stock app: levels, ledger, reservations and SKU stock totals.

A reservation stops holding stock at `expires_at` even before anything records the
expiry: the stored `StockLevel.reserved` still includes the lines of overdue active
reservations, so every read subtracts them ("effective reserved").

`available` has one definition, the database function `stock_available` (migration stock
0006): `max(0, on_hand - reserved - damaged - quality_control - safety_stock)`, in bigint.
Every read, filter, ordering, report, event and reservation calls it (`available_sql`,
`LevelAvailable`); Python never computes it.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Combinable, CombinedExpression
from django.db.models.functions import Cast, Coalesce
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from stock.exceptions import InvalidInput
from stock.models import (
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Warehouse,
)


def warehouse_default() -> Warehouse | None:
    """The default warehouse (`MAIN` after the first migrate)."""
    return Warehouse.objects.filter(is_default=True).first()


def warehouse_by_code(code: str) -> Warehouse:
    """The active warehouse with this code (any case); `InvalidInput` naming the code otherwise."""
    code = code.strip().upper()
    warehouse = Warehouse.all_objects.filter(code=code).first()
    if warehouse is None:
        raise InvalidInput(f"Unknown warehouse {code!r}.", errors={"warehouse": [f"No warehouse with code {code!r}."]})
    if warehouse.is_deleted:
        raise InvalidInput(f"Warehouse {code!r} is deleted.", errors={"warehouse": [f"Warehouse {code!r} is deleted."]})
    return warehouse


def levels_holding_stock(levels: QuerySet) -> QuerySet:
    """The levels that hold units, on hand or reserved."""
    return levels.filter(Q(on_hand__gt=0) | Q(reserved__gt=0))


def overdue_lines(*, now: datetime | None = None) -> QuerySet:
    """Lines of reservations still stored as active although `expires_at` has passed."""
    return ReservationLine.objects.filter(
        reservation__status=ReservationStatus.ACTIVE,
        reservation__expires_at__lte=now or timezone.now(),
    )


def allocated() -> CombinedExpression:
    """A reservation line's units held in its level's `reserved` (`quantity - backordered`), as bigint."""
    return bigint("quantity") - bigint("backordered")


def bigint(expression: str | Combinable) -> Cast:
    """A quantity column (int4) as bigint. Sums and comparisons of quantities go through it:
    `reserved + low_stock_threshold` of two values in range can leave int4's range."""
    return Cast(F(expression) if isinstance(expression, str) else expression, BigIntegerField())


def _sum_of(rows: QuerySet[Any], expression: str | Combinable) -> Coalesce:
    """`COALESCE((SELECT SUM(expression) FROM rows), 0)` for rows filtered on outer references (a bigint)."""
    total = (
        rows.order_by()
        .annotate(_one=Value(1))
        .values("_one")
        .annotate(
            # SUM of bigint is numeric in PostgreSQL: cast back, or the figures read as Decimals.
            total=Cast(Sum(expression), output_field=BigIntegerField())
        )
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=BigIntegerField()), Value(0), output_field=BigIntegerField())


def overdue_reserved_for_level(*, now: datetime | None = None) -> Coalesce:
    """Units of an outer `StockLevel` held by overdue, unrecorded reservations."""
    lines = overdue_lines(now=now).filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"))
    return _sum_of(lines, allocated())


def available_sql(*, on_hand: str, reserved: str, damaged: str, quality_control: str, safety_stock: str) -> str:
    """A call of the database's `stock_available` over the given column expressions (`reserved`
    may be the effective reserved: stored minus overdue). Plain SQL and IMMUTABLE, so PostgreSQL
    inlines it. The ORM form is `LevelAvailable`; raw statements call this directly."""
    # (`reserved` as bigint: an effective reserved built from a SUM is numeric.)
    return f"stock_available({on_hand}, ({reserved})::bigint, {damaged}, {quality_control}, {safety_stock})"


def level_available_sql(alias: str, *, reserved: str | None = None) -> str:
    """`available_sql` over the columns of the level table aliased `alias` (`reserved` overrides its reserved)."""
    return available_sql(
        on_hand=f"{alias}.on_hand",
        reserved=reserved or f"{alias}.reserved",
        damaged=f"{alias}.damaged",
        quality_control=f"{alias}.quality_control",
        safety_stock=f"{alias}.safety_stock",
    )


class LevelAvailable(Expression):
    """`available_sql` in the ORM, over a `StockLevel`'s columns (`prefix`: a relation to one, e.g.
    `"stock_levels__"`); `reserved` replaces the stored reserved (the effective one)."""

    output_field = BigIntegerField()

    def __init__(self, *, reserved: Combinable | None = None, prefix: str = "") -> None:
        super().__init__()
        # F() at first; resolved to column expressions before `as_sql` compiles them.
        self.parts: list[Any] = [
            F(f"{prefix}{name}") for name in ("on_hand", "reserved", "damaged", "quality_control", "safety_stock")
        ]
        if reserved is not None:
            self.parts[1] = reserved

    def get_source_expressions(self) -> list[Any]:
        return self.parts

    def set_source_expressions(self, exprs: Sequence[Combinable]) -> None:
        self.parts = list(exprs)

    def as_sql(  # type: ignore[override]  # params as a list, which Django takes as it takes a tuple
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        sqls: list[str] = []
        params: list[Any] = []
        for part in self.parts:
            sql, part_params = compiler.compile(part)
            sqls.append(sql)
            params.extend(part_params)
        on_hand, reserved, damaged, quality_control, safety_stock = sqls
        return available_sql(
            on_hand=on_hand,
            reserved=reserved,
            damaged=damaged,
            quality_control=quality_control,
            safety_stock=safety_stock,
        ), params


def with_effective_quantities(levels: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Annotate `effective_reserved`, `effective_available` and `effective_is_low` (the
    low-stock rule: available at or below the level's threshold)."""
    return (
        levels.annotate(
            effective_reserved=bigint("reserved") - overdue_reserved_for_level(now=now),
        )
        .annotate(
            effective_available=LevelAvailable(reserved=F("effective_reserved")),
        )
        .annotate(
            effective_is_low=Case(
                When(effective_available__lte=F("low_stock_threshold"), then=Value(True)),
                default=Value(False),
            ),
        )
    )


def not_held_back(levels: QuerySet, *, at_most: str | None = None) -> QuerySet:
    """Levels whose stored-reserved available is 0 (or at most the column `at_most`): the cheap
    prefilter of every "low"/"empty" test. Overdue reservations only add to what is
    available, so a level low as of now is low by its stored figures too."""
    stored = levels.alias(stored_available=LevelAvailable())
    return stored.filter(stored_available__lte=F(at_most) if at_most else 0)


def stock_level_list() -> QuerySet:
    """Levels with SKU and warehouse joined and quantities as of now."""
    return with_effective_quantities(StockLevel.objects.select_related("sku", "warehouse"))


def stock_levels_low(levels: QuerySet, low: bool = True, *, now: datetime | None = None) -> QuerySet:
    """Levels whose available quantity is at (or, with `low=False`, above) its threshold.

    Overdue reservations only ever add to what is available, so a level that reads as low
    is also low by its stored `reserved`: that cheap test comes first and lets PostgreSQL
    skip the overdue-reservations subquery for every level that is clearly not low.
    """
    if low:
        levels = not_held_back(levels, at_most="low_stock_threshold")
    if "effective_available" not in levels.query.annotations:
        levels = with_effective_quantities(levels, now=now)
    return levels.filter(effective_is_low=low)


def stock_levels_in_stock(levels: QuerySet, in_stock: bool = True, *, now: datetime | None = None) -> QuerySet:
    """Levels with something available as of now (`in_stock=False`: nothing)."""
    if not in_stock:
        levels = not_held_back(levels)
    if "effective_available" not in levels.query.annotations:
        levels = with_effective_quantities(levels, now=now)
    return levels.filter(effective_available__gt=0) if in_stock else levels.filter(effective_available__lte=0)


def movement_list() -> QuerySet:
    """The ledger, newest first, with what a row shows joined."""
    return StockMovement.objects.select_related("sku", "warehouse", "created_by")


def reservation_list() -> QuerySet:
    """Reservations, newest first, with their lines."""
    return Reservation.objects.prefetch_related("lines__sku", "lines__warehouse").order_by("-created_at", "-id")


def reservation_status(reservation: Reservation, *, now: datetime | None = None) -> str:
    """The status a reservation reads as: an overdue active one is `expired`."""
    if reservation.status == ReservationStatus.ACTIVE and reservation.expires_at <= (now or timezone.now()):
        return ReservationStatus.EXPIRED
    return reservation.status


def reservations_with_status(reservations: QuerySet, status: str, *, now: datetime | None = None) -> QuerySet:
    """Filter by the status as read (`expired` includes overdue active reservations)."""
    now = now or timezone.now()
    overdue = Q(status=ReservationStatus.ACTIVE, expires_at__lte=now)
    if status == ReservationStatus.ACTIVE:
        return reservations.filter(status=status, expires_at__gt=now)
    if status == ReservationStatus.EXPIRED:
        return reservations.filter(Q(status=status) | overdue)
    return reservations.filter(status=status)


# --- SKU stock totals ---------------------------------------------------------------


def _sku_level_sum(field: str | Combinable) -> Coalesce:
    return _sum_of(StockLevel.objects.filter(sku_id=OuterRef("pk")), field)


def with_stock_totals(skus: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Annotate SKUs with `stock_on_hand`, `stock_reserved` and `stock_available` (all warehouses).

    One correlated subquery per figure: use it to filter or order by stock. To show
    the figures of a page, prefer `attach_stock_totals` on the page, which sums only
    the rows shown.
    """
    overdue = _sum_of(overdue_lines(now=now).filter(sku_id=OuterRef("pk")), allocated())
    return skus.annotate(
        stock_on_hand=_sku_level_sum("on_hand"),
        stock_reserved=_sku_level_sum("reserved") - overdue,
        stock_available=_sku_level_sum(_effective_available(now=now)),
    )


def _effective_available(*, now: datetime | None = None) -> LevelAvailable:
    """A level's available as of now, per level (each floored at 0), for sums over levels."""
    return LevelAvailable(reserved=bigint("reserved") - overdue_reserved_for_level(now=now))


def skus_in_stock(skus: QuerySet, in_stock: bool = True, *, now: datetime | None = None) -> QuerySet:
    """SKUs with something available (`in_stock=False`: available <= 0)."""
    if "stock_available" not in skus.query.annotations:
        skus = with_stock_totals(skus, now=now)
    return skus.filter(stock_available__gt=0) if in_stock else skus.filter(stock_available__lte=0)


def skus_low_stock(skus: QuerySet, low: bool = True, *, now: datetime | None = None) -> QuerySet:
    """SKUs with some level at or below its threshold (`low=False`: none)."""
    low_levels = stock_levels_low(StockLevel.objects.filter(sku_id=OuterRef("pk")), now=now)
    return skus.filter(Exists(low_levels)) if low else skus.exclude(Exists(low_levels))


def skus_with_stock_status(skus: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """`with_stock_totals` plus `has_low_level`, for lists that show or filter by stock status."""
    low_levels = stock_levels_low(StockLevel.objects.filter(sku_id=OuterRef("pk")), now=now)
    return with_stock_totals(skus, now=now).annotate(has_low_level=Exists(low_levels))


def products_with_stock_status(products: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Products with `available_total` and `has_low_level`, over their active SKUs."""
    levels = StockLevel.objects.filter(sku__product=OuterRef("pk"), sku__is_deleted=False)
    return products.annotate(
        available_total=_sum_of(levels, _effective_available(now=now)),
        has_low_level=Exists(stock_levels_low(levels, now=now)),
    )


def stock_status(available: int, has_low_level: bool, sku_total: int | None = None) -> str:
    """`none` (no SKUs), `out` (nothing available), `low` (a level at or below its threshold) or `in`.

    `with_stock_status` is the same rule as a filter.
    """
    if sku_total == 0:
        return "none"
    if available <= 0:
        return "out"
    return "low" if has_low_level else "in"


def with_stock_status(rows: QuerySet, status: str, *, available_field: str) -> QuerySet:
    """Rows of `skus_with_stock_status` (`available_field="stock_available"`) or
    `products_with_stock_status` (`"available_total"`) whose `stock_status` is `out`, `low` or `in`."""
    if status == "out":
        return rows.filter(**{f"{available_field}__lte": 0})
    return rows.filter(**{f"{available_field}__gt": 0}, has_low_level=status == "low")


def sku_stock_totals(sku_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """`{sku_id: {"on_hand", "reserved", "available"}}` for these SKUs, in one query."""
    ids = list(sku_ids)
    totals = {pk: {"on_hand": 0, "reserved": 0, "available": 0} for pk in ids}
    if not ids:
        return totals
    # The same query as `StockLevel.objects.filter(sku_id__in=ids).annotate(overdue=
    # overdue_reserved_for_level())`, written out: building and compiling that correlated
    # subquery cost about 4 ms of CPU on every page of SKUs, several times the query itself.
    when = [ReservationStatus.ACTIVE, connection.ops.adapt_datetimefield_value(now or timezone.now())]
    join, reserved = f"CROSS JOIN LATERAL (SELECT {overdue_sql('l')} AS overdue) o", "l.reserved - o.overdue"
    sql = (
        f"SELECT l.sku_id, l.on_hand, {reserved}, {level_available_sql('l', reserved=reserved)}"
        f" FROM {StockLevel._meta.db_table} l {join} WHERE l.sku_id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*when, *ids])
        for sku_id, on_hand, reserved, available in cursor.fetchall():
            figures = totals[sku_id]
            figures["on_hand"] += on_hand
            figures["reserved"] += reserved
            figures["available"] += available
    return totals


def overdue_sql(alias: str, *, status: str = "%s", now: str = "%s") -> str:
    """A scalar subquery: units of the level aliased `alias` held by overdue active reservations,
    in bigint (`status`, `now`: the placeholders of the active status and of now)."""
    return (
        "(SELECT COALESCE(SUM(CAST(rl.quantity AS bigint) - rl.backordered), 0)"
        f" FROM {ReservationLine._meta.db_table} rl"
        f" JOIN {Reservation._meta.db_table} r ON r.id = rl.reservation_id"
        f" WHERE rl.sku_id = {alias}.sku_id AND rl.warehouse_id = {alias}.warehouse_id"
        f" AND r.status = {status} AND r.expires_at <= {now})"
    )


def attach_stock_totals(skus: Iterable, *, now: datetime | None = None) -> list:
    """Set `stock_on_hand`, `stock_reserved`, `stock_available` on each SKU of a page (1 query)."""
    skus = list(skus)
    missing = [sku for sku in skus if not hasattr(sku, "stock_available")]
    totals = sku_stock_totals([sku.pk for sku in missing], now=now)
    for sku in missing:
        figures = totals[sku.pk]
        sku.stock_on_hand, sku.stock_reserved, sku.stock_available = (
            figures["on_hand"],
            figures["reserved"],
            figures["available"],
        )
    return skus


def attach_effective_reserved(levels: Iterable[StockLevel], *, now: datetime | None = None) -> list[StockLevel]:
    """Set `effective_reserved`, `effective_available` and `effective_is_low` on levels loaded
    without them, as the database now holds them (one query)."""
    levels = list(levels)
    if not levels:
        return levels
    figures = {
        pk: (reserved, available, is_low)
        for pk, reserved, available, is_low in with_effective_quantities(
            StockLevel.objects.filter(pk__in=[level.pk for level in levels]),
            now=now,
        ).values_list("pk", "effective_reserved", "effective_available", "effective_is_low")
    }
    for level in levels:
        level.effective_reserved, level.effective_available, level.effective_is_low = figures[level.pk]
    return levels
