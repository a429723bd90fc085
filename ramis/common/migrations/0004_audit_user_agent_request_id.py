"""The audit entry stores the client's User-Agent and the request id of the log lines (issue 15).

Existing rows get both empty, and an empty column is left out of the hashed content
(``AuditEntry.canonical``): every entry sealed before this migration keeps its hash and verifies
as it is; nothing is rewritten. The columns keep a database default (""), so a process of the
previous release still inserting during the upgrade is not refused. The partial index finds a request's entries from a log line.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("common", "0003_audit_sealed_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="request_id",
            field=models.CharField(blank=True, default="", db_default="", max_length=128, verbose_name="شناسه درخواست"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="user_agent",
            field=models.CharField(blank=True, default="", db_default="", max_length=300, verbose_name="مرورگر (User-Agent)"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(condition=~models.Q(request_id=""), fields=["request_id"], name="common_audit_request_id"),
        ),
    ]
