"""A fresh Debian 12 (python3, make, git) gets every program the suite and the portal run from the
Makefile's apt lists: each program called by name in the code is listed here with its Debian package,
the package is in APT_RUN or APT_TEST, and (here, where it is installed) the program is that
package's file. A new program called without its package fails the first test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# program -> the Debian package of the Makefile's apt lists that brings it (APT_RUN for the portal,
# APT_TEST for the tests, or another APT_* list: which list is the Makefile's business)
PROGRAMS = {
    "openssl": "openssl",
    "pkcs11-tool": "opensc",
    "softhsm2-util": "softhsm2",
    "pdftotext": "poppler-utils",
    "pdffonts": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "pg_dump": "postgresql-client",
    "pg_restore": "postgresql-client",
    "cc": "gcc",
    "chromium": "chromium",
    "docker-compose": "docker-compose",
    "redis-server": "redis-server",
    "redis-cli": "redis-server",  # redis-tools, which redis-server depends on
    "node": "nodejs",
    "nodejs": "nodejs",
    "certtool": "gnutls-bin",  # GnuTLS, an outside validator of our certificates
    "pg_lsclusters": "postgresql",  # postgresql-common, a dependency of postgresql (make prod on Debian)
    "pg_ctlcluster": "postgresql",
    "psql": "postgresql-client",
    "wrk": "wrk",  # the benchmarks' HTTP load client (bench/wrk_client.py)
}
# Checked in the Makefile but not for their owner here: a browser and Compose the suite can be
# pointed elsewhere for (CHROMIUM_PATH; absent Compose skips nothing, the test checks the file),
# a Node.js that may be installed from outside Debian.
NOT_OWNER_CHECKED = {"chromium", "docker-compose", "node", "nodejs"}
# Libraries, daemons and headers the code needs with no program of ours calling them by name.
LIBRARIES = {
    "/usr/lib/softhsm/libsofthsm2.so": "softhsm2",
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so": "opensc",  # opensc-pkcs11, a dependency of opensc
    "/usr/lib/x86_64-linux-gnu/libpcsclite.so.1": "libpcsclite1",  # OpenSC's C_Initialize fails without it
    "/usr/sbin/pcscd": "pcscd",  # a real USB token
    "/usr/include/stdio.h": "libc6-dev",  # bench/ocsp_load.c
}
CALL = re.compile(r"(?:subprocess\.(?:run|Popen|check_output|check_call)|\brun|shutil\.which|\b_?tool)\(\s*\[?\s*\"([\w.+-]+)\"")
SOURCES = ("tests", "bench", "ramis", "tokens", "enamad", "certauth", "scripts")


def apt_packages() -> set[str]:
    """Every package of every APT_* list of the Makefile (``:=`` and ``+=`` lines)."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return {pkg for line in re.findall(r"^APT_\w+\s*[:+]?=(.*)$", text, re.M) for pkg in line.split()}


def called_programs() -> set[str]:
    found = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(CALL.findall(path.read_text()))
    commands = {path.stem for path in ROOT.glob("*/**/management/commands/*.py")}  # manage.py's, by name
    # pkilint's lint_* are installed by pip; dpkg and runuser (util-linux) are Essential in Debian;
    # make is one of the three programs the fresh machine starts with (python3, make, git)
    given = {"dpkg", "dpkg-query", "runuser", "make"}
    return {name for name in found - commands - given if not name.startswith("lint_")}


def test_every_program_the_code_calls_has_its_package_in_the_makefile():
    called = called_programs()
    assert {"openssl", "pkcs11-tool", "pdftotext", "cc", "pg_dump", "pg_restore"} <= called  # the scan sees them
    assert called - PROGRAMS.keys() == set()
    packages = apt_packages()
    assert {"softhsm2", "gcc", "chromium"} <= packages  # the parse sees the lists
    for program in called:
        assert PROGRAMS[program] in packages, f"{program}: {PROGRAMS[program]} is in no APT_* list of the Makefile"
    for path, package in LIBRARIES.items():
        assert package in packages, f"{path}: {package} is in no APT_* list of the Makefile"


def _package_of(path: str) -> str:
    out = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split(":")[0]


def _depends(package: str, depth: int = 2) -> set[str]:
    """``package`` and what it depends on, ``depth`` levels down (installed packages)."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", package], capture_output=True, text=True,
                         timeout=30).stdout
    direct = {alt.split()[0].split(":")[0] for dep in out.split(",") for alt in dep.split("|") if alt.strip()}
    found = {package} | direct
    if depth > 1:
        for dep in direct:
            found |= _depends(dep, depth - 1)
    return found


@pytest.mark.parametrize("program", sorted((called_programs() & PROGRAMS.keys()) - NOT_OWNER_CHECKED))
def test_each_program_comes_from_the_package_named_for_it(program):
    path = shutil.which(program)
    assert path, f"{program} is not installed: make system-deps system-deps-test"
    owner = _package_of(path)
    # a program reached through a symlink (cc -> gcc-12, pg_dump -> pg_wrapper) lives in a dependency
    assert owner in _depends(PROGRAMS[program]), (program, owner)


@pytest.mark.parametrize("path", sorted(LIBRARIES))
def test_each_library_comes_from_the_package_named_for_it(path):
    assert Path(path).exists(), f"{path} is missing: make system-deps system-deps-test"
    owner = _package_of(path)
    assert owner in _depends(LIBRARIES[path]), (path, owner)
