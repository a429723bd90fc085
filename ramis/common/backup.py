"""Backups of what the portal alone holds: the database and the private uploads.

A backup is a directory with three files:

* ``database.dump`` (PostgreSQL, ``pg_dump`` custom format) or ``database.sqlite3`` (the embedded
  SQLite, copied with SQLite's online backup API, consistent while the portal runs);
* ``media.tar``: every file under ``PRIVATE_MEDIA_ROOT`` (regular files only, no symlinks);
* ``manifest.json``: the format, when, the versions (portal, Django, Python, database server and
  tool), the applied migrations, the audit trail's length and last hash, and the SHA-256 and size
  of each part.

**Never in a backup**: private keys and token stores. The CA keys live on the HSM (SoftHSM's
``SOFTHSM_DIR`` in the embedded default) and are backed up only by the HSM vendor's wrapped backup
(docs/operator/key-ceremony.md); ``SOFTHSM_DIR`` is skipped even when it lies under the media
directory, and so is any uploaded file that holds a PEM private key. PINs and secrets come from the
environment and are not in the database. Redis holds only caches, throttles and the broker's queue.

:func:`restore` checks the manifest and every part's hash before it changes anything, refuses a
target database or media directory that is not empty unless ``force``, restores the database in
one transaction (``pg_restore --single-transaction``) and moves the unpacked media into place.
Errors are :class:`BackupError`: one line, in Persian and English.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path, PurePosixPath

import django
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media.tar"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
NOT_INCLUDED = [
    "private keys and token stores (the HSM; SOFTHSM_DIR in the embedded default)",
    "PINs, SECRET_KEY and other secrets (the environment)",
    "Redis (caches, throttles, the task queue)",
    "static files and the code (the release)",
]
_PRIVATE_KEY_MARKERS = (b"PRIVATE KEY-----", b"-----BEGIN OPENSSH PRIVATE KEY")
_TOOL_TIMEOUT = 3600


class BackupError(Exception):
    """A backup or restore that cannot proceed; ``str()`` is one line (Persian — English)."""

    def __init__(self, message_fa: str, message: str):
        self.message_fa, self.message = message_fa, message
        super().__init__(f"{message_fa} — {message}")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise BackupError("این نوع پایگاه داده پشتیبانی نمی‌شود.", f"unsupported database engine: {vendor}")
    return vendor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"برنامهٔ {name} نصب نیست.", f"{name} not found: install postgresql-client "
                          "(make system-deps)")
    return path


def _run(cmd: list[str], *, env: dict[str, str], what: str) -> str:
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=_TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} بیش از حد طول کشید.", f"{cmd[0]} timed out") from None
    if out.returncode != 0:
        raise BackupError(f"{what} ناموفق بود.", f"{Path(cmd[0]).name}: {_first_line(out.stderr)}")
    return out.stdout


def _pg_args() -> tuple[list[str], dict[str, str]]:
    """libpq options for the current connection (the test database in tests), password in the env."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _is_token_store(path: Path, stores: list[Path]) -> bool:
    return any(path == store or store in path.parents for store in stores)


def _holds_private_key(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(64 * 1024)
    return any(marker in head for marker in _PRIVATE_KEY_MARKERS)


def _database_facts() -> dict:
    from ramis.common.models import AuditEntry

    migrations: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.order_by("app", "name").values_list("app", "name"):
        migrations[app] = name
    last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    return {"migrations": migrations, "audit_entries": AuditEntry.objects.count(), "audit_head": last or ""}


def _versions(engine: str) -> dict:
    try:
        portal = metadata.version("ramis-portal")
    except metadata.PackageNotFoundError:
        portal = "unknown"
    out = {"portal": portal, "django": django.get_version(), "python": platform.python_version()}
    if engine == "postgresql":
        out["database_server"] = str(connection.pg_version)
        out["dump_tool"] = _first_line(_run([_tool("pg_dump"), "--version"], env=dict(os.environ), what="pg_dump"))
    else:
        out["database_server"] = f"SQLite {sqlite3.sqlite_version}"
        out["dump_tool"] = "sqlite3 online backup API"
    return out


# --------------------------------------------------------------------------------------------
# backup
# --------------------------------------------------------------------------------------------


def _dump_database(engine: str, path: Path) -> None:
    if engine == "postgresql":
        args, env = _pg_args()
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(path), *args],
             env=env, what="پشتیبان‌گیری از پایگاه داده")
        return
    connection.ensure_connection()
    dest = sqlite3.connect(path)
    try:
        connection.connection.backup(dest)
    finally:
        dest.close()


def _pack_media(root: Path, path: Path) -> dict:
    """Regular files under ``root`` into ``path`` (sorted, no owners), token stores and key files left out."""
    stores = [Path(settings.SOFTHSM_DIR).resolve()]
    files, skipped = 0, []
    with tarfile.open(path, "w") as tar:
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                here = Path(dirpath)
                dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink()
                                     and not _is_token_store((here / d).resolve(), stores))
                for name in sorted(filenames):
                    file = here / name
                    rel = file.relative_to(root).as_posix()
                    if file.is_symlink() or not file.is_file():
                        skipped.append({"path": rel, "why": "not a regular file"})
                        continue
                    if _holds_private_key(file):
                        skipped.append({"path": rel, "why": "holds a private key"})
                        continue
                    info = tar.gettarinfo(str(file), arcname=rel)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with file.open("rb") as f:
                        tar.addfile(info, f)
                    files += 1
    return {"files": files, "skipped": skipped}


