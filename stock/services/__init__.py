"""The stock app's writes. Import services from here: `from stock.services import stock_adjust`."""

from stock.services.backorders import MAX_BACKORDER_TTL_SECONDS
from stock.services.idempotency import (
    idempotency_abandon,
    idempotency_begin,
    idempotency_complete,
    idempotency_hold,
    idempotency_purge_expired,
    request_fingerprint,
)
from stock.services.inbound import (
    InboundLineInput,
    ReceiptLine,
    inbound_cancel,
    inbound_create,
    inbound_open,
    inbound_receive,
    inbound_update,
)
from stock.services.ledger import MAX_QUANTITY
from stock.services.levels import (
    ADJUSTMENT_REASONS,
    WRITE_OFF_STATES,
    AdjustmentLine,
    adjustment_lines_refused,
    stock_adjust,
    stock_adjust_bulk,
    stock_level_update_settings,
    stock_level_update_threshold,
    stock_receive,
    stock_transfer,
)
from stock.services.reorder import reorder_drafts_create
from stock.services.reservations import (
    CodedLine,
    ReservationRequestLine,
    reservation_commit,
    reservation_create,
    reservation_release,
    reservations_expire,
)
from stock.services.skus import sku_create_with_stock
from stock.services.states import STATE_MOVE_REASONS, stock_state_move
from stock.services.warehouses import (
    warehouse_create,
    warehouse_hard_delete,
    warehouse_restore,
    warehouse_soft_delete,
    warehouse_update,
)

__all__ = [
    "adjustment_lines_refused",
    "InboundLineInput",
    "MAX_BACKORDER_TTL_SECONDS",
    "ReceiptLine",
    "inbound_cancel",
    "inbound_create",
    "inbound_open",
    "inbound_receive",
    "inbound_update",
    "reorder_drafts_create",
    "ADJUSTMENT_REASONS",
    "MAX_QUANTITY",
    "STATE_MOVE_REASONS",
    "AdjustmentLine",
    "CodedLine",
    "ReservationRequestLine",
    "idempotency_abandon",
    "idempotency_begin",
    "idempotency_complete",
    "idempotency_hold",
    "idempotency_purge_expired",
    "request_fingerprint",
    "reservation_commit",
    "reservation_create",
    "reservation_release",
    "reservations_expire",
    "sku_create_with_stock",
    "stock_adjust",
    "stock_adjust_bulk",
    "stock_level_update_settings",
    "stock_level_update_threshold",
    "stock_state_move",
    "stock_receive",
    "stock_transfer",
    "WRITE_OFF_STATES",
    "warehouse_create",
    "warehouse_hard_delete",
    "warehouse_restore",
    "warehouse_soft_delete",
    "warehouse_update",
]
