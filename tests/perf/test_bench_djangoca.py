"""bench/djangoca.py's cheap parts: the cached virtualenv's marker, django-ca's databases beside ours,
its own SoftHSM token, the child's answers and the ratios. Nothing is downloaded and no virtualenv
is made here (bench/pki.py --only issuance,django-ca does that)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

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


def test_scale_children_s_answers_add_up_to_a_rate_in_all():
    assert djangoca.parse_count('{"n": 50, "seconds": 2.0, "cpu": 0.4}\n') == (50, 2.0, 0.4)
    with pytest.raises(RuntimeError, match="answered ''"):
        djangoca.parse_count("")  # the child died
    with pytest.raises(RuntimeError, match="answered"):
        djangoca.parse_count('{"n": 3, "seconds": 0, "cpu": 0.1}')  # no time measured
    rate, cpu_ms = djangoca.in_all([(50, 2.0, 0.4), (30, 1.5, 0.2)])
    assert rate == 50 / 2.0 + 30 / 1.5  # each process's own rate, summed
    assert cpu_ms == (0.4 + 0.2) / 80 * 1000
    assert djangoca.in_all([(0, 2.0, 0.1)]) == (0.0, 100.0)  # nothing issued: no division by zero

    import pki_scaling  # bench/pki_scaling.py

    rounds = {1: [(100.0, 3.0), (80.0, 3.2)], 2: [(150.0, 3.1), (170.0, 3.0)], 4: [(180.0, 3.5), (160.0, 3.6)]}
    assert pki_scaling.scale(rounds, 1) == 1.0
    assert pki_scaling.scale(rounds, 2) == 160.0 / 90.0  # medians over medians
    assert pki_scaling.varied({"common_name": "a", "organization": "a", "x": 1}, 7) == \
        {"common_name": "a 7", "organization": "a 7", "x": 1}


FAKE_CHILD = """
import json, os, sys
config = json.loads(sys.argv[1])
print(json.dumps({"ready": {}}), flush=True)
go = sys.stdin.readline()
open(f"go-{config['tag']}", "a").write(go)
open(os.environ["SOFTHSM2_CONF"] + ".used", "a").write("x")
print(json.dumps({"n": 10, "seconds": config["scale"], "cpu": 0.02}), flush=True)
"""


def test_scale_round_starts_n_children_on_the_set_up_ca_and_sends_them_go(tmp_path, monkeypatch):
    child = tmp_path / "child.py"
    child.write_text(FAKE_CHILD)
    monkeypatch.setattr(djangoca, "CHILD", child)
    djca = djangoca.DjangoCA(tmp_path, {}, None, "libsofthsm2.so")
    (djca.work / "softhsm" / "tokens").mkdir(parents=True)  # as init_token left it
    djca.python, djca.child_env, djca.config = Path(sys.executable), {"PATH": "/usr/bin:/bin"}, {"tag": "t"}
    answers = djca.scale_round(3, 2.5)
    assert answers == [(10, 2.5, 0.02)] * 3  # each child's own answer, with the round's seconds
    assert (djca.work / "go-t").read_text() == "go\n" * 3  # all three got "go" after being ready
    assert sorted(p.name for p in djca.work.glob("scale-*.log")) == ["scale-0.log", "scale-1.log", "scale-2.log"]
    for i in range(3):  # each on its own copy of the token
        assert (djca.work / f"softhsm-{i}" / "softhsm2.conf.used").read_text() == "x"

    child.write_text("import sys; sys.stderr.write('no CA here'); sys.exit(1)")
    with pytest.raises(RuntimeError, match="did not start") as failed:
        djca.scale_round(2, 1.0)
    assert "no CA here" in str(failed.value)  # its log is in the message


def test_each_scale_child_gets_a_copy_of_the_set_up_token_made_once(tmp_path):
    env = djangoca.init_token(tmp_path / "softhsm", {"PATH": "/usr/bin:/bin"})
    first = djangoca.token_copy(tmp_path / "softhsm", 1, env)
    assert first["SOFTHSM2_CONF"] == str(tmp_path / "softhsm-1" / "softhsm2.conf")
    assert env["SOFTHSM2_CONF"] == str(tmp_path / "softhsm" / "softhsm2.conf")  # the set-up token's, untouched
    assert f"directories.tokendir = {tmp_path / 'softhsm-1' / 'tokens'}" in \
        (tmp_path / "softhsm-1" / "softhsm2.conf").read_text()
    slots = subprocess.run(["softhsm2-util", "--show-slots"], env=first, capture_output=True, text=True,
                           check=True).stdout
    assert f"Label:            {djangoca.TOKEN}" in slots  # the same token, in the copy's directory
    (tmp_path / "softhsm-1" / "tokens" / "mark").write_text("")
    assert djangoca.token_copy(tmp_path / "softhsm", 1, env) == first
    assert (tmp_path / "softhsm-1" / "tokens" / "mark").exists()  # not copied again for the next round
    assert djangoca.token_copy(tmp_path / "softhsm", 2, env)["SOFTHSM2_CONF"].endswith("softhsm-2/softhsm2.conf")


def test_the_diagnostic_rounds_lint_nothing_and_put_the_lint_back():
    """bench/pki.py's diagnostic rounds (ours with a lint that finds nothing, beside django-ca's):
    the lint is put back after a round, and after a round that failed."""
    import pki as bench_pki  # noqa: PLC0415  (bench/pki.py)

    from ramis.ca import lint

    real = lint.lint_certificate
    seen = []

    class Services:
        @staticmethod
        def certificate_issue(**kw):
            seen.append((lint.lint_certificate is real, lint.lint_certificate(b"not a certificate"), kw["subject"]))
            if len(seen) == 3:
                raise RuntimeError("the token went away")

    class Audit:
        @staticmethod
        def stop_delayed_sealer():
            pass

    rate, cpu_ms = bench_pki.unlinted_round(Services, Audit, [b"csr-1", b"csr-2"], {"common_name": "x"}, 7)
    assert rate > 0 and cpu_ms >= 0
    assert [(s[0], s[1]) for s in seen] == [(False, []), (False, [])]
    assert seen[0][2] != seen[1][2]  # a subject of its own each, as in the timed rounds
    assert lint.lint_certificate is real
    with pytest.raises(RuntimeError, match="token"):
        bench_pki.unlinted_round(Services, Audit, [b"csr-3"], {"common_name": "x"}, 9)
    assert lint.lint_certificate is real


def test_the_report_says_what_the_lint_costs_in_place(capsys):
    class Child:
        ready = {"django_ca": "3.2.0", "django": "5.2", "ca_key": "RSA 2048"}
        database = "SQLite (x)"

    def line(label, ours, ref=""):
        print(f"{label} | {ours} | {ref}")

    djangoca.report(line, lambda v: f"{max(v):.0f}", Child, [150.0, 160.0, 170.0], [6.0, 5.0, 5.5],
                    [(250.0, 3.5), (240.0, 3.4), (260.0, 3.6)], 0.5, "SQLite (y)",
                    [(255.0, 3.5), (245.0, 3.6), (265.0, 3.4)], 0.781)
    out = capsys.readouterr().out
    assert "diagnostic: ours with a lint that finds nothing /s | 265 | CPU 3.5 ms/certificate (median); " \
           "1.02× django-ca (not a mode of the portal)" in out
    assert "so pkilint's lint costs, in place | 2.0 ms | of ours' 5.5 ms CPU" in out
    assert "pkilint's lint in a loop of the run's certificates | 0.78 ms |" in out
    djangoca.report(line, lambda v: f"{max(v):.0f}", Child, [150.0], [6.0], [(250.0, 3.5)], 0.5, "SQLite (y)")
    assert "diagnostic" not in capsys.readouterr().out  # only beside the rounds that ran


def test_the_lint_loop_lints_each_certificate(monkeypatch):
    """bench/pki.py's lint loop runs pkilint's lint on every certificate it is given, with the seal
    profile's ETSI type, three times, and answers a CPU time per certificate."""
    import datetime as dt

    import pki as bench_pki  # noqa: PLC0415  (bench/pki.py)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from ramis.ca import lint

    ders = []
    for n in (1, 2):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"bench {n}")])
        start = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(n).not_valid_before(start).not_valid_after(start + dt.timedelta(days=30))
                .sign(key, hashes.SHA256()))
        ders.append(cert.public_bytes(serialization.Encoding.DER))
    linted = []
    real = lint.lint_certificate
    monkeypatch.setattr(lint, "lint_certificate", lambda der, etsi_type=None: linted.append((der, etsi_type))
                        or real(der, etsi_type))
    assert bench_pki.lint_loop_ms(ders) > 0
    assert linted == [(d, "NCP_LEGAL_PERSON_CERTIFICATE") for d in ders] * 3
