"""tests/xdist_env.py: each pytest-xdist worker gets a Redis database of its own."""

from __future__ import annotations

import pytest

from tests.xdist_env import _worker_url, redis_url


def test_each_worker_counts_down_from_the_configured_database():
    assert _worker_url("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert _worker_url("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/14"
    assert _worker_url("redis://:secret@127.0.0.1:6379/3", "gw2") == "redis://:secret@127.0.0.1:6379/1"
    assert _worker_url("redis://127.0.0.1:6379", "gw0") == "redis://127.0.0.1:6379/0"


def test_a_worker_with_no_database_left_stops_the_run_with_one_line():
    with pytest.raises(SystemExit, match="leaves no database for xdist worker gw2"):
        _worker_url("redis://127.0.0.1:6379/1", "gw2")


def test_a_worker_test_without_redis_url_gets_its_workers_database(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert redis_url() == "redis://127.0.0.1:6379/14"
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert redis_url() == "redis://127.0.0.1:6379/15"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/9")
    assert redis_url() == "redis://127.0.0.1:6379/9"


def test_loading_the_plugin_in_a_worker_moves_the_broker_and_the_cache_before_django_starts():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTEST_XDIST_WORKER": "gw1", "REDIS_URL": "redis://127.0.0.1:6379/15",
           "CACHE_URL": "redis://127.0.0.1:6379/12"}
    out = subprocess.run([sys.executable, "-c", "import os, tests.xdist_env; "
                          "print(os.environ['REDIS_URL'], os.environ['CACHE_URL'])"],
                         cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["redis://127.0.0.1:6379/14", "redis://127.0.0.1:6379/11"]
