"""Domain errors of the stock app; `inventory_site.api.exceptions` maps their codes to HTTP."""

from collections.abc import Mapping

from inventory_site.exceptions import DomainError, Duplicate, HasDependents, InvalidInput, NotFound  # noqa: F401


class InsufficientStock(DomainError):
    """Not enough available (or on-hand) units for the change.

    `errors` is `{"available": a, "requested": r}` for one level, or
    `{"lines": {"<index>": {...}}}` when several lines were checked.
    """

    code = "insufficient_stock"
    default_message = "Not enough stock available."


class HasReservedStock(DomainError):
    """A SKU to be deleted still holds stock reserved for orders."""

    code = "has_reserved_stock"
    default_message = "Some SKUs have reserved stock; commit or release their reservations first."


class ReservationNotActive(DomainError):
    code = "reservation_not_active"
    default_message = "The reservation is not active."


class ReservationExpired(DomainError):
    code = "reservation_expired"
    default_message = "The reservation expired before it was committed; its stock was released."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request."


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"
    default_message = "A request with this Idempotency-Key is still being processed; retry later."


class OnHandConflict(DomainError):
    """`expected_on_hand` did not match: a compare-and-set on the counted quantity."""

    code = "version_conflict"
    default_message = "On-hand changed since it was counted."

    def __init__(self, current_on_hand: int, message: str | None = None):
        super().__init__(message, errors={"current_on_hand": current_on_hand})
        self.current_on_hand = current_on_hand


class LinesRefused(DomainError):
    """Some lines of an all-or-nothing request were refused; `errors` names them by index.

    The code is that of the first refused line, so a short line reads as
    `insufficient_stock` and a bad one as `validation_error`; `sku_ids` are the SKUs of the
    short lines.
    """

    def __init__(self, errors: Mapping[int, DomainError], *, sku_ids: frozenset[int] = frozenset()):
        first = errors[min(errors)]
        self.code = first.code
        self.sku_ids = sku_ids
        super().__init__(first.message, errors={"lines": {str(i): e.errors for i, e in sorted(errors.items())}})


class OverReceipt(DomainError):
    """A receipt would take a line past what the shipment expects (without `allow_over_receipt`)."""

    code = "over_receipt"
    default_message = "More received than the shipment expects; send allow_over_receipt to accept it."


class InboundNotOpen(DomainError):
    """The inbound shipment's status does not allow this (receive a draft, edit an open one...)."""

    code = "inbound_not_open"
    default_message = "The inbound shipment is not open."


class Backordered(DomainError):
    """A reservation with backordered lines cannot be committed before every unit is allocated."""

    code = "backordered"
    default_message = "Some lines of the reservation still wait on incoming stock."
