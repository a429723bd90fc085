"""Processes that start together: gunicorn, the Celery workers and the OCSP tier fork several
processes at once, and each opens the CA token. SoftHSM rewrites a token's ``token.object`` on
every login, so a process reading the store meanwhile used to find no token ("no such token:
serial=…") or get CKR_GENERAL_ERROR (before the store lock, about 3 of 8 processes failed in
every round). Each round here forks processes that wait at a barrier, then all open the token,
log in and sign at the same moment."""

from __future__ import annotations

import multiprocessing
import os
import traceback

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tokens.conf import get_manager
from tokens.manager import store_locked

from .conftest import PIN, SO_PIN

PROCESSES = 8
ROUNDS = 4
LABEL = "startup-race"


def _open_and_sign(barrier, results, label: str, key_id: bytes) -> None:
    try:
        manager = get_manager()
        barrier.wait(timeout=60)
        token = manager.open(label=label, pin=PIN)
        key = token.private_key(id=key_id)
        signature = key.sign(b"started together", ec.ECDSA(hashes.SHA256()))
        key.public_key().verify(signature, b"started together", ec.ECDSA(hashes.SHA256()))
        results.put(("ok", os.getpid()))
    except BaseException as exc:  # noqa: BLE001  (reported to the parent, which asserts)
        results.put(("error", f"{type(exc).__name__}: {exc} {traceback.format_exc(limit=3)}"))


@pytest.fixture(scope="module")
def startup_token(manager):
    manager.init_token(LABEL, SO_PIN, PIN)
    token = manager.open(label=LABEL, pin=PIN)  # the parent holds a session too, as a master would
    key = token.generate_keypair("ec-p256", label="startup-key")
    return token, key.key_id


def test_processes_started_together_all_open_the_token_and_sign(startup_token):
    _token, key_id = startup_token
    ctx = multiprocessing.get_context("fork")  # what gunicorn and Celery's prefork pool do
    failures, signed = [], 0
    for _ in range(ROUNDS):
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [ctx.Process(target=_open_and_sign, args=(barrier, results, LABEL, key_id))
                 for _ in range(PROCESSES)]
        for p in procs:
            p.start()
        answers = [results.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        failures += [text for status, text in answers if status != "ok"]
        signed += sum(status == "ok" for status, _ in answers)
    assert failures == []
    assert signed == PROCESSES * ROUNDS


def test_the_store_lock_is_a_file_lock_beside_the_token_directory(manager):
    """The lock the processes share is ``<token dir>.lock``, held exclusively (another open file
    description cannot take it meanwhile) and re-entrant within a process."""
    import fcntl

    lock_path = str(manager.config.softhsm_token_dir.resolve()) + ".lock"
    with store_locked(manager.config):
        with store_locked(manager.config):  # re-entrant: no deadlock on itself
            fd = os.open(lock_path, os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again once released
    finally:
        os.close(fd)


def _take_the_store_lock(started, results) -> None:
    manager = get_manager()
    started.set()
    with store_locked(manager.config):
        results.put("locked")


def test_a_child_forked_while_the_parent_holds_the_store_lock_gets_it_once_the_parent_lets_go(manager):
    """flock belongs to the open file: a child's inherited copy of the parent's descriptor would keep
    the lock held after the parent released it, and the child would wait for itself for ever."""
    ctx = multiprocessing.get_context("fork")
    started, results = ctx.Event(), ctx.Queue()
    with store_locked(manager.config):
        child = ctx.Process(target=_take_the_store_lock, args=(started, results))
        child.start()
        assert started.wait(timeout=60)
    assert results.get(timeout=60) == "locked"
    child.join(timeout=60)
    assert child.exitcode == 0
