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

# program -> (Debian package, list it belongs in)
PROGRAMS = {
    "openssl": ("openssl", "APT_RUN"),
    "pkcs11-tool": ("opensc", "APT_RUN"),
    "softhsm2-util": ("softhsm2", "APT_RUN"),
    "pdftotext": ("poppler-utils", "APT_RUN"),
    "pdffonts": ("poppler-utils", "APT_RUN"),
    "pdftoppm": ("poppler-utils", "APT_RUN"),
    "pg_dump": ("postgresql-client", "APT_RUN"),
    "pg_restore": ("postgresql-client", "APT_RUN"),
    "cc": ("gcc", "APT_TEST"),
    "chromium": ("chromium", "APT_TEST"),
    "docker-compose": ("docker-compose", "APT_TEST"),
}
# Libraries and daemons a module loads or needs, with no program of ours calling them by name.
LIBRARIES = {
    "/usr/lib/softhsm/libsofthsm2.so": ("softhsm2", "APT_RUN"),
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so": ("opensc-pkcs11", None),  # opensc depends on it
    "/usr/lib/x86_64-linux-gnu/libpcsclite.so.1": ("libpcsclite1", "APT_RUN"),  # OpenSC's C_Initialize
    "/usr/sbin/pcscd": ("pcscd", "APT_RUN"),  # a real USB token
    "/usr/include/stdio.h": ("libc6-dev", "APT_TEST"),  # bench/ocsp_load.c
}
CALL = re.compile(r"(?:subprocess\.(?:run|Popen|check_output|check_call)|\brun|shutil\.which|\b_?tool)\(\s*\[?\s*\"([\w.+-]+)\"")
SOURCES = ("tests", "bench", "ramis", "tokens", "enamad", "certauth", "scripts")


def apt_lists() -> dict[str, set[str]]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    return {name: set(re.search(rf"^{name} := (.*)$", text, re.M).group(1).split()) for name in ("APT_RUN", "APT_TEST")}


def called_programs() -> set[str]:
    found = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(CALL.findall(path.read_text()))
    commands = {path.stem for path in ROOT.glob("*/**/management/commands/*.py")}  # manage.py's, by name
    # pkilint's lint_* are installed by pip; dpkg is Debian's own (Essential)
    return {name for name in found - commands - {"dpkg", "dpkg-query"} if not name.startswith("lint_")}


def test_every_program_the_code_calls_has_its_package_in_the_makefile():
    called = called_programs()
    assert {"openssl", "pkcs11-tool", "pdftotext", "cc", "pg_dump", "pg_restore"} <= called  # the scan sees them
    assert called - PROGRAMS.keys() == set()
    lists = apt_lists()
    for program, (package, where) in {**PROGRAMS, **LIBRARIES}.items():
        if where is not None:
            assert package in lists[where], f"{program}: {package} is not in {where}"


def _package_of(path: str) -> str:
    out = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split(":")[0]


@pytest.mark.parametrize("program", sorted(p for p in PROGRAMS if p not in ("docker-compose", "chromium")))
def test_each_program_comes_from_the_package_named_for_it(program):
    path = shutil.which(program)
    assert path, f"{program} is not installed: make system-deps system-deps-test"
    package = PROGRAMS[program][0]
    owner = _package_of(path)
    # a program reached through a symlink (cc -> gcc-12, pg_dump -> pg_wrapper) lives in a dependency
    assert owner == package or package in _depends(package), (program, owner)


@pytest.mark.parametrize("path", sorted(LIBRARIES))
def test_each_library_comes_from_the_package_named_for_it(path):
    assert Path(path).exists(), f"{path} is missing: make system-deps system-deps-test"
    package = LIBRARIES[path][0]
    owner = _package_of(path)
    assert owner.split(":")[0] == package or owner in _depends(package), (path, owner)


def _depends(package: str) -> str:
    return subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Depends}", package], capture_output=True,
                          text=True, timeout=30).stdout