def backup(target: Path | str) -> dict:
    """Write a backup into ``target`` (a new or empty directory); return its manifest."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError("پوشهٔ مقصد پشتیبان خالی نیست.", f"{target} exists and is not an empty directory")
    engine = _engine()
    try:
        facts = _database_facts()
    except DatabaseError as exc:
        raise BackupError("پایگاه داده در دسترس نیست.", f"cannot read the database: {_first_line(str(exc))}") from None
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError("پوشهٔ مقصد پشتیبان ساخته نشد.", f"{target}: {exc.strerror}") from None
    try:
        dump = target / DUMPS[engine]
        _dump_database(engine, dump)
        media = _pack_media(Path(settings.PRIVATE_MEDIA_ROOT), target / MEDIA)
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "engine": engine,
            "versions": _versions(engine),
            "database": facts,
            "media": media,
            "parts": {p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size} for p in (dump, target / MEDIA)},
            "not_included": NOT_INCLUDED,
        }
        tmp = target / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        os.replace(tmp, target / MANIFEST)  # the manifest last: a backup without one is unfinished
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # never half a backup
        raise
    return manifest


# --------------------------------------------------------------------------------------------
# restore
# --------------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    """The manifest of ``source``, after checking every part against its SHA-256."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError("پشتیبان کامل نیست (فهرست ندارد).", f"{source / MANIFEST} is missing") from None
    except (OSError, ValueError) as exc:
        raise BackupError("فهرست پشتیبان خوانا نیست.", f"{source / MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("قالب پشتیبان شناخته نیست.", f"unknown backup format {manifest.get('format')!r}"
                          if isinstance(manifest, dict) else "the manifest is not an object")
    for name, part in manifest.get("parts", {}).items():
        path = source / name
        if PurePosixPath(name).name != name or not path.is_file():
            raise BackupError("بخشی از پشتیبان نیست.", f"part {name} is missing")
        if _sha256(path) != part.get("sha256"):
            raise BackupError("پشتیبان آسیب دیده است.", f"part {name} does not match its SHA-256")
    if set(manifest.get("parts", {})) != {DUMPS.get(manifest.get("engine"), "?"), MEDIA}:
        raise BackupError("بخشی از پشتیبان نیست.", "the manifest does not name a database and a media part")
    return manifest


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _media_is_empty(root: Path) -> bool:
    return not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def _extract_media(archive: Path, into: Path) -> int:
    """Regular files and directories only, each inside ``into`` (no links, devices, ``..``)."""
    count = 0
    with tarfile.open(archive, "r") as tar:
        for member in tar:
            rel = PurePosixPath(member.name)
            if rel.is_absolute() or ".." in rel.parts or not (member.isfile() or member.isdir()):
                raise BackupError("پشتیبان پرونده‌ای ناروا دارد.", f"refused archive member {member.name!r}")
            dest = into.joinpath(*rel.parts)
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
            os.chmod(dest, 0o600)
            count += 1
    return count


def _restore_database(engine: str, dump: Path, *, force: bool) -> None:
    if engine == "postgresql":
        args, env = _pg_args()
        connection.close()
        cmd = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if force:
            cmd += ["--clean", "--if-exists"]
        _run([*cmd, *args, str(dump)], env=env, what="بازگردانی پایگاه داده")
        return
    name = str(connection.settings_dict["NAME"])
    if name in ("", ":memory:") or name.startswith("file:memorydb"):
        raise BackupError("پایگاه دادهٔ درون‌حافظه‌ای را نمی‌توان بازگرداند.", "cannot restore into an in-memory "
                          "SQLite database: set DATABASE_URL to a file")
    connection.close()
    src, dest = sqlite3.connect(f"file:{dump}?mode=ro", uri=True), sqlite3.connect(name)
    try:
        src.backup(dest)  # replaces the whole target database, under SQLite's lock
    finally:
        src.close()
        dest.close()


def restore(source: Path | str, *, force: bool = False) -> dict:
    """Restore the backup in ``source`` into the configured database and media directory."""
    source = Path(source)
    if not source.is_dir():
        raise BackupError("پوشهٔ پشتیبان پیدا نشد.", f"{source} is not a directory")
    manifest = read_manifest(source)
    engine = _engine()
    if manifest["engine"] != engine:
        raise BackupError("پشتیبان از نوع پایگاه دادهٔ دیگری است.",
                          f"the backup is of a {manifest['engine']} database, this portal uses {engine}")
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    try:
        db_empty = _database_is_empty()
    except DatabaseError as exc:
        raise BackupError("پایگاه داده در دسترس نیست.", f"cannot read the database: {_first_line(str(exc))}") from None
    if not force and not db_empty:
        raise BackupError("پایگاه دادهٔ مقصد خالی نیست؛ برای جایگزینی --force بدهید.",
                          "the target database is not empty (give --force to replace it)")
    if not force and not _media_is_empty(root):
        raise BackupError("پوشهٔ پرونده‌های مقصد خالی نیست؛ برای جایگزینی --force بدهید.",
                          f"the media directory {root} is not empty (give --force to replace it)")
    # Unpack the media beside its place first: a bad archive stops us before the database changes.
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.restore-", dir=root.parent))
    try:
        files = _extract_media(source / MEDIA, staging)
        _restore_database(engine, source / DUMPS[engine], force=force)
        # Child by child rather than renaming the directory itself: it may be a mount point.
        root.mkdir(parents=True, exist_ok=True)
        for child in root.iterdir():  # empty unless --force
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        for child in staging.iterdir():
            os.replace(child, root / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {**manifest, "restored_files": files}
