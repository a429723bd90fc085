"""The processes are written in one place, the Procfile; `make prod` (scripts/prod.py),
docker-compose.yml and the systemd units of deploy/systemd/ run the same commands. Compared
after normalising what is each runner's own: the executable's directory, the address bound,
the beat schedule's directory, and the sizing (--workers, --concurrency: per machine)."""

from __future__ import annotations

import configparser
import os
import shlex
from pathlib import Path

import pytest
import yaml

from scripts import prod

ROOT = Path(__file__).resolve().parents[2]
SIZING = {"--workers", "--concurrency"}
PINS = {"CA_ROOT_PIN", "CA_ISSUING_PIN", "CA_SO_PIN"}
TSA_PINS = {"CA_TSA_PIN"}
UNITS = {"web": "ramis-web@.service", "ocsp": "ramis-ocsp@.service", "worker": "ramis-worker.service",
         "signing": "ramis-signing.service", "tsa": "ramis-tsa.service", "beat": "ramis-beat.service"}


def normalised(argv: list[str]) -> list[str]:
    out, skip = [], None
    for i, word in enumerate(argv):
        if skip:
            out.append(skip)
            skip = None
            continue
        if i == 0:
            word = os.path.basename(word)
        out.append(word)
        if word == "--bind":
            skip = "ADDRESS"
        elif word == "--schedule":
            skip = "celerybeat-schedule"
        elif word in SIZING:
            skip = "N"
    return out


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(ROOT / "deploy" / "systemd" / name)
    return parser


def test_the_procfile_names_the_six_processes():
    assert list(prod.procfile()) == ["web", "ocsp", "worker", "signing", "tsa", "beat"]


@pytest.mark.parametrize("name", list(UNITS))
def test_compose_and_the_units_run_the_procfile_command(name):
    expected = normalised(shlex.split(prod.procfile()[name]))
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][name]["command"]
    assert normalised(compose) == expected
    exec_start = unit(UNITS[name])["Service"]["ExecStart"]
    assert normalised(shlex.split(exec_start)) == expected


def test_make_prod_runs_the_procfile_commands_two_web_and_two_ocsp(monkeypatch, tmp_path):
    monkeypatch.setenv("PROD_VAR_DIR", str(tmp_path))
    topology = prod.Topology()
    programs = topology.programs({})
    assert sorted(programs) == ["beat", "nginx", "ocsp1", "ocsp2", "signing", "tsa", "web1", "web2", "worker"]
    for name, (argv, _env) in programs.items():
        if name != "nginx":
            assert normalised(argv) == normalised(shlex.split(prod.procfile()[name.rstrip("12")]))
    assert [a for a in programs["web1"][0] if a.startswith("127.0.0.1:")] == ["127.0.0.1:18501"]
    assert [a for a in programs["web2"][0] if a.startswith("127.0.0.1:")] == ["127.0.0.1:18502"]


def test_only_the_signing_worker_is_given_the_pins(monkeypatch, tmp_path):
    """The CA PINs go to the signing worker alone, the TSA's PIN to the TSA worker alone."""
    # even when the operator exported them in the shell that runs `make prod`
    for pin in PINS | TSA_PINS:
        monkeypatch.setenv(pin, "4321")
    monkeypatch.setenv("PROD_VAR_DIR", str(tmp_path))
    topology = prod.Topology()
    env = topology.app_env()  # what supervisord, and so every program, starts with
    assert not (PINS | TSA_PINS) & set(env)
    programs = topology.programs(env)
    assert {name for name, (_argv, extra) in programs.items() if PINS & set(extra)} == {"signing"}
    assert {name for name, (_argv, extra) in programs.items() if TSA_PINS & set(extra)} == {"tsa"}
    assert programs["signing"][1]["CA_ISSUING_PIN"] == "4321"
    assert programs["tsa"][1] == {"CA_TSA_PIN": "4321"}
    # the units: only ramis-signing reads the PIN file; compose: only `signing` names the PINs
    for name, filename in UNITS.items():
        service = unit(filename)["Service"]
        files = [line for line in (ROOT / "deploy" / "systemd" / filename).read_text().splitlines()
                 if line.startswith("EnvironmentFile=")]
        assert ("EnvironmentFile=/etc/ramis/signing.env" in files) == (name == "signing")
        assert ("EnvironmentFile=/etc/ramis/tsa.env" in files) == (name == "tsa")
        assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
        assert service["PrivateTmp"] == "yes" and service["User"] == "ramis"
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    with_pins = {name for name, svc in services.items() if PINS & set(svc.get("environment") or {})}
    assert with_pins == {"signing"}
    assert {name for name, svc in services.items() if TSA_PINS & set(svc.get("environment") or {})} == {"tsa"}
    # systemctl start ramis.target starts every single-instance unit
    wants = unit("ramis.target")["Unit"]["Wants"].split()
    assert sorted(wants) == sorted(f for f in UNITS.values() if "@" not in f)


