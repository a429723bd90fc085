"""The web tier's side of the TSA: hand a request to the process that holds the TSA's PIN.

The web tier never signs a timestamp in production and holds no ``CA_TSA_PIN``:
:func:`answer` checks the request (a malformed one is rejected here, with no round trip),
queues :func:`ramis.ca.tasks.tsa_sign` on ``CA_TSA_QUEUE`` and waits, on a Redis list of
its own (BLPOP, no polling), up to ``CA_TSA_WAIT_SECONDS`` for the worker's reply; a worker
or broker that does not answer gives a *systemFailure* rejection. When Celery runs eagerly
(the embedded default) the reply is signed in this process instead.
"""

from __future__ import annotations

import base64
import functools
import logging
import uuid

from django.conf import settings

from . import tsa

log = logging.getLogger(__name__)

REPLY_TTL = 60  # seconds a reply waits in Redis for a web process that gave up


@functools.lru_cache(maxsize=1)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=settings.CA_TSA_WAIT_SECONDS + 5)


def reply_key() -> str:
    return f"ca:tsa-reply:{uuid.uuid4().hex}"


def answer(der: bytes) -> bytes:
    """The ``TimeStampResp`` DER for request bytes ``der``; never raises."""
    try:
        tsa.parse_request(der)
    except tsa.Rejected as exc:
        return tsa.rejection(exc.fail_info, exc.text)
    from . import tasks

    if tasks.tsa_sign.app.conf.task_always_eager:
        from . import tsa_services

        return tsa_services.timestamp_reply(der)
    wait = settings.CA_TSA_WAIT_SECONDS
    key = reply_key()
    try:
        tasks.tsa_sign.apply_async(args=[base64.b64encode(der).decode(), key], queue=settings.CA_TSA_QUEUE,
                                     expires=wait)
        found = _redis(settings.REDIS_URL).blpop([key], timeout=wait)
    except Exception:  # broker or Redis down: say so in the protocol, never a 500
        log.warning("the TSA signing worker could not be reached", exc_info=True)
        found = None
    if found is None:
        return tsa.rejection("system_failure", "the timestamp authority is not answering; try again later")
    return found[1]


def deliver(key: str, reply: bytes) -> None:
    """The worker's side: leave ``reply`` where the waiting web process BLPOPs it."""
    conn = _redis(settings.REDIS_URL)
    with conn.pipeline() as pipe:
        pipe.rpush(key, reply)
        pipe.expire(key, REPLY_TTL)
        pipe.execute()
