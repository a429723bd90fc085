"""The database `make prod` uses when the operator names none (no DATABASE_URL).

The machine's PostgreSQL on 127.0.0.1: as the ``postgres`` role when it lets that role in without
a password (trust, as on this project's CI machines); on a fresh Debian, whose cluster asks for a
password on TCP (``scram-sha-256`` in pg_hba.conf) and lets only the ``postgres`` system user in
over the socket (``peer``), a role of our own, ``ramis_prod``, is made once over that socket with
a password kept in var/prod/db_password (mode 0600). A cluster that is installed but stopped is
started (``pg_ctlcluster``), as after ``apt-get install postgresql`` in a container without
systemd. Anything else ends in one line that says what to set.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

ROLE = "ramis_prod"
DATABASE = "ramis_prod"


class DatabaseFailure(Exception):
    """One line for the operator."""


def _probe(url: str) -> str | None:
    """None when ``url`` connects; else "refused", "auth" or the server's first line."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "password" in text or "authentication" in text:
            return "auth"
        if "refused" in text or "No such file" in text:
            return "refused"
        return text.strip().splitlines()[0] if text.strip() else "unknown error"
    return None


def _as_postgres(argv: list[str]) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)


def _start_cluster(port: int) -> bool:
    """Start the Debian cluster on ``port`` if one is installed and down; True when one was started."""
    if not shutil.which("pg_lsclusters") or os.geteuid() != 0:
        return False
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, timeout=30).stdout
    for line in listed.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == str(port) and fields[3].startswith("down"):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", fields[0], fields[1], "start"],
                           capture_output=True, text=True, timeout=120)
            return True
    return False


def _own_role(var: Path, port: int, socket_dir: str) -> str:
    """Make (or re-key) the role ROLE over the local socket as the postgres system user; its URL."""
    secret = var / "db_password"
    if not secret.exists():
        secret.write_text(secrets.token_hex(24))
        secret.chmod(0o600)
    password = secret.read_text().strip()
    script = (f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
              f"CREATE ROLE {ROLE} LOGIN CREATEDB; END IF; END $$;\n"
              f"ALTER ROLE {ROLE} LOGIN CREATEDB PASSWORD '{password}';\n")  # hex: nothing to escape
    result = _as_postgres(["psql", "-h", socket_dir, "-p", str(port), "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                           "-q", "-c", script])
    if result.returncode:
        detail = (result.stderr.strip().splitlines() or ["psql failed"])[-1]
        raise DatabaseFailure(f"PostgreSQL on 127.0.0.1:{port} asks for a password and the role {ROLE} could not "
                              f"be made over its socket ({detail}): set DATABASE_URL")
    return f"postgres://{ROLE}:{password}@127.0.0.1:{port}/{DATABASE}"


def local_database_url(var: Path, *, port: int = 5432, socket_dir: str = "/var/run/postgresql") -> str:
    """DATABASE_URL for `make prod` on this machine's PostgreSQL (see the module's docstring)."""
    as_postgres = f"postgres://postgres@127.0.0.1:{port}/postgres"
    found = _probe(as_postgres)
    if found == "refused" and _start_cluster(port):
        for _ in range(30):
            found = _probe(as_postgres)
            if found != "refused":
                break
            time.sleep(0.5)
    if found is None:
        return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"
    if found == "refused":
        raise DatabaseFailure(f"no PostgreSQL answers on 127.0.0.1:{port}: start it (pg_ctlcluster … start) "
                              "or set DATABASE_URL")
    if found != "auth":
        raise DatabaseFailure(f"PostgreSQL on 127.0.0.1:{port}: {found}")
    url = _own_role(var, port, socket_dir)
    if (again := _probe(url.rsplit("/", 1)[0] + "/postgres")) is not None:
        raise DatabaseFailure(f"PostgreSQL on 127.0.0.1:{port} refused the role {ROLE} ({again}): set DATABASE_URL")
    return url
