"""Integrity checks of `check_integrity`: every stored quantity of a level against what it is
derived from (the ledger, reservation lines, inbound lines), and the category tree.

Each check compares in the database (one correlated sum per level), so only drifting rows
come back.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Exists, Expression, F, Model, OuterRef, QuerySet, Sum

from catalog.models import Category
from stock.models import (
    INBOUND_OPEN_STATUSES,
    InboundLine,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockState,
)
from stock.selectors import _sum_of, allocated

_M = TypeVar("_M", bound=Model)


def _level_label(level: Mapping[str, Any]) -> str:
    return f"stock level {level['id']} (sku {level['sku_id']}, warehouse {level['warehouse_id']})"


def _drifting(field: str, expected: Expression, describe: str) -> list[str]:
    """Levels whose stored `field` differs from `expected` (a bigint expression over the level)."""
    levels = (
        StockLevel.objects.annotate(expected=expected)
        .exclude(**{field: F("expected")})
        .order_by("sku_id", "warehouse_id")
    )
    return [
        f"{_level_label(lvl)}: {field} {lvl[field]} != {describe} {lvl['expected']}"
        for lvl in levels.values("id", "sku_id", "warehouse_id", field, "expected")
    ]


def _of_level(rows: QuerySet[_M]) -> QuerySet[_M]:
    return rows.filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"))


def ledger_drifts() -> list[str]:
    """Levels whose `on_hand` differs from the sum of their movements, and ledgers without a level."""
    drifts = _drifting("on_hand", _sum_of(_of_level(StockMovement.objects.all()), "delta"), "ledger sum")
    has_level = _of_level(StockLevel.objects.all())
    orphans = (
        StockMovement.objects.filter(~Exists(has_level))
        .order_by("sku_id", "warehouse_id")
        .values("sku_id", "warehouse_id")
        .annotate(total=Sum("delta"))
        .exclude(total=0)
    )
    drifts += [
        f"sku {row['sku_id']}, warehouse {row['warehouse_id']}: ledger sum {row['total']} but no stock level"
        for row in orphans
    ]
    return drifts


def state_drifts() -> list[str]:
    """Levels whose `damaged` or `quality_control` differs from the units their movements moved
    into that state minus those moved out of it."""
    drifts = []
    for state in (StockState.DAMAGED, StockState.QUALITY_CONTROL):
        moves = _of_level(StockMovement.objects.all())
        into = _sum_of(moves.filter(state_to=state), "quantity")
        out = _sum_of(moves.filter(state_from=state), "quantity")
        drifts += _drifting(str(state), into - out, "ledger moves")
    return drifts


def _active_lines() -> QuerySet[ReservationLine]:
    return ReservationLine.objects.filter(reservation__status=ReservationStatus.ACTIVE)


def reserved_drifts() -> list[str]:
    """Levels whose stored `reserved` differs from the allocated units (quantity - backordered) of
    lines of reservations stored as active, and whose `backordered` differs from those lines'
    backordered units.

    Overdue reservations not yet recorded as expired still count in both, so they are
    not drift.
    """
    drifts = _drifting("reserved", _sum_of(_of_level(_active_lines()), allocated()), "active reservations")
    drifts += _drifting("backordered", _sum_of(_of_level(_active_lines()), "backordered"), "backordered lines")
    has_level = _of_level(StockLevel.objects.all())
    orphans = (
        _active_lines()
        .filter(~Exists(has_level))
        .order_by("sku_id", "warehouse_id")
        .values("sku_id", "warehouse_id")
        .annotate(total=Sum("quantity"))
    )
    drifts += [
        f"sku {row['sku_id']}, warehouse {row['warehouse_id']}: {row['total']} reserved by active "
        "reservations but no stock level"
        for row in orphans
    ]
    return drifts


def incoming_drifts() -> list[str]:
    """Levels whose `incoming` differs from what open inbound lines to their warehouse still
    expect (expected minus received per line, never below 0)."""
    lines = InboundLine.objects.filter(
        shipment__status__in=INBOUND_OPEN_STATUSES,
        sku_id=OuterRef("sku_id"),
        shipment__warehouse_id=OuterRef("warehouse_id"),
        quantity_expected__gt=F("quantity_received"),
    )
    return _drifting("incoming", _sum_of(lines, F("quantity_expected") - F("quantity_received")), "open inbound lines")


def stock_drifts() -> list[str]:
    """Every stock check above, in order."""
    return ledger_drifts() + state_drifts() + reserved_drifts() + incoming_drifts()


def category_tree_drifts() -> list[str]:
    """Problems of the django-mptt intervals: per tree, the (lft, rght) pairs must nest
    exactly as the parent links say, numbered 1..2n without gaps, with `level` the depth."""
    rows = Category.all_objects.order_by("tree_id", "lft").values_list(
        "id", "parent_id", "tree_id", "lft", "rght", "level"
    )
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
            drifts.append(
                f"category {pk}: in tree {tree_id} but its parent {parent_id} is in tree {by_id[parent_id][2]}"
            )
    return drifts
