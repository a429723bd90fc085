"""`make prod` without DATABASE_URL on a PostgreSQL set up as Debian sets it up: password
(scram-sha-256) on 127.0.0.1, peer on the socket. A throwaway cluster of that shape (initdb under
a temporary directory, its own port and socket directory); the machine's PostgreSQL is not used."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from scripts import prod_db
from scripts.prod_check import Postgres

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="peer authentication as the postgres user needs root "
                                "(CI and `make test` on a fresh machine run as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_dir():
    """A directory the postgres user can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="ramis-pgtest-"))
    path.chmod(0o755)
    yield path / "pg"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def debian_like(pg_dir):
    """A cluster with Debian's pg_hba.conf defaults: peer on the socket, scram-sha-256 on TCP."""
    cluster = Postgres(pg_dir, _free_port())
    cluster.dir.mkdir(parents=True)
    shutil.chown(cluster.dir, "postgres", "postgres")
    result = subprocess.run(["runuser", "-u", "postgres", "--", str(cluster.bin / "initdb"), "-D",
                             str(cluster.dir / "data"), "-U", "postgres", "--auth-local=peer",
                             "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    cluster.start()
    yield cluster
    cluster.stop()


def test_a_password_cluster_gets_a_role_of_our_own_once(debian_like, tmp_path):
    port, sockets = debian_like.port, str(debian_like.dir)
    assert prod_db._probe(f"postgres://postgres@127.0.0.1:{port}/postgres") == "auth"  # as on a fresh Debian
    var = tmp_path / "var"
    var.mkdir()
    url = prod_db.local_database_url(var, port=port, socket_dir=sockets)
    assert url.startswith("postgres://ramis_prod:") and url.endswith(f"@127.0.0.1:{port}/ramis_prod")
    assert oct((var / "db_password").stat().st_mode & 0o777) == "0o600"
    # the role can create make prod's database and use it
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE ramis_prod")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "ramis_prod"
    # again (make prod run twice): the same role and password, nothing broken
    assert prod_db.local_database_url(var, port=port, socket_dir=sockets) == url


def test_a_trusting_cluster_is_used_as_postgres(tmp_path, pg_dir):
    cluster = Postgres(pg_dir, _free_port())
    cluster.init()  # -A trust, as on this project's CI machines
    cluster.start()
    try:
        url = prod_db.local_database_url(tmp_path, port=cluster.port, socket_dir=str(cluster.dir))
        assert url == f"postgres://postgres@127.0.0.1:{cluster.port}/ramis_prod"
        assert not (tmp_path / "db_password").exists()
    finally:
        cluster.stop()


def test_nothing_listening_is_one_line(tmp_path):
    with pytest.raises(prod_db.DatabaseFailure) as failed:
        prod_db.local_database_url(tmp_path, port=_free_port(), socket_dir=str(tmp_path))
    assert "\n" not in str(failed.value) and "DATABASE_URL" in str(failed.value)
