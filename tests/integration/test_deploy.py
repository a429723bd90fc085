"""Production settings pass Django's deployment checks; the compose file parses."""

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(extra)
    return env


def _check_deploy(tmp_path, **extra):
    env = _env(RAMIS_ENV="production", SECRET_KEY=secrets.token_urlsafe(48), ALLOWED_HOSTS="ra.example.ir",
               RAMIS_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
               PUBLIC_BASE_URL="https://ra.example.ir")
    env.update(extra)
    env = {k: v for k, v in env.items() if v is not None}  # None: leave the setting unset
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_has_no_warnings(tmp_path):
    # A staging server that states it uses the sandbox gateway; production names the bank backend.
    result = _check_deploy(tmp_path, PAYMENT_ALLOW_SANDBOX="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_sandbox_gateway_in_production(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode != 0
    assert "ramis.E001" in result.stderr


@pytest.mark.parametrize("base_url", [None, "http://ra.example.ir", "https://127.0.0.1", "https://192.0.2.7:8443",
                                      "https://localhost"])
def test_check_deploy_refuses_a_public_base_url_certificates_cannot_name(tmp_path, base_url):
    """None: unset, the development default http://127.0.0.1:8000."""
    result = _check_deploy(tmp_path, PAYMENT_ALLOW_SANDBOX="1", PUBLIC_BASE_URL=base_url)
    assert result.returncode != 0
    assert "ca.E001" in result.stderr and "PUBLIC_BASE_URL" in result.stderr, result.stderr


@pytest.mark.parametrize(("ca_url", "code"), [("http://10.0.0.7", "ca.E002"), ("http://localhost:8080", "ca.E002"),
                                             ("https://pki.example.ir", "ca.W001")])
def test_check_deploy_judges_the_urls_certificates_name(tmp_path, ca_url, code):
    result = _check_deploy(tmp_path, PAYMENT_ALLOW_SANDBOX="1", CA_PUBLIC_URL=ca_url)
    assert result.returncode != 0
    assert code in result.stderr and "CA_PUBLIC_URL" in result.stderr, result.stderr
    assert "ca.E001" not in result.stderr  # the portal's own https:// address is fine


def test_check_deploy_refuses_one_so_pin_for_every_office(tmp_path):
    result = _check_deploy(tmp_path, PAYMENT_ALLOW_SANDBOX="1", OFFICE_TOKEN_SO_PIN="12345678")
    assert result.returncode != 0
    assert "desk.E001" in result.stderr and "OFFICE_TOKEN_SO_PINS" in result.stderr, result.stderr
    result = _check_deploy(tmp_path, PAYMENT_ALLOW_SANDBOX="1", OFFICE_TOKEN_SO_PINS="TEH01=teh-so-pin,ISF01=isf-so")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = _env(RAMIS_ENV="production", SECRET_KEY="", ALLOWED_HOSTS="ra.example.ir", RAMIS_VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_bad_boolean_setting_fails_loudly(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=_env(DEBUG="maybe"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_docker_compose_config_parses():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose (Debian package) is missing: `make test` installs it")
    env = _env(SECRET_KEY="s", POSTGRES_PASSWORD="p", CA_ISSUING_PIN="1234", CA_TSA_PIN="1234")  # CA_ROOT_PIN optional
    result = subprocess.run([compose, "-f", "docker-compose.yml", "config", "--services"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {"postgres", "redis", "web", "ocsp", "worker", "signing", "tsa", "beat"}


def test_wsgi_liveness_probe_answers_any_host():
    from ramis.wsgi import application

    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(application({"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET", "HTTP_HOST": "10.0.0.7:8000"},
                                start_response))
    assert (seen["status"], json.loads(body)) == ("200 OK", {"status": "ok"})


def test_wsgi_readiness_probe_answers_any_host(db):
    from ramis.wsgi import application

    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(application({"PATH_INFO": "/readyz", "REQUEST_METHOD": "GET", "HTTP_HOST": "10.0.0.7:8000"},
                                start_response))
    assert seen["status"] == "200 OK" and seen["headers"]["Content-Type"] == "application/json"
    assert json.loads(body)["status"] == "ready"


@pytest.mark.parametrize(("remote", "status"), [("127.0.0.1", "200 OK"), ("10.1.2.3", "404 Not Found")])
def test_wsgi_metrics_answer_a_local_scraper_only(db, remote, status):
    from ramis.wsgi import application

    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    environ = {"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET", "HTTP_HOST": "127.0.0.1:8000",
               "REMOTE_ADDR": remote, "wsgi.input": io.BytesIO(b""), "SERVER_NAME": "x", "SERVER_PORT": "8000",
               "wsgi.url_scheme": "http"}
    body = b"".join(application(environ, start_response))
    assert seen["status"] == status
    assert (b"ramis_outbox_backlog" in body) is (status == "200 OK")