def test_the_nginx_site_is_filled_by_make_prod(monkeypatch, tmp_path):
    """Every @@FIELD@@ of deploy/nginx/ramis.conf is filled; /ca/ocsp/ goes to the OCSP tier."""
    import subprocess

    monkeypatch.setenv("PROD_VAR_DIR", str(tmp_path))
    topology = prod.Topology()
    monkeypatch.setattr(prod, "_run", lambda argv, what, env=None: subprocess.CompletedProcess(argv, 0))
    site = (topology.nginx().parent / "ramis.conf").read_text()
    assert "@@" not in site
    assert "server 127.0.0.1:18511" in site and "server 127.0.0.1:18512" in site
    assert site.count("proxy_pass http://ramis_ocsp;") == 2  # plain HTTP and HTTPS
    assert "return 301 https://$host:18543$request_uri;" in site


def test_the_web_tier_knows_the_client_behind_nginx(monkeypatch, tmp_path):
    """nginx appends the client to X-Forwarded-For on every location that reaches the web tier,
    and `make prod` tells the web tier there is one proxy: throttles, lock-outs and the audit
    trail see the client, not nginx (issue 11). Each request's id is passed on for the logs."""
    import re

    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    monkeypatch.setenv("PROD_VAR_DIR", str(tmp_path))
    assert prod.Topology().app_env()["TRUSTED_PROXY_COUNT"] == "1"
    site = (ROOT / "deploy" / "nginx" / "ramis.conf").read_text()
    web_locations = re.findall(r"location [^{]*\{[^}]*proxy_pass http://ramis_web;[^}]*\}", site)
    assert len(web_locations) == 3  # /ca/ over plain HTTP, / over HTTPS, / on the certificate-login port
    for block in web_locations:
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in block
        assert "proxy_set_header X-Request-ID $request_id;" in block
    # ... and written in nginx's access log by every server, so one id leads from it to the audit entries
    log_format = re.search(r"log_format ramis ([^;]*);", site).group(1)
    assert log_format.rstrip().endswith("$request_id'")
    servers = re.findall(r"\nserver \{\n(?:    [^\n]*\n)+?    access_log ([^;]*);", site)
    assert site.count("\nserver {") == 3 and servers == ["@@ACCESS_LOG@@ ramis"] * 3


def test_only_the_certificate_port_passes_a_client_certificate(monkeypatch, tmp_path):
    """Every location that reaches a backend sets X-SSL-Client-Cert (nginx then drops the client's
    own header of that name): empty everywhere but the certificate-login server, which asks for a
    certificate (and only it) and passes the one presented (issue 14, certauth/certificates.py)."""
    import re
    import subprocess

    monkeypatch.setenv("PROD_VAR_DIR", str(tmp_path))
    topology = prod.Topology()
    monkeypatch.setattr(prod, "_run", lambda argv, what, env=None: subprocess.CompletedProcess(argv, 0))
    site = (topology.nginx().parent / "ramis.conf").read_text()
    servers = site.split("\nserver {")[1:]
    cert_servers = [s for s in servers if "ssl_verify_client" in s]
    assert len(cert_servers) == 1 and f"listen 127.0.0.1:{topology.cert_port} ssl;" in cert_servers[0]
    assert "ssl_verify_client optional_no_ca;" in cert_servers[0]
    assert f"ssl_client_certificate {topology.client_ca};" in cert_servers[0]
    proxied = re.findall(r"location [^{]*\{[^}]*proxy_pass [^}]*\}", site)
    assert len(proxied) == 5
    for block in proxied:
        value = re.findall(r"proxy_set_header X-SSL-Client-Cert (\S+);", block)
        expected = "$ssl_client_escaped_cert" if block in cert_servers[0] else '""'
        assert value == [expected], block
    env = topology.app_env()
    assert env["CERTAUTH_LOGIN_URL"] == f"https://{topology.host}:{topology.cert_port}/auth/certificate/"
