"""A broker outage never breaks the page that queued a message (X3)."""

import pytest
from django.db import transaction

from ramis.celery import app
from ramis.common import notify
from ramis.common.models import OutboxMessage


@pytest.mark.django_db(transaction=True)
def test_dead_broker_leaves_message_queued(settings):
    import kombu.pools

    old = app.conf.broker_url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    app.conf.broker_transport_options = {"max_retries": 0}
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    try:
        with transaction.atomic():  # the commit must not raise
            message = notify.send_sms(to="09121234567", template="login_code", context={"code": "1", "minutes": 2})
    finally:
        app.conf.broker_url = old
        app.conf.broker_transport_options = {}
        app.conf.task_always_eager = True
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.QUEUED
