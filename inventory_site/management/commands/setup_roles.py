"""`manage.py setup_roles`: create the staff groups and their permissions (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from inventory_site.roles import roles_setup


class Command(BaseCommand):
    help = (
        "Create or update the groups Merchandiser, Stock clerk, Integration and Inventory manager "
        "with their permissions. Safe to run again: it resets each group to its defined permissions."
    )

    def handle(self, *args, **options):
        try:
            counts = roles_setup()
        except LookupError as exc:
            raise CommandError(f"{exc}. Run `manage.py migrate` first.") from exc
        for group, count in counts.items():
            self.stdout.write(f"{group}: {count} permissions")
        self.stdout.write(self.style.SUCCESS("Roles are set up."))
