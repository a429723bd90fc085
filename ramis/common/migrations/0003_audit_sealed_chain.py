"""The audit trail is sealed after commit: ``seq`` orders the chain, hashes are set by the sealer.

Rows that exist are already chained (in ``id`` order, under the old global lock): they get
``seq`` = their rank by ``id`` and keep their hashes, so they stay valid as they are.
"""

from django.db import migrations, models


def number_existing(apps, schema_editor):
    AuditEntry = apps.get_model("common", "AuditEntry")
    table = schema_editor.quote_name(AuditEntry._meta.db_table)
    # UPDATE … FROM with a window function: PostgreSQL, and SQLite ≥ 3.33 (Debian 12 has 3.40).
    schema_editor.execute(
        f"UPDATE {table} SET seq = ranked.n FROM "
        f"(SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM {table}) AS ranked "
        f"WHERE {table}.id = ranked.id"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("common", "0002_outbox_redacted_body"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(condition=models.Q(("seq__isnull", True)), fields=["id"], name="common_audit_unsealed"),
        ),
    ]
