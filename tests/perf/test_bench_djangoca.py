"""bench/djangoca.py's cheap parts: the cached virtualenv's marker, django-ca's databases beside ours,
its own SoftHSM token, the child's answers and the ratios. Nothing is downloaded and no virtualenv
is made here (bench/pki.py --only issuance,django-ca does that)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import djangoca  # noqa: E402  (bench/djangoca.py)


def test_the_cached_virtualenv_is_reused_only_with_exactly_its_requirements(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    assert not djangoca.venv_ready(venv)  # no marker: pip never finished
    (venv / ".installed").write_text("django-ca[hsm]==3.1.0\npsycopg[binary]>=3.1\n")
    assert not djangoca.venv_ready(venv)  # another django-ca
    (venv / ".installed").write_text("".join(f"{r}\n" for r in djangoca.REQUIREMENTS))
    assert djangoca.venv_ready(venv)
    (venv / "bin" / "python").unlink()
    assert not djangoca.venv_ready(venv)
    assert djangoca.REQUIREMENTS[0] == "django-ca[hsm]==3.2.0"
    assert djangoca.VENV.is_relative_to(djangoca.ROOT / "var")  # git-ignored


def test_django_ca_gets_a_sibling_bench_database_or_its_own_sqlite(tmp_path):
    assert djangoca.sibling_url("postgres://postgres@127.0.0.1:5432/h_perf2_bench") == \
        "postgres://postgres@127.0.0.1:5432/h_perf2_djca_bench"
    assert djangoca.sibling_url("postgresql://u:p@db:5433/x_bench?sslmode=disable") == \
        "postgresql://u:p@db:5433/x_djca_bench?sslmode=disable"
    assert djangoca.sibling_url("") == ""
    assert djangoca.sibling_url(f"sqlite:///{tmp_path}/x.sqlite3") == ""
    with pytest.raises(SystemExit, match="ends in _bench"):
        djangoca.sibling_url("postgres://postgres@127.0.0.1:5432/ramis")

    sqlite = djangoca.child_databases("", tmp_path)["default"]
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["NAME"] == str(tmp_path / "django-ca.sqlite3")
    assert sqlite["OPTIONS"] == {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
                                 "transaction_mode": "IMMEDIATE"}  # ours' settings
    pg = djangoca.child_databases("postgres://postgres@127.0.0.1:5432/h_perf2_djca_bench", tmp_path)["default"]
    assert (pg["ENGINE"], pg["NAME"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql", "h_perf2_djca_bench", "127.0.0.1", 5432)


def test_django_ca_gets_a_softhsm_token_of_its_own(tmp_path):
    env = djangoca.init_token(tmp_path / "softhsm", {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ramis.settings"})
    assert "DJANGO_SETTINGS_MODULE" not in env  # the child configures Django itself
    assert env["SOFTHSM2_CONF"] == str(tmp_path / "softhsm" / "softhsm2.conf")
    slots = subprocess.run(["softhsm2-util", "--show-slots"], env=env, capture_output=True, text=True,
                           check=True).stdout
    assert f"Label:            {djangoca.TOKEN}" in slots
    assert any((tmp_path / "softhsm" / "tokens").iterdir())  # the token lives in its own directory


def test_the_child_s_answers_and_the_ratios():
    assert djangoca.parse_result('{"n": 60, "rate": 250.5, "cpu_ms": 3.25}\n') == (250.5, 3.25)
    with pytest.raises(RuntimeError, match="answered ''"):
        djangoca.parse_result("")  # the child died
    with pytest.raises(RuntimeError):
        djangoca.parse_result('{"ready": {}}')
    r = djangoca.ratios([100.0, 50.0, 80.0], [200.0, 100.0, 80.0])
    assert r == {"median": 80.0 / 100.0, "best": 100.0 / 200.0, "round_median": 0.5, "round_worst": 0.5}
    assert djangoca.ratios([90.0], [60.0])["round_worst"] == 1.5
