"""`manage.py release_expired_reservations`: record the expiry of overdue reservations (for cron)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from stock.services import idempotency_purge_expired, reservations_expire


class Command(BaseCommand):
    help = (
        "Record as expired every active reservation past its expires_at, giving its units back "
        "to the stock levels (and dropping its backordered units); also forget Idempotency-Keys older "
        "than IDEMPOTENCY_KEY_TTL_HOURS. "
        "Safe to run at any time and in parallel with traffic."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=None, help="Expire at most this many reservations.")

    def handle(self, *args, batch=None, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1.")
        bar = None

        def progress(step: int) -> None:
            nonlocal bar
            if bar is None:  # first call: the number found
                bar = tqdm(total=step, unit="reservation", disable=not sys.stderr.isatty() or step < 500)
            else:
                bar.update(1)

        try:
            expired = reservations_expire(limit=batch, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        purged = idempotency_purge_expired()
        self.stdout.write(f"Expired {expired} reservation(s); forgot {purged} idempotency key(s).")
