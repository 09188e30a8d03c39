"""`manage.py import_stock_count FILE [--warehouse W] [--dry-run]`: apply a cycle count sheet."""

import time

from django.core.management.base import BaseCommand, CommandError

from inventory_site.exceptions import DomainError
from inventory_site.management.progress import progress_bar
from stock.services.counts import stock_count_apply, stock_count_file_lines


class Command(BaseCommand):
    help = (
        "Apply a cycle count from a CSV file with the columns sku_code, counted and optionally "
        "warehouse (code). Each level is set to the counted quantity; every difference is written "
        "as one `count` movement, equal counts write nothing. A count below the units reserved is "
        "refused. Every bad line is listed; one bad line and nothing is changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV count sheet: sku_code,counted[,warehouse].")
        parser.add_argument(
            "--warehouse", help="Warehouse code for lines without one (default: the default warehouse)."
        )
        parser.add_argument("--reference", default="", help="Reference stored on the movements, e.g. COUNT-2026-11.")
        parser.add_argument("--dry-run", action="store_true", help="Check and list the differences, change nothing.")

    def handle(self, *args, file: str, warehouse: str | None, reference: str, dry_run: bool, **options):
        started = time.monotonic()
        try:
            with progress_bar(self, desc="reading", unit="lines") as bar:
                lines = []
                for line in stock_count_file_lines(file):
                    lines.append(line)
                    bar.update(1)
            with progress_bar(self, total=len(lines), desc="counting", unit="lines") as bar:
                result = stock_count_apply(
                    lines=lines,
                    warehouse_code=warehouse,
                    dry_run=dry_run,
                    progress=bar.update,
                    reference=reference or f"COUNT-{time.strftime('%Y%m%d')}",
                )
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
        except DomainError as exc:
            for where, reason in (exc.errors or {}).items():
                self.stderr.write(f"{where}: {reason}")
            raise CommandError(exc.message) from None
        if dry_run or options["verbosity"] > 1:
            for line_no, sku_code, warehouse_code, old, new in result.differences:
                self.stdout.write(f"line {line_no}: {sku_code} in {warehouse_code}: {old} -> {new} ({new - old:+d})")
        prefix = "Dry run, nothing changed: would count" if dry_run else "Counted"
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix} {result.lines} lines: {result.changed} updated ({result.changed} count movements, "
                f"+{result.units_added}/-{result.units_removed} units), {result.unchanged} unchanged "
                f"in {time.monotonic() - started:.1f}s."
            )
        )
