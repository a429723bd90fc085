"""``Business.domain_changed_at``: when the domain was entered or last changed, so the periodic
domain check looks at recent ones (N7). Existing rows take their creation time."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def from_created_at(apps, schema_editor):
    apps.get_model("enamad", "Business").objects.update(domain_changed_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("enamad", "0002_catalogue"),
    ]

    operations = [
        migrations.AddField(
            model_name="business",
            name="domain_changed_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(from_created_at, migrations.RunPython.noop),
    ]
