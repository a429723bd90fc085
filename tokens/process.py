"""Process-wide PKCS#11 state: the one lock, the loaded modules, the logged-in session cache, and
the lock on SoftHSM's token store that processes share (:func:`store_locked`). The facts behind
them are in :mod:`tokens.manager`'s docstring. Nothing here imports Django."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11.exceptions as p11e

from . import errors
from .config import TokenConfig
from .errors import TokenError

# --------------------------------------------------------------------------
# Process-wide state: one lock, loaded modules, the logged-in session cache.
# --------------------------------------------------------------------------


@dataclass
class _CachedSession:
    session: Any  # pkcs11.Session
    pin: bytes
    generation: int


@dataclass
class _State:
    lock: threading.RLock = field(default_factory=threading.RLock)
    libs: dict[str, Any] = field(default_factory=dict)
    confs: dict[str, str | None] = field(default_factory=dict)  # SoftHSM conf each module loaded with
    needs_reinit: set[str] = field(default_factory=set)
    sessions: dict[tuple[str, str], _CachedSession] = field(default_factory=dict)
    # Bumped whenever every session handle of the process became invalid
    # (fork, C_Finalize); cached key handles compare against it.
    generation: int = 0
    pid: int = field(default_factory=os.getpid)
    store_depth: int = 0  # nesting of store_locked() in this process (the file lock is taken once)
    store_fd: int | None = None  # the descriptor holding that file lock


_state = _State()

# Errors after which a retry on a fresh session can succeed.
_STALE = (
    p11e.SessionHandleInvalid,
    p11e.SessionClosed,
    p11e.ObjectHandleInvalid,
    p11e.KeyHandleInvalid,
    p11e.DeviceRemoved,
    p11e.TokenNotPresent,
    p11e.UserNotLoggedIn,
)


def _after_fork_in_child() -> None:
    # The parent's lock may be held by a thread that does not exist here.
    _state.lock = threading.RLock()
    _state.sessions.clear()
    _state.needs_reinit.update(_state.libs)
    _state.generation += 1
    _state.pid = os.getpid()
    # Forked while a thread of the parent held the store lock: our copy of its descriptor would
    # keep the lock held after the parent released it (flock belongs to the open file), so close it.
    if _state.store_fd is not None:
        with contextlib.suppress(OSError):
            os.close(_state.store_fd)
    _state.store_depth, _state.store_fd = 0, None


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold the process-wide PKCS#11 lock (re-entrant)."""
    lock = _state.lock
    with lock:
        yield


# Pauses before the rescans of a token looked up and not found (SoftHSM): under half a second
# in all (only a writer outside our lock, softhsm2-util or pkcs11-tool, can still be mid-write).
FIND_RETRY_PAUSES = (0.02, 0.1, 0.3)


@contextlib.contextmanager
def store_locked(config: TokenConfig) -> Iterator[None]:
    """Hold the process lock and, for SoftHSM, an exclusive ``flock`` on ``<token dir>.lock``:
    no other process of ours reads or rewrites the token store meanwhile (see the module
    docstring). Re-entrant within the process; other modules (HSMs, tokens) need none.

    Hand-written rather than ``filelock``: the lock must be re-entrant per process and dropped
    at fork (a child holds nothing of its parent's), and ``flock`` on a descriptor opened for
    each outermost acquisition gives exactly that in a few lines.
    """
    with locked():
        token_dir = config.softhsm_token_dir
        if token_dir is None or not config.is_softhsm:
            yield
            return
        if _state.store_depth:  # this process holds it already
            _state.store_depth += 1
            try:
                yield
            finally:
                _state.store_depth -= 1
            return
        path = Path(str(Path(token_dir).resolve()) + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _state.store_depth, _state.store_fd = 1, fd
            try:
                yield
            finally:
                _state.store_depth, _state.store_fd = 0, None
        finally:
            os.close(fd)  # releases the flock


@contextlib.contextmanager
def mapped(context: str = "") -> Iterator[None]:
    """Translate python-pkcs11 exceptions into :class:`TokenError`."""
    try:
        yield
    except TokenError:
        raise
    except p11e.PKCS11Error as exc:
        raise errors.translate(exc, context) from exc


def _invalidate_all(module: str) -> None:
    for key in [k for k in _state.sessions if k[0] == module]:
        del _state.sessions[key]
    _state.generation += 1
