"""Celery's Redis transport, surviving a broker lost twice (docs/operator/outages.md).

Found by the broker-loss drill (tests/integration/test_broker_loss.py) with celery 5.7 / kombu 5.7
and redis-py 8: when the connection to Redis drops while the worker holds unacknowledged messages
(prefetched or ETA/countdown tasks, ``task_acks_late``), Celery's consumer first lets kombu
``collect()`` the broken connection — which closes the transport and sets its ``client`` to None —
and then calls ``connection.close()``. That closes the default channel a second time; closing
restores the unacknowledged messages, which asks the channel for a Redis client, and the channel
reads its address from the transport's ``client``: ``AttributeError: 'NoneType' object has no
attribute 'hostname'`` in ``kombu.transport.redis.Channel._connparams``. It is not one of the
connection errors Celery ignores there, so the worker stops with "Unrecoverable error" and does
not reconnect (the signing worker, idle, holds no such messages and survives).

This channel raises redis-py's ``ConnectionError`` there instead — what the closed connection is —
which Celery ignores, and the consumer reconnects as it does for any broker loss. The messages it
could not restore stay in Redis's unacked set and come back after the visibility timeout, as
after a worker crash. Selected by ``CELERY_BROKER_TRANSPORT`` for ``redis://`` brokers.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
