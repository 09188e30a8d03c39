"""CHECK constraints: on-hand and a movement's balance are never negative (with the existing
reserved >= 0, reserved <= on_hand and threshold >= 0)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0003_drop_redundant_indexes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("on_hand__gte", 0)), name="stocklevel_on_hand_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(("balance_after__gte", 0)), name="movement_balance_not_negative"
            ),
        ),
    ]
