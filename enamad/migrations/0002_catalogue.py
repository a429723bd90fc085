"""Default data, editable in the admin afterwards: the expert's checklist (N11) and the
catalogue of services with the authorities that license them (N8)."""

from django.db import migrations

from enamad.catalogue import ensure_defaults


def load(apps, schema_editor):
    ensure_defaults(apps.get_model("enamad", "ChecklistItem"), apps.get_model("enamad", "ServiceCategory"))


class Migration(migrations.Migration):
    dependencies = [("enamad", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
