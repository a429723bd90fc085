"""A broker outage never breaks the page that queued a message (X3).

It runs in a process of its own, pointed at a dead broker: a failed connection leaves state in
kombu's and Celery's process-wide pools that later worker tests of this process would inherit.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import transaction
from ramis.common import notify
from ramis.common.models import OutboxMessage
with transaction.atomic():  # the commit must not raise although the broker is down
    message = notify.send_sms(to="09121234567", template="login_code", context={"code": "1", "minutes": 2})
print("STATUS", OutboxMessage.objects.get(pk=message.pk).status)
"""


def test_dead_broker_leaves_message_queued(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DJANGO_SETTINGS_MODULE="ramis.settings", RAMIS_VAR_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
               REDIS_URL="redis://127.0.0.1:9/0",  # nothing listens on the discard port
               CELERY_TASK_ALWAYS_EAGER="0", SOFTHSM_DIR=str(tmp_path / "softhsm"))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "STATUS queued" in result.stdout
