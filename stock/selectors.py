"""Reads of the stock app: levels, ledger, reservations and SKU stock totals.

A reservation stops holding stock at `expires_at` even before anything records the
expiry: the stored `StockLevel.reserved` still includes the lines of overdue active
reservations, so every read subtracts them ("effective reserved").
"""
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import (
    BigIntegerField, Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from catalog.models import Category
from stock.exceptions import InvalidInput
from stock.models import (
    Reservation, ReservationLine, ReservationStatus, StockLevel, StockMovement, Warehouse,
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


def allocated() -> Cast:
    """A reservation line's units held in its level's `reserved` (`quantity - backordered`), as bigint."""
    return bigint("quantity") - bigint("backordered")


def bigint(expression) -> Cast:
    """A quantity column (int4) as bigint. Sums and comparisons of quantities go through it:
    `reserved + low_stock_threshold` of two values in range can leave int4's range."""
    return Cast(F(expression) if isinstance(expression, str) else expression, BigIntegerField())


def _sum_of(rows: QuerySet, expression) -> Coalesce:
    """`COALESCE((SELECT SUM(expression) FROM rows), 0)` for rows filtered on outer references (a bigint)."""
    total = rows.order_by().annotate(_one=Value(1)).values("_one").annotate(
        # SUM of bigint is numeric in PostgreSQL: cast back, or the figures read as Decimals.
        total=Cast(Sum(expression), output_field=BigIntegerField())
    ).values("total")
    return Coalesce(Subquery(total, output_field=BigIntegerField()), Value(0), output_field=BigIntegerField())


def overdue_reserved_for_level(*, now: datetime | None = None) -> Coalesce:
    """Units of an outer `StockLevel` held by overdue, unrecorded reservations."""
    lines = overdue_lines(now=now).filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"))
    return _sum_of(lines, allocated())


def with_effective_quantities(levels: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Annotate `effective_reserved`, `effective_available` and `effective_is_low` (the rule of
    `level_is_low`, in SQL)."""
    return levels.annotate(
        effective_reserved=bigint("reserved") - overdue_reserved_for_level(now=now),
    ).annotate(
        effective_available=bigint("on_hand") - F("effective_reserved"),
        effective_is_low=Case(
            When(effective_available__lte=F("low_stock_threshold"), then=Value(True)), default=Value(False),
        ),
    )


def level_is_low(*, available: int, threshold: int) -> bool:
    """The low-stock rule: a level is low when what is available is at or below its threshold.

    `with_effective_quantities` holds the same rule in SQL (`effective_is_low`).
    """
    return available <= threshold


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
        levels = levels.filter(on_hand__lte=bigint("reserved") + bigint("low_stock_threshold"))
    if "effective_available" not in levels.query.annotations:
        levels = with_effective_quantities(levels, now=now)
    return levels.filter(effective_is_low=low)


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

def _sku_level_sum(field: str) -> Coalesce:
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
    ).annotate(stock_available=F("stock_on_hand") - F("stock_reserved"))


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
    overdue = overdue_lines(now=now).filter(sku__product=OuterRef("pk"), sku__is_deleted=False)
    return products.annotate(
        available_total=_sum_of(levels, bigint("on_hand") - bigint("reserved")) + _sum_of(overdue, allocated()),
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
    sql = (
        "SELECT l.sku_id, l.on_hand, l.reserved - COALESCE(("
        f"SELECT SUM(rl.quantity - rl.backordered) FROM {ReservationLine._meta.db_table} rl"
        f" JOIN {Reservation._meta.db_table} r ON r.id = rl.reservation_id"
        " WHERE rl.sku_id = l.sku_id AND rl.warehouse_id = l.warehouse_id"
        " AND r.status = %s AND r.expires_at <= %s), 0)"
        f" FROM {StockLevel._meta.db_table} l WHERE l.sku_id IN ({', '.join(['%s'] * len(ids))})"
    )
    params = [ReservationStatus.ACTIVE, connection.ops.adapt_datetimefield_value(now or timezone.now()), *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for sku_id, on_hand, reserved in cursor.fetchall():
            figures = totals[sku_id]
            figures["on_hand"] += on_hand
            figures["reserved"] += reserved
    for figures in totals.values():
        figures["available"] = figures["on_hand"] - figures["reserved"]
    return totals


def attach_stock_totals(skus: Iterable, *, now: datetime | None = None) -> list:
    """Set `stock_on_hand`, `stock_reserved`, `stock_available` on each SKU of a page (1 query)."""
    skus = list(skus)
    missing = [sku for sku in skus if not hasattr(sku, "stock_available")]
    totals = sku_stock_totals([sku.pk for sku in missing], now=now)
    for sku in missing:
        figures = totals[sku.pk]
        sku.stock_on_hand, sku.stock_reserved, sku.stock_available = (
            figures["on_hand"], figures["reserved"], figures["available"],
        )
    return skus


def attach_effective_reserved(levels: Iterable[StockLevel], *, now: datetime | None = None) -> list[StockLevel]:
    """Set `effective_reserved` on levels loaded without the annotation (one query)."""
    levels = list(levels)
    pairs = {(lvl.sku_id, lvl.warehouse_id) for lvl in levels}
    if not pairs:
        return levels
    condition = Q()
    for sku_id, warehouse_id in pairs:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    overdue = defaultdict(int)
    rows = overdue_lines(now=now).filter(condition).order_by().values("sku_id", "warehouse_id").annotate(total=Sum(allocated()))
    for row in rows:
        overdue[(row["sku_id"], row["warehouse_id"])] = row["total"]
    for level in levels:
        level.effective_reserved = level.reserved - overdue[(level.sku_id, level.warehouse_id)]
    return levels


# --- Integrity (check_integrity) -------------------------------------------------------

def _level_label(level: dict) -> str:
    return f"stock level {level['id']} (sku {level['sku_id']}, warehouse {level['warehouse_id']})"


def ledger_drifts() -> list[str]:
    """Levels whose `on_hand` differs from the sum of their movements, and ledgers without a level.

    Compared in the database (one correlated sum per level over the ledger index), so
    only drifting rows come back.
    """
    ledger = StockMovement.objects.filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"))
    levels = (
        StockLevel.objects.annotate(ledger=_sum_of(ledger, "delta"))
        .exclude(on_hand=F("ledger")).order_by("sku_id", "warehouse_id")
    )
    drifts = [f"{_level_label(lvl)}: on_hand {lvl['on_hand']} != ledger sum {lvl['ledger']}"
              for lvl in levels.values("id", "sku_id", "warehouse_id", "on_hand", "ledger")]
    has_level = StockLevel.objects.filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"))
    orphans = (
        StockMovement.objects.filter(~Exists(has_level)).order_by("sku_id", "warehouse_id")
        .values("sku_id", "warehouse_id").annotate(total=Sum("delta")).exclude(total=0)
    )
    drifts += [f"sku {row['sku_id']}, warehouse {row['warehouse_id']}: ledger sum {row['total']} but no stock level"
               for row in orphans]
    return drifts


def reserved_drifts() -> list[str]:
    """Levels whose stored `reserved` differs from the lines of reservations stored as active.

    Overdue reservations not yet recorded as expired still count in both, so they are
    not drift.
    """
    active = ReservationLine.objects.filter(
        reservation__status=ReservationStatus.ACTIVE, sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"),
    )
    levels = (
        StockLevel.objects.annotate(held=_sum_of(active, allocated()))
        .exclude(reserved=F("held")).order_by("sku_id", "warehouse_id")
    )
    drifts = [f"{_level_label(lvl)}: reserved {lvl['reserved']} != active reservations {lvl['held']}"
              for lvl in levels.values("id", "sku_id", "warehouse_id", "reserved", "held")]
    has_level = StockLevel.objects.filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"))
    orphans = (
        ReservationLine.objects.filter(~Exists(has_level), reservation__status=ReservationStatus.ACTIVE)
        .order_by("sku_id", "warehouse_id").values("sku_id", "warehouse_id").annotate(total=Sum(allocated()))
    )
    drifts += [f"sku {row['sku_id']}, warehouse {row['warehouse_id']}: {row['total']} reserved by active "
               "reservations but no stock level" for row in orphans]
    return drifts


def category_tree_drifts() -> list[str]:
    """Problems of the django-mptt intervals: per tree, the (lft, rght) pairs must nest
    exactly as the parent links say, numbered 1..2n without gaps, with `level` the depth."""
    rows = Category.all_objects.order_by("tree_id", "lft").values_list("id", "parent_id", "tree_id", "lft", "rght", "level")
    by_id = {row[0]: row for row in rows}
    drifts: list[str] = []
    trees: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        trees[row[2]].append(row)
    for tree_id, nodes in trees.items():
        numbers = sorted([n[3] for n in nodes] + [n[4] for n in nodes])
        if numbers != list(range(1, 2 * len(nodes) + 1)):
            drifts.append(f"category tree {tree_id}: lft/rght are not exactly 1..{2 * len(nodes)}")
        stack: list[tuple] = []
        for node in nodes:  # in lft order
            pk, parent_id, _tree, lft, rght, level = node
            while stack and stack[-1][4] < lft:
                stack.pop()
            expected_parent = stack[-1][0] if stack else None
            if lft >= rght or (stack and rght >= stack[-1][4]):
                drifts.append(f"category {pk}: interval ({lft}, {rght}) does not nest in tree {tree_id}")
            if parent_id != expected_parent:
                drifts.append(f"category {pk}: parent is {parent_id} but the tree puts it under {expected_parent}")
            if level != len(stack):
                drifts.append(f"category {pk}: level {level} but depth {len(stack)}")
            stack.append(node)
        roots = [n for n in nodes if n[1] is None]
        if len(roots) != 1:
            drifts.append(f"category tree {tree_id}: {len(roots)} roots")
    for pk, parent_id, tree_id, *_ in rows:
        if parent_id is not None and parent_id in by_id and by_id[parent_id][2] != tree_id:
            drifts.append(f"category {pk}: in tree {tree_id} but its parent {parent_id} is in tree {by_id[parent_id][2]}")
    return drifts
