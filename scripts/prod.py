"""The production topology on this machine, without Docker (`make prod`, `make prod-stop`, and the
start of `make prod-check`).

What runs, under supervisord (chosen over honcho: it restarts a process that dies instead of
stopping all of them, and stops or starts one process on request — what the fault drills do):

- nginx (Debian's) terminating TLS with a certificate made at start-up (var/prod/tls/), the site
  being deploy/nginx/ramis.conf with its @@…@@ fields filled;
- the commands of the Procfile: two ``web`` (gunicorn) and two ``ocsp`` (``ca ocsp-serve``)
  processes on their own ports, the default ``worker``, the ``signing`` worker, the ``tsa``
  worker (the timestamp authority's signer) and ``beat``;
- ``devbank``, the stand-in Zibal bank, unless PAYMENT_BACKEND is given.

Only the signing worker's environment has the CA PINs (var/prod/signing.env, made once), and
only the TSA worker's has the TSA token's PIN (var/prod/tsa.env); every other process is started
without them (`ca init`, run once at start-up, is given both). Settings are RAMIS_ENV=production with a SECRET_KEY made
once into var/prod/secret_key. PostgreSQL and Redis are the machine's unless DATABASE_URL /
REDIS_URL say otherwise (defaults: database ramis_prod, Redis db 5; on a fresh Debian, whose
PostgreSQL asks for a password, a role of our own is made: scripts/prod_db.py).

Usage: prod.py up [--detach] [--seed-demo] | down | status
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"
PIN_NAMES = ("CA_ROOT_PIN", "CA_ISSUING_PIN", "CA_SO_PIN")
TSA_PIN_NAMES = ("CA_TSA_PIN",)
OFFICE_CODES = ("TEH01", "ISF01", "MSH01", "TBZ01", "SHZ01")


class Failure(Exception):
    """A start-up step failed: one line for the operator."""


def procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's ``name: command`` lines."""
    commands = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands


def _ports(name: str, default: str) -> list[int]:
    raw = os.environ.get(name, default)
    try:
        return [int(p) for p in raw.split(",") if p.strip()]
    except ValueError:
        raise Failure(f"{name}={raw!r} is not a comma-separated list of ports") from None


