"""`manage.py low_stock_report [--format table|csv]`: levels at or below their threshold."""

import csv
import time

from django.core.management.base import BaseCommand, CommandError

from inventory_site.exceptions import DomainError
from inventory_site.management.output import discard_after_broken_pipe, raw_stream
from stock.selectors import warehouse_by_code
from stock.selectors_reports import low_stock_report_levels

COLUMNS = (
    "warehouse",
    "sku_code",
    "product",
    "on_hand",
    "reserved",
    "damaged",
    "quality_control",
    "safety_stock",
    "available",
    "incoming",
    "backordered",
    "threshold",
    "shortfall",
)


class Command(BaseCommand):
    help = (
        "List stock levels whose available quantity (on hand minus reserved, damaged, in quality "
        "control and safety stock, never below 0) is at or below their low-stock threshold, the "
        "furthest below first, with every quantity state. Table for people, CSV for scripts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("table", "csv"), default="table", help="Default: table.")
        parser.add_argument("--warehouse", help="Only this warehouse (code).")

    def handle(self, *args, format: str, warehouse: str | None, **options):
        started = time.monotonic()
        try:
            only = warehouse_by_code(warehouse) if warehouse is not None else None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        rows = (
            (
                level.warehouse.code,
                level.sku.sku_code,
                level.sku.product.name,
                level.on_hand,
                level.effective_reserved,
                level.damaged,
                level.quality_control,
                level.safety_stock,
                level.effective_available,
                level.incoming,
                level.backordered,
                level.low_stock_threshold,
                level.shortfall,
            )
            for level in low_stock_report_levels(warehouse=only).iterator(chunk_size=2000)
        )
        if format == "csv":
            writer = csv.writer(raw_stream(self.stdout), lineterminator="\n")
            count = 0
            try:
                writer.writerow(COLUMNS)
                for row in rows:
                    writer.writerow(row)
                    count += 1
            except BrokenPipeError:
                discard_after_broken_pipe(raw_stream(self.stdout))
                return
            self.stderr.write(f"{count} low stock levels ({time.monotonic() - started:.1f}s).")
            return
        table = list(rows)
        widths = [max([len(column), *(len(str(row[i])) for row in table)]) for i, column in enumerate(COLUMNS)]
        numeric = {i for i, column in enumerate(COLUMNS) if i >= 3}
        product_width = min(widths[2], 40)
        widths[2] = product_width

        def line(values) -> str:
            cells = []
            for i, value in enumerate(values):
                text = str(value)[: widths[i]]
                cells.append(text.rjust(widths[i]) if i in numeric else text.ljust(widths[i]))
            return "  ".join(cells).rstrip()

        if table:
            self.stdout.write(line(COLUMNS))
            self.stdout.write(line("-" * w for w in widths))
            for row in table:
                self.stdout.write(line(row))
        self.stdout.write(f"{len(table)} low stock levels ({time.monotonic() - started:.1f}s).")
