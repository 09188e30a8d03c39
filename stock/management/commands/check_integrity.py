"""`manage.py check_integrity [--fix]`: every quantity state of every level, the category tree and
the kept number of active SKUs."""

from django.core.management.base import BaseCommand

from catalog.models import Category
from catalog.selectors import sku_count_drifts
from catalog.services import sku_count_repair
from stock.selectors_integrity import category_tree_drifts, stock_drifts


class Command(BaseCommand):
    help = (
        "Check that every stock level's on_hand equals the sum of its movements; damaged and "
        "quality_control the units moved into minus out of them; reserved the allocated units and "
        "backordered the backordered units of lines of reservations stored as active (overdue ones "
        "not yet recorded are not drift); incoming what open inbound lines still expect; and that "
        "the category tree (django-mptt) is sound; and that the kept number of active SKUs (PostgreSQL) "
        "equals a count. Prints each drift and exits 1 if there is any. "
        "--fix rebuilds the category tree and recounts the active SKUs; stock is never changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Rebuild the category tree and recount the active SKUs (never touches stock).",
        )

    def handle(self, *args, fix=False, **options):
        tree = category_tree_drifts()
        if tree and fix:
            Category.all_objects.rebuild()
            self.stdout.write(f"Rebuilt the category tree ({len(tree)} problem(s) found before).")
            tree = category_tree_drifts()
        counts = sku_count_drifts()
        if counts and fix:
            sku_count_repair()
            self.stdout.write(f"Recounted the active SKUs ({counts[0]} before).")
            counts = sku_count_drifts()
        drifts = stock_drifts() + tree + counts
        for drift in drifts:
            self.stdout.write(f"DRIFT {drift}")
        if drifts:
            self.stderr.write(f"{len(drifts)} drift(s) found.")
            raise SystemExit(1)
        self.stdout.write(
            "OK: ledger, quantity states, reserved, backordered and incoming quantities and category tree agree."
        )