class Topology:
    def __init__(self) -> None:
        env = os.environ
        self.var = Path(env.get("PROD_VAR_DIR", str(ROOT / "var" / "prod"))).resolve()
        self.host = env.get("PROD_HOST", "ra.example.ir")
        self.listen = env.get("PROD_LISTEN", "127.0.0.1")
        self.http_port = int(env.get("PROD_HTTP_PORT", "18580"))
        self.https_port = int(env.get("PROD_HTTPS_PORT", "18543"))
        self.cert_port = int(env.get("PROD_CERT_PORT", "18545"))  # certificate login (client TLS)
        self.web_ports = _ports("PROD_WEB_PORTS", "18501,18502")
        self.ocsp_ports = _ports("PROD_OCSP_PORTS", "18511,18512")
        self.bank_port = int(env.get("PROD_BANK_PORT", "18520"))
        self.log = self.var / "log"
        self.conf = self.var / "supervisord.conf"
        self.tls_cert = self.var / "tls" / "portal.crt"
        self.tls_key = self.var / "tls" / "portal.key"
        self.client_ca = self.var / "tls" / "client-ca.pem"  # our CAs: whose client certificates log in

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    # --- files made once or at each start -------------------------------------------------------
    def _secret(self, name: str, make) -> str:
        path = self.var / name
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text().strip()

    def _env_file(self, name: str, defaults: dict[str, str]) -> dict[str, str]:
        path = self.var / name
        if not path.exists():
            path.write_text("".join(f"{k}={v}\n" for k, v in defaults.items()))
            path.chmod(0o600)
        values = {}
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
        return values

    def signing_env(self) -> dict[str, str]:
        """The CA PINs: from the environment when given, else made once into signing.env."""
        pins = self._env_file("signing.env", {
            "CA_ROOT_PIN": f"{secrets.randbelow(10**8):08d}",
            "CA_ISSUING_PIN": f"{secrets.randbelow(10**8):08d}",
            "CA_SO_PIN": f"{secrets.randbelow(10**10):010d}",
        })
        return {name: os.environ.get(name) or pins[name] for name in PIN_NAMES}

    def tsa_env(self) -> dict[str, str]:
        """The TSA token's PIN: from the environment when given, else made once into tsa.env."""
        pins = self._env_file("tsa.env", {"CA_TSA_PIN": f"{secrets.randbelow(10**8):08d}"})
        return {name: os.environ.get(name) or pins[name] for name in TSA_PIN_NAMES}

    def app_env(self) -> dict[str, str]:
        """The environment every process of the portal starts with: the caller's, without PINs."""
        env = {k: v for k, v in os.environ.items() if k not in PIN_NAMES + TSA_PIN_NAMES}
        public = f"https://{self.host}" + ("" if self.https_port == 443 else f":{self.https_port}")
        so_pins = self._env_file("office-so-pins.env",
                                 {code: f"{secrets.randbelow(10**10):010d}" for code in OFFICE_CODES})
        redis_url = env.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
        env.update({
            "RAMIS_ENV": "production",
            "RAMIS_VAR_DIR": str(self.var),
            "SECRET_KEY": self._secret("secret_key", lambda: secrets.token_urlsafe(48)),
            "DATABASE_URL": env.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/ramis_prod",
            "REDIS_URL": redis_url,
            "CACHE_URL": env.get("CACHE_URL") or redis_url,
            "ALLOWED_HOSTS": env.get("ALLOWED_HOSTS") or f"{self.host},127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": env.get("CSRF_TRUSTED_ORIGINS")
            or f"{public},https://127.0.0.1:{self.https_port},https://localhost:{self.https_port},"
            f"https://{self.host}:{self.cert_port},https://127.0.0.1:{self.cert_port}",
            # the login pages' «ورود با گواهی الکترونیکی» button: nginx's certificate-login port
            "CERTAUTH_LOGIN_URL": env.get("CERTAUTH_LOGIN_URL")
            or f"https://{self.host}:{self.cert_port}/auth/certificate/",
            "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or public,
            "CA_PUBLIC_URL": env.get("CA_PUBLIC_URL")
            or f"http://{self.host}" + ("" if self.http_port == 80 else f":{self.http_port}"),
            "OFFICE_TOKEN_SO_PINS": env.get("OFFICE_TOKEN_SO_PINS") or ",".join(f"{k}={v}" for k, v in so_pins.items()),
            # nginx is the one proxy in front: the client is the address it appends to
            # X-Forwarded-For (throttles, lock-outs and the audit trail; docs/operator/behind-a-proxy.md)
            "TRUSTED_PROXY_COUNT": env.get("TRUSTED_PROXY_COUNT") or "1",
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("OFFICE_TOKEN_SO_PIN", None)
        if not env.get("PAYMENT_BACKEND"):
            env.update({"PAYMENT_BACKEND": "ramis.requests.payments.AzBankGatewaysBackend", "BANK_GATEWAY": "ZIBAL",
                        "BANK_MERCHANT_CODE": "prod-devbank", "BANK_BASE_URL": f"http://127.0.0.1:{self.bank_port}"})
        return env

    def tls(self) -> None:
        """A certificate for this start (the HTTPS host, localhost and 127.0.0.1), made by openssl."""
        self.tls_cert.parent.mkdir(parents=True, exist_ok=True)
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-days", "30", "-subj", f"/CN={self.host}", "-keyout", str(self.tls_key), "-out", str(self.tls_cert),
              "-addext", f"subjectAltName=DNS:{self.host},DNS:localhost,IP:127.0.0.1",
              "-addext", "basicConstraints=critical,CA:FALSE",
              "-addext", "extendedKeyUsage=serverAuth"], "make the TLS certificate")
        self.tls_key.chmod(0o600)

    def nginx(self) -> Path:
        site = (ROOT / "deploy" / "nginx" / "ramis.conf").read_text()
        fields = {
            "LISTEN": self.listen, "HTTP_PORT": str(self.http_port), "HTTPS_PORT": str(self.https_port),
            "HTTPS_SUFFIX": "" if self.https_port == 443 else f":{self.https_port}",
            "CERT_PORT": str(self.cert_port), "CLIENT_CA": str(self.client_ca),
            "TLS_CERT": str(self.tls_cert), "TLS_KEY": str(self.tls_key),
            "STATIC_ROOT": str(self.var / "staticfiles"), "ACCESS_LOG": str(self.log / "nginx-access.log"),
            "WEB_SERVERS": "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.web_ports),
            "OCSP_SERVERS": "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.ocsp_ports),
        }
        for key, value in fields.items():
            site = site.replace(f"@@{key}@@", value)
        directory = self.var / "nginx"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ramis.conf").write_text(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""  # the files under var/ are the caller's
        main = (f"{user}worker_processes 2;\npid {directory}/nginx.pid;\nerror_log {self.log}/nginx-error.log warn;\n"
                f"events {{ worker_connections 512; }}\n"
                f"http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
                f"  access_log off;\n  sendfile on;\n  server_tokens off;\n"
                f"  client_body_temp_path {directory}/body;\n  proxy_temp_path {directory}/proxy;\n"
                f"  fastcgi_temp_path {directory}/fastcgi;\n  uwsgi_temp_path {directory}/uwsgi;\n"
                f"  scgi_temp_path {directory}/scgi;\n  include {directory}/ramis.conf;\n}}\n")
        (directory / "nginx.conf").write_text(main)
        _run(["nginx", "-t", "-q", "-p", str(directory), "-e", str(self.log / "nginx-error.log"),
              "-c", str(directory / "nginx.conf")], "check the nginx configuration")
        return directory / "nginx.conf"

    # --- supervisord ------------------------------------------------------------------------------
    def programs(self, env: dict[str, str]) -> dict[str, tuple[list[str], dict[str, str]]]:
        """name -> (argv, extra environment)."""
        commands = procfile()

        def argv(name: str, port: int | None = None) -> list[str]:
            words = shlex.split(commands[name].replace("$PORT", str(port)).replace("$RAMIS_VAR_DIR", str(self.var)))
            exe = BIN / words[0]
            return [str(exe) if exe.exists() else words[0], *words[1:]]

        programs = {}
        for i, port in enumerate(self.web_ports, 1):
            programs[f"web{i}"] = (argv("web", port), {})
        for i, port in enumerate(self.ocsp_ports, 1):
            programs[f"ocsp{i}"] = (argv("ocsp", port), {})
        programs["worker"] = (argv("worker"), {})
        programs["signing"] = (argv("signing"), self.signing_env())
        programs["tsa"] = (argv("tsa"), self.tsa_env())
        programs["beat"] = (argv("beat"), {})
        conf = self.var / "nginx" / "nginx.conf"
        programs["nginx"] = (["nginx", "-p", str(conf.parent), "-e", str(self.log / "nginx-error.log"),
                              "-c", str(conf), "-g", "daemon off;"], {})
        if env.get("BANK_BASE_URL", "").startswith("http://127.0.0.1"):
            programs["devbank"] = ([str(BIN / "python"), "manage.py", "devbank", "--port", str(self.bank_port),
                                    "--merchant", env["BANK_MERCHANT_CODE"]], {})
        return programs

    def supervisord_conf(self, env: dict[str, str], foreground: bool) -> Path:
        sock = self.var / "supervisor.sock"
        lines = [
            "; made by scripts/prod.py at each start (it holds the signing worker's PINs: mode 0600)",
            "[unix_http_server]", f"file={sock}", "chmod=0700", "",
            "[supervisord]", f"logfile={self.log}/supervisord.log", f"pidfile={self.var}/supervisord.pid",
            f"childlogdir={self.log}", f"nodaemon={'true' if foreground else 'false'}", "silent=false", "",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "", "[supervisorctl]", f"serverurl=unix://{sock}", "",
        ]
        for name, (argv, extra) in self.programs(env).items():
            lines += [f"[program:{name}]", "command=" + " ".join(_quote(a) for a in argv), f"directory={ROOT}",
                      "autostart=true", "autorestart=true", "startsecs=3", "startretries=20",
                      "stopasgroup=true", "killasgroup=true", "stopwaitsecs=15",
                      f"stdout_logfile={self.log}/{name}.log", "redirect_stderr=true",
                      "stdout_logfile_maxbytes=20MB", "stdout_logfile_backups=1"]
            if extra:
                lines.append("environment=" + ",".join(f'{k}="{v}"' for k, v in extra.items()))
            lines.append("")
        self.conf.write_text("\n".join(lines))
        self.conf.chmod(0o600)
        return self.conf

    def ctl(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "supervisorctl"), "-c", str(self.conf), *args],
                              capture_output=True, text=True, check=check)

    def running(self) -> bool:
        pidfile = self.var / "supervisord.pid"
        if not pidfile.exists():
            return False
        try:
            os.kill(int(pidfile.read_text()), 0)
        except (ValueError, ProcessLookupError):
            return False
        return True

    # --- start and stop ---------------------------------------------------------------------------
    def prepare(self, env: dict[str, str], seed_demo: bool) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        self.var.chmod(0o700)
        self.log.mkdir(exist_ok=True)
        _ensure_database(env["DATABASE_URL"])
        self.tls()
        manage = [str(BIN / "python"), "manage.py"]
        _run([*manage, "migrate", "--noinput", "-v", "0"], "migrate the database", env=env)
        if seed_demo:  # demo data: DEBUG only (published passwords and TOTP secrets), for prod-check
            _run([*manage, "seed_demo"], "load the demo data", env={**env, "DEBUG": "1"})
        _run([*manage, "ca", "init"], "initialise the CA (ca init)", env={**env, **self.signing_env(), **self.tsa_env()})
        _run([*manage, "ca", "chain", "--out", str(self.client_ca)], "write our CA certificates for nginx", env=env)
        _run([*manage, "collectstatic", "--noinput", "-v", "0"], "collect the static files", env=env)
        self.nginx()

    def up(self, *, detach: bool, seed_demo: bool) -> int:
        if self.running():
            raise Failure(f"already running (supervisord of {self.var}); `make prod-stop` first")
        self.var.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("DATABASE_URL"):  # the machine's PostgreSQL, reached as it lets us
            from scripts import prod_db

            try:
                os.environ["DATABASE_URL"] = prod_db.local_database_url(self.var)
            except prod_db.DatabaseFailure as exc:
                raise Failure(str(exc)) from None
        env = self.app_env()
        self.prepare(env, seed_demo)
        conf = self.supervisord_conf(env, foreground=not detach)
        print(f"prod: https://127.0.0.1:{self.https_port}/ (and https://{self.host}:{self.https_port}/ if it "
              f"resolves here), plain HTTP /ca/ on :{self.http_port}, certificate login on :{self.cert_port}; "
              f"logs in {self.log}/")
        argv = [str(BIN / "supervisord"), "-c", str(conf)]
        if detach:
            _run(argv, "start supervisord", env=env)
            self.wait_ready()
            print("prod: every process is up (`make prod-stop` stops them)")
            return 0
        proc = subprocess.Popen(argv, env=env)  # Ctrl-C reaches supervisord too: it stops every process
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return proc.wait()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Every program RUNNING, each web process answering, each OCSP process answering, and the
        HTTPS front door answering with the start-up certificate."""
        deadline = time.monotonic() + timeout
        context = ssl.create_default_context(cafile=str(self.tls_cert))
        last = ""
        while time.monotonic() < deadline:
            status = self.ctl("status").stdout
            bad = [line.split()[0] for line in status.splitlines() if line.strip() and "RUNNING" not in line]
            try:
                for port in self.web_ports:
                    _get(f"http://127.0.0.1:{port}/healthz")
                for port in self.ocsp_ports:
                    req = urllib.request.Request(f"http://127.0.0.1:{port}/ca/ocsp/issuing/", data=b"",
                                                 headers={"Content-Type": "application/ocsp-request"})
                    urllib.request.urlopen(req, timeout=3).read()  # noqa: S310 - loopback
                _get(f"{self.https_url}/healthz", context=context)
                if not bad:
                    return
                last = "not running: " + ", ".join(bad)
            except OSError as exc:
                last = str(exc)
            time.sleep(0.5)
        raise Failure(f"the topology did not come up within {timeout:.0f} s ({last}); logs in {self.log}/")

    def down(self) -> int:
        if not self.running():
            print(f"prod: nothing running under {self.var}")
            return 0
        self.ctl("shutdown")
        pid = int((self.var / "supervisord.pid").read_text())
        for _ in range(120):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print("prod: stopped")
                return 0
            time.sleep(0.25)
        os.kill(pid, signal.SIGTERM)
        return 0


def _quote(arg: str) -> str:
    # supervisord splits `command=` like a shell; '%' is its interpolation character
    return shlex.quote(arg).replace("%", "%%")


def _get(url: str, context: ssl.SSLContext | None = None) -> bytes:
    with urllib.request.urlopen(url, timeout=3, context=context) as response:  # noqa: S310 - loopback
        return response.read()


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise Failure(f"could not {what}: {detail[-1] if detail else f'exit {result.returncode}'}")


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database of DATABASE_URL when it is missing."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from psycopg import sql

    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname", None) or "postgres"
    try:
        with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise Failure(f"PostgreSQL at {url}: {str(exc).strip().splitlines()[0]}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up")
    up.add_argument("--detach", action="store_true", help="start in the background and wait until ready")
    up.add_argument("--seed-demo", action="store_true", help="load the demo data (prod-check)")
    sub.add_parser("down")
    sub.add_parser("status")
    args = parser.parse_args(argv)
    topology = Topology()
    try:
        if args.command == "up":
            return topology.up(detach=args.detach, seed_demo=args.seed_demo)
        if args.command == "down":
            return topology.down()
        print(topology.ctl("status").stdout, end="")
        return 0
    except Failure as exc:
        print(f"prod: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
