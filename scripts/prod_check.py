"""`make prod-check`: the production topology (scripts/prod.py) on a throwaway PostgreSQL and Redis
of its own, the browser journeys and the fault drills of tests/prod/ through nginx, then
everything it started stopped. Exit status 0, or 1 with one line per failed journey or drill.

Ports (18500-18599 by default): PostgreSQL PROD_CHECK_PG_PORT (18532), Redis
PROD_CHECK_REDIS_PORT (18533); the topology's own, as prod.py reads them, moved off `make prod`'s
so both can run at once.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.prod import BIN, Failure, Topology  # noqa: E402

# the journeys first, then the drills that break parts of the topology
TESTS = ["tests/prod/test_ramis_journey.py", "tests/prod/test_enamad_journey.py", "tests/prod/test_tsa.py",
         "tests/prod/test_certificate_login.py", "tests/prod/test_signed_letter.py",
         "tests/prod/test_drills.py",
         "tests/prod/test_drill_postgres.py", "tests/prod/test_drill_sms.py", "tests/prod/test_drill_signing.py"]
CHECK_PORTS = {"PROD_HTTP_PORT": "18581", "PROD_HTTPS_PORT": "18544", "PROD_CERT_PORT": "18546",
               "PROD_WEB_PORTS": "18503,18504",
               "PROD_OCSP_PORTS": "18513,18514", "PROD_BANK_PORT": "18521"}


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Postgres:
    """A throwaway PostgreSQL cluster (initdb under a temporary directory) on 127.0.0.1:port."""

    def __init__(self, directory: Path, port: int) -> None:
        self.dir = directory
        self.port = port
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        if not versions:
            raise Failure("PostgreSQL server binaries not found under /usr/lib/postgresql (apt: postgresql)")
        self.bin = Path(versions[-1])

    @classmethod
    def from_env(cls) -> Postgres:
        return cls(Path(os.environ["PROD_CHECK_PG_DIR"]), int(os.environ["PROD_CHECK_PG_PORT"]))

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/ramis_prodcheck"

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*_as_postgres_user(), str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),
                               "-l", str(self.dir / "postgres.log"), *args], capture_output=True, text=True,
                              timeout=120)

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        result = subprocess.run([*_as_postgres_user(), str(self.bin / "initdb"), "-D", str(self.dir / "data"),
                                 "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                                capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise Failure(f"initdb failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}")

    def start(self) -> None:
        result = self._ctl("-w", "-t", "60", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                           "-c fsync=off -c max_connections=200", "start")
        if result.returncode:
            raise Failure(f"PostgreSQL did not start on port {self.port}: see {self.dir}/postgres.log")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def running(self) -> bool:
        return self._ctl("status").returncode == 0


class Redis:
    """A throwaway redis-server on 127.0.0.1:port, without persistence (as a crash loses it)."""

    def __init__(self, directory: Path, port: int) -> None:
        self.dir = directory
        self.port = port

    @classmethod
    def from_env(cls) -> Redis:
        return cls(Path(os.environ["PROD_CHECK_REDIS_DIR"]), int(os.environ["PROD_CHECK_REDIS_PORT"]))

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "yes",
                                 "--pidfile", str(self.dir / "redis.pid"), "--logfile", str(self.dir / "redis.log")],
                                capture_output=True, text=True, timeout=30)
        if result.returncode:
            raise Failure(f"redis-server did not start on port {self.port}")
        for _ in range(100):
            if self.running():
                return
            time.sleep(0.1)
        raise Failure(f"redis-server is not answering on port {self.port}")

    def running(self) -> bool:
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True,
                              timeout=10).stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, timeout=30)
        for _ in range(100):
            if not self.running():
                return
            time.sleep(0.1)


def failures(junit: Path) -> list[str]:
    """One line per failed test of a JUnit XML report: its name and the first line of why."""
    if not junit.exists():
        return ["tests/prod: pytest wrote no report (it could not start)"]
    lines = []
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - our own pytest report
        for problem in [*case.findall("failure"), *case.findall("error")]:
            message = (problem.get("message") or problem.text or "").strip().splitlines()
            lines.append(f"{case.get('name')}: {message[0][:200] if message else problem.tag}")
    return lines


def drill_results(report: Path) -> list[str]:
    """The drills' own lines (tests/prod/conftest.py ``drill_report``): what the user saw and the
    time to recover, one line each, for the operator (and the lead) to quote."""
    if not report.exists():
        return []
    lines = []
    for raw in report.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(raw)
        except ValueError:
            continue
        recovered = row.get("recovered_seconds")
        took = f"{recovered:.1f} s" if isinstance(recovered, (int, float)) else "-"
        lines.append(f"prod-check: drill {row.get('drill')}: saw {row.get('saw')}; recovered in {took}; "
                     f"load average {row.get('load', '?')}")
    return lines


def main(argv: list[str]) -> int:
    for key, value in CHECK_PORTS.items():
        os.environ.setdefault(key, value)
    tmp = Path(tempfile.mkdtemp(prefix="ramis-prod-check-"))
    tmp.chmod(0o755)  # the postgres user reaches its directory inside
    pg = Postgres(tmp / "pg", int(os.environ.get("PROD_CHECK_PG_PORT", "18532")))
    redis = Redis(tmp / "redis", int(os.environ.get("PROD_CHECK_REDIS_PORT", "18533")))
    os.environ.update({
        "PROD_CHECK": "1", "PROD_VAR_DIR": str(tmp / "prod"), "DATABASE_URL": pg.url,
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0", "CACHE_URL": f"redis://127.0.0.1:{redis.port}/1",
        "PROD_CHECK_PG_DIR": str(pg.dir), "PROD_CHECK_PG_PORT": str(pg.port),
        "PROD_CHECK_REDIS_DIR": str(redis.dir), "PROD_CHECK_REDIS_PORT": str(redis.port),
        # the tests read login codes from the outbox, as /dev/outbox/ shows them in development
        "OUTBOX_KEEP_SECRETS": "1",
        # the e-Namad journey signs the SMS gateway's and the IVR's callbacks as they do
        "ENAMAD_INBOUND_SECRET": secrets.token_hex(16),
        # the signing drill waits for the clerk's "the CA did not answer in time"
        "OFFICE_SIGNING_TIMEOUT_SECONDS": "20",
        # the signing worker pauses this long between the CA's signature and recording it: the
        # window in which the kill drill SIGKILLs it (0, off, outside drills)
        "OFFICE_SIGNING_DRILL_DELAY_SECONDS": "3",
        # the journeys and drills log the same applicant in again within a minute
        "OTP_SMS_RESEND_SECONDS": "1",
        # SMS go to a stand-in Kavenegar gateway the tests run on loopback (tests/prod/conftest.py),
        # with short timeouts and retries so the SMS drill's refused and hung gateway stay brief
        "SMS_BACKEND": "ramis.common.sms.KavenegarSMSBackend", "KAVENEGAR_API_KEY": "prodcheck",
        "SMS_BASE_URL": f"http://127.0.0.1:{os.environ.get('PROD_CHECK_SMS_PORT', '18522')}",
        "PROD_CHECK_SMS_PORT": os.environ.get("PROD_CHECK_SMS_PORT", "18522"),
        "SMS_CONNECT_TIMEOUT_SECONDS": "2", "SMS_READ_TIMEOUT_SECONDS": "3", "OUTBOX_RETRY_BASE_SECONDS": "2",
        # what was queued while Redis was down is swept up soon after it returns (the Redis drill)
        "OUTBOX_RETRY_SWEEP_SECONDS": "10",
        # each drill writes one line: what the user saw, the time to recover (printed at the end)
        "PROD_CHECK_REPORT": str(tmp / "drills.jsonl"),
    })
    for name in ("PAYMENT_BACKEND", "CA_PUBLIC_URL", "PUBLIC_BASE_URL", "ALLOWED_HOSTS",
                 "CSRF_TRUSTED_ORIGINS", "CERTAUTH_LOGIN_URL", "OFFICE_TOKEN_SO_PINS", "CA_ROOT_PIN",
                 "CA_ISSUING_PIN", "CA_SO_PIN"):
        os.environ.pop(name, None)
    topology = Topology()
    started = time.monotonic()
    lines: list[str] = []
    try:
        pg.init()
        pg.start()
        redis.start()
        if topology.up(detach=True, seed_demo=True):
            raise Failure("the topology did not start")
        env = topology.app_env()
        junit = tmp / "junit.xml"
        subprocess.run([str(BIN / "python"), "-m", "pytest", "-p", "no:django", "-p", "no:cacheprovider",
                        "-W", "ignore::pytest.PytestConfigWarning", "--confcutdir", "tests/prod",
                        "-o", "addopts=", "-q", "-rf", f"--junitxml={junit}", *argv,
                        *([] if any(a.startswith("tests/") for a in argv) else TESTS)], cwd=ROOT, env=env)
        lines = failures(junit)
        for line in drill_results(tmp / "drills.jsonl"):
            print(line)
    except Failure as exc:
        lines = [f"start-up: {exc}"]
    except KeyboardInterrupt:
        lines = ["interrupted"]
    finally:
        topology.down()
        redis.stop()
        pg.stop()
        if not os.environ.get("PROD_CHECK_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"prod-check: kept {tmp}")
    took = time.monotonic() - started
    for line in lines:
        print(f"prod-check: FAILED {line}", file=sys.stderr)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    if not lines:
        print(f"prod-check: every journey and drill passed ({took:.0f} s, load average {load})")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
