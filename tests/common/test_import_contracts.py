"""The rooms' import order (docs/developer/rooms.md) is written as import-linter contracts in
pyproject.toml; `make lint` runs them, and so does this test, so a broken boundary fails the suite."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ramis", "certauth", "tokens", "enamad")


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in done.stdout


def test_the_room_order_is_the_design_s():
    contracts = _contracts()
    assert contracts["ramis-rooms"]["layers"] == [
        "ramis.desk", "ramis.requests", "ramis.offices", "ramis.ca", "tokens", "ramis.registry", "ramis.common"]
    assert contracts["enamad-rooms"]["layers"] == ["portal", "complaints", "support", "seals", "businesses", "accounts"]
    assert set(contracts["ramis-knows-no-enamad"]["forbidden_modules"]) == {"enamad"}
    assert {"ramis.requests", "ramis.desk"} <= set(contracts["ca-knows-no-requests"]["forbidden_modules"])


def test_every_views_module_is_guarded():
    """A new ``*_views.py`` is named in the no-views-imports contract (import-linter's wildcards
    match whole module names only, so ``**.views`` covers the ``views.py`` files alone)."""
    forbidden = set(_contracts()["no-views-imports"]["forbidden_modules"])
    assert "**.views" in forbidden
    found = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES for path in (ROOT / package).rglob("*_views.py")
    }
    assert found, "no *_views modules found: the scan is looking in the wrong place"
    assert found <= forbidden, sorted(found - forbidden)
