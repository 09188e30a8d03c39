"""`manage.py move_stock_state SKU WAREHOUSE FROM TO QUANTITY --reason R [--note N] [--reference REF]`."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import SKU
from inventory_site.exceptions import DomainError
from stock.models import StockState
from stock.selectors import warehouse_by_code
from stock.services import STATE_MOVE_REASONS, stock_state_move


class Command(BaseCommand):
    help = (
        "Move units of one stock level between states (sellable, damaged, quality_control), as "
        "POST /api/v1/stock/state-moves/ does: on-hand stays, the ledger gets one movement with delta 0. "
        "Moving more than the source state holds is refused and changes nothing."
    )

    def add_arguments(self, parser):
        states = list(StockState.values)
        parser.add_argument("sku_code", help="The SKU's code (any case).")
        parser.add_argument("warehouse", help="The warehouse's code, e.g. MAIN.")
        parser.add_argument("from_state", metavar="from", choices=states, help=f"One of: {', '.join(states)}.")
        parser.add_argument("to_state", metavar="to", choices=states, help="Another state than from.")
        parser.add_argument("quantity", type=int, help="Units to move (1 or more).")
        parser.add_argument("--reason", required=True, choices=[str(r) for r in STATE_MOVE_REASONS])
        parser.add_argument("--note", default="", help="Free text stored on the movement.")
        parser.add_argument("--reference", default="", help="Stored on the movement, e.g. an inspection number.")

    def handle(
        self,
        *args,
        sku_code: str,
        warehouse: str,
        from_state: str,
        to_state: str,
        quantity: int,
        reason: str,
        note: str,
        reference: str,
        **options,
    ):
        sku = SKU.all_objects.with_code(sku_code).first()
        if sku is None:
            raise CommandError(f"Unknown SKU {sku_code!r}; nothing was moved.")
        try:
            movement, level = stock_state_move(
                sku=sku,
                warehouse=warehouse_by_code(warehouse),
                quantity=quantity,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
                reference=reference,
                note=note,
            )
        except DomainError as exc:
            for field, reasons in (exc.errors or {}).items():
                self.stderr.write(f"{field}: {reasons}")
            raise CommandError(f"{exc.message} Nothing was moved.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Moved {quantity} unit(s) of {sku.sku_code} in {level.warehouse.code} from {from_state} to {to_state} "
                f"(movement {movement.pk}): on hand {level.on_hand}, sellable {level.sellable}, "
                f"damaged {level.damaged}, "
                f"quality control {level.quality_control}, available {level.available}."
            )
        )
