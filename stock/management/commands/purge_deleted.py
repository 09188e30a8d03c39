"""`manage.py purge_deleted --older-than DAYS [--dry-run]`: hard-delete soft-deleted rows past retention."""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from stock.services.purge import soft_deleted_purge


def days(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Permanently delete rows that were soft-deleted more than DAYS days ago: SKUs, then "
        "products, then categories (leaves first), then warehouses. Rows the stock ledger still "
        "needs are kept: SKUs and warehouses holding stock or named by movements or reservation "
        "lines, products that still have SKUs, categories that still have children or products. "
        "Change history is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=days,
            required=True,
            metavar="DAYS",
            help="Retention in days (0 purges everything already deleted).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted, delete nothing.")

    def handle(self, *args, older_than: int, dry_run: bool, **options):
        started = time.monotonic()
        try:
            result = soft_deleted_purge(older_than=timedelta(days=older_than), dry_run=dry_run)
        except OverflowError:
            raise CommandError(f"--older-than {older_than} is too large.") from None
        if dry_run or options["verbosity"] > 1:
            for label in result.listed:
                self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {label}")
            if len(result.listed) < result.total:
                self.stdout.write(f"... and {result.total - len(result.listed)} more")
        purged = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in result.purged.items())
        kept = ", ".join(f"{count} {name}" for name, count in result.kept.items() if count)
        verb = "Dry run, nothing deleted; would purge" if dry_run else "Purged"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}: {purged}; kept for the ledger: {kept or 'none'} ({time.monotonic() - started:.1f}s)."
            )
        )
