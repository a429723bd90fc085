"""django-ca's issuance beside ours, for bench/pki.py (``--only issuance,django-ca``).

django-ca 3.2.0 with its HSM key backend is installed by pip (from whatever package index pip is
configured with) into a virtualenv cached under ``var/bench/`` (git-ignored; rebuilt when the
requirements below change), and bench/djangoca_child.py runs in it as one long-lived process:
its own SoftHSM token (its own ``SOFTHSM2_CONF`` and token directory in the run's temporary
directory, made with ``softhsm2-util --init-token``), its own throwaway database (SQLite with the
same WAL / synchronous=FULL / IMMEDIATE settings as ours, or, when bench/pki.py runs on a
PostgreSQL ``DATABASE_URL`` named ``…_bench``, a sibling database ``…_djca_bench`` dropped and
created afresh), an RSA-2048 CA key generated on that token. Its set-up and warm-up are not timed;
each :meth:`DjangoCA.round` asks it for N certificates and reads back its rate and CPU per
certificate, so bench/pki.py alternates its rounds with ours in the same run. For the scaling part
(bench/pki_scaling.py), :meth:`DjangoCA.scale_round` starts N more children in scale mode on the CA
and database that first child set up, each on its own copy of that token (see token_copy), and times
them together.

What django-ca does per certificate in its defaults (``create_cert`` with the ``client`` profile):
parse the CSR, build and sign the certificate on the token (a token session per call from its
pool), one INSERT. No lint, no pre-signed OCSP answers (``CA_OCSP_RESPONSE_CACHE_EXPIRES`` is
unset by default), no audit entry. Ours lints every certificate with pkilint, pre-signs two OCSP
answers and writes an audit entry in the same transaction: the report says so beside the ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench" / "django-ca-3.2.0"
CHILD = ROOT / "bench" / "djangoca_child.py"
# psycopg for the PostgreSQL run (django-ca's own "postgres" extra builds psycopg from C sources);
# gunicorn serves its OCSP view in bench/pki.py's OCSP part, as ours is served
REQUIREMENTS = ("django-ca[hsm]==3.2.0", "psycopg[binary]>=3.1", "gunicorn==27.0.1")
TOKEN, PIN, SO_PIN = "djca-bench", "4321", "87654321"
SQLITE_OPTIONS = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
                  "transaction_mode": "IMMEDIATE"}  # as ramis/settings.py sets ours


def venv_ready(venv: Path) -> bool:
    """The cached virtualenv holds exactly REQUIREMENTS (its marker file lists them, one a line)."""
    marker = venv / ".installed"
    return (venv / "bin" / "python").exists() and marker.is_file() and \
        marker.read_text().splitlines() == list(REQUIREMENTS)


def ensure_venv(venv: Path = VENV) -> Path:
    """The virtualenv's python, creating the virtualenv (pip install REQUIREMENTS) when not ready."""
    if not venv_ready(venv):
        print(f"  (setting up django-ca's virtualenv in {venv.relative_to(ROOT)}: once, cached)", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
                             capture_output=True, text=True)
        if pip.returncode:
            raise SystemExit(f"pip install {' '.join(REQUIREMENTS)} failed:\n{pip.stdout}{pip.stderr}")
        (venv / ".installed").write_text("".join(f"{r}\n" for r in REQUIREMENTS))
    return venv / "bin" / "python"


def sibling_url(database_url: str) -> str:
    """django-ca's PostgreSQL database beside ours: ``…/x_bench`` → ``…/x_djca_bench``; "" for SQLite."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        return ""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to use database {name!r}: a benchmark database's name ends in _bench")
    return parts._replace(path=f"/{name.removesuffix('_bench')}_djca_bench").geturl()


def child_databases(url: str, directory: Path) -> dict:
    """Django's DATABASES for the child: the PostgreSQL ``url`` (from sibling_url), or SQLite in ``directory``."""
    if not url:
        return {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(directory / "django-ca.sqlite3"),
                            "OPTIONS": dict(SQLITE_OPTIONS)}}
    import dj_database_url

    return {"default": dj_database_url.parse(url)}


def softhsm_conf(directory: Path) -> Path:
    """``directory``/softhsm2.conf: SoftHSM's configuration for the token directory ``directory``/tokens."""
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    return conf


def token_copy(directory: Path, i: int, env: dict) -> dict:
    """``env`` for scale child ``i``: SOFTHSM2_CONF at a copy (made once) of the token in ``directory``
    (init_token's, its CA key generated there by the set-up child, which has ended). django-ca logs in
    and re-initialises the PKCS#11 library for every certificate (its SessionPool), and SoftHSM rewrites
    its token.object on every login: processes sharing one token directory fail in turn (measured:
    NoSuchToken, GeneralError within a second with 2), so each process gets the same token's files."""
    copy = directory.with_name(f"{directory.name}-{i}")
    if not copy.exists():
        shutil.copytree(directory / "tokens", copy / "tokens")
        softhsm_conf(copy)
    return {**env, "SOFTHSM2_CONF": str(copy / "softhsm2.conf")}


def init_token(directory: Path, env: dict) -> dict:
    """A SoftHSM configuration and token directory of django-ca's own under ``directory``, with one
    token (TOKEN, user PIN PIN) initialised by softhsm2-util; returns ``env`` with SOFTHSM2_CONF set."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = softhsm_conf(directory)
    env = {k: v for k, v in env.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    env["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
                   env=env, check=True, capture_output=True)
    return env


def parse_result(raw: str) -> tuple[float, float]:
    """One round's answer line from the child → (certificates per second, CPU ms per certificate)."""
    answer = json.loads(raw) if raw.strip() else {}
    if "rate" not in answer or "cpu_ms" not in answer:
        raise RuntimeError(f"django-ca's bench child answered {raw!r}")
    return float(answer["rate"]), float(answer["cpu_ms"])


def parse_count(raw: str) -> tuple[int, float, float]:
    """A scale-mode child's answer line → (certificates, wall seconds, CPU seconds)."""
    answer = json.loads(raw) if raw.strip() else {}
    if not {"n", "seconds", "cpu"} <= answer.keys() or answer["seconds"] <= 0:
        raise RuntimeError(f"django-ca's bench child answered {raw!r}")
    return int(answer["n"]), float(answer["seconds"]), float(answer["cpu"])


def in_all(answers: list[tuple[int, float, float]]) -> tuple[float, float]:
    """Processes' (certificates, wall seconds, CPU seconds) that ran at once → (certificates per second
    in all: the sum of each one's rate, CPU ms per certificate over all of them)."""
    count = sum(a[0] for a in answers)
    return sum(a[0] / a[1] for a in answers), sum(a[2] for a in answers) / max(count, 1) * 1000


class DjangoCA:
    """The long-lived child in django-ca's virtualenv; ``start`` once, ``round(n)`` per round."""

    def __init__(self, work: Path, env: dict, prepare_database, module: str, *, ocsp: bool = False) -> None:
        self.work = work / ("django-ca-ocsp" if ocsp else "django-ca")
        self.env, self.prepare_database, self.module, self.ocsp = env, prepare_database, module, ocsp
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}
        self.database = ""

    def start(self) -> subprocess.Popen:
        python = ensure_venv()
        env = init_token(self.work / "softhsm", self.env)
        url = sibling_url(self.env.get("DATABASE_URL", ""))
        self.database = self.prepare_database({"DATABASE_URL": url}) if url else "SQLite"
        self.config = {"databases": child_databases(url, self.work), "module": self.module, "token": TOKEN, "pin": PIN,
                       "ocsp": self.ocsp}
        self.python, self.child_env = python, env
        self.log = self.work / "child.log"
        self.proc = subprocess.Popen([str(python), str(CHILD), json.dumps(self.config)], env=env, cwd=self.work,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.log, "w"),
                                     text=True)
        first = self.proc.stdout.readline()
        try:
            self.ready = json.loads(first)["ready"]
        except (ValueError, KeyError):
            raise RuntimeError(f"django-ca's bench child did not start: {first!r}; "
                               f"{self.log.read_text()[-2000:]}") from None
        return self.proc

    def round(self, n: int) -> tuple[float, float]:
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        return parse_result(self.proc.stdout.readline())

    def scale_round(self, n: int, seconds: float) -> list[tuple[int, float, float]]:
        """(after start and close) ``n`` children in scale mode at once, on the CA and database ``start`` set
        up, each on its own copy of its token (token_copy): each makes its CSRs and warms up, then all get
        "go" together and issue for ``seconds``; each one's (certificates, wall seconds, CPU seconds)."""
        config = json.dumps({**self.config, "scale": seconds})
        children = []
        try:
            for i in range(n):
                with open(self.work / f"scale-{i}.log", "w") as log:
                    env = token_copy(self.work / "softhsm", i, self.child_env)
                    children.append(subprocess.Popen([str(self.python), str(CHILD), config], env=env,
                                                     cwd=self.work, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                     stderr=log, text=True))
            for i, child in enumerate(children):
                first = child.stdout.readline()
                if '"ready"' not in first:
                    raise RuntimeError(f"django-ca's scale child did not start: {first!r}; "
                                       f"{(self.work / f'scale-{i}.log').read_text()[-2000:]}")
            for child in children:  # warmed up, all waiting: go
                child.stdin.write("go\n")
                child.stdin.flush()
            return [parse_count(child.stdout.readline()) for child in children]
        finally:
            for child in children:
                child.stdin.close()
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                child.stdout.close()

    def ocsp_certificates(self, n: int) -> dict:
        """(``ocsp=True``) n certificates with pre-signed OCSP answers, one in ten revoked: the child's JSON."""
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        raw = self.proc.stdout.readline()
        if not raw.strip():
            raise RuntimeError(f"django-ca's bench child made no certificates; {self.log.read_text()[-2000:]}")
        return json.loads(raw)

    def serve(self, port: int, workers: int = 2) -> subprocess.Popen:
        """(``ocsp=True``, after ocsp_certificates) its OCSP view (``GenericOCSPView``, pre-signed answers) under
        gunicorn sync workers in its virtualenv, on 127.0.0.1:port, as ours is served (bench/djangoca_wsgi.py)."""
        env = {**self.child_env, "DJCA_BENCH_CONFIG": json.dumps(self.config)}
        return subprocess.Popen([str(self.python), "-m", "gunicorn", "djangoca_wsgi:application", "--pythonpath",
                                 str(ROOT / "bench"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                 "--log-level", "warning"], env=env, cwd=self.work, stdout=subprocess.DEVNULL,
                                stderr=open(self.work / "gunicorn.log", "a"), start_new_session=True)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(30)


def ratios(ours: list[float], theirs: list[float]) -> dict[str, float]:
    """ours / django-ca: medians, bests, and the per-round ratios' median and worst."""
    per_round = sorted(o / t for o, t in zip(ours, theirs, strict=True))
    return {"median": statistics.median(ours) / statistics.median(theirs), "best": max(ours) / max(theirs),
            "round_median": statistics.median(per_round), "round_worst": per_round[0]}


def report(line, spread, djca: DjangoCA, ours: list[float], ours_cpu: list[float], theirs: list[tuple[float, float]],
           load_start: float, db: str, unlinted: list[tuple[float, float]] = (),
           lint_loop: float | None = None) -> None:
    rates, cpu = [t[0] for t in theirs], [t[1] for t in theirs]
    r = ratios(ours, rates)
    ready = djca.ready
    print(f"\nIssuance against django-ca {ready.get('django_ca')} (Django {ready.get('django')}), alternating rounds; "
          f"ours on {db.split(' (')[0]}, django-ca on {djca.database.split(' (')[0]}; load average "
          f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    line("ours: services.certificate_issue /s", spread(ours),
         f"CPU {statistics.median(ours_cpu):.1f} ms/certificate (median); pkilint, 2 OCSP answers, audit")
    line("django-ca: create_cert, HSM backend /s", spread(rates),
         f"CPU {statistics.median(cpu):.1f} ms/certificate (median); {ready.get('ca_key')} CA key on "
         "its own SoftHSM token, profile client, no lint, no OCSP pre-signing, no audit")
    line("ratio ours / django-ca", f"{r['median']:.2f}× median, {r['best']:.2f}× best",
         f"per round: median {r['round_median']:.2f}×, worst {r['round_worst']:.2f}×; target ≥ 1.0×")
    line("certificates per CPU-second, ours / django-ca", f"{statistics.median(cpu) / statistics.median(ours_cpu):.2f}×",
         "(medians; the view load disturbs less)")
    if unlinted:  # bench/pki.py's diagnostic rounds: ours with the lint finding nothing, in place
        bare_rates, bare_cpu = [u[0] for u in unlinted], [u[1] for u in unlinted]
        line("diagnostic: ours with a lint that finds nothing /s", spread(bare_rates),
             f"CPU {statistics.median(bare_cpu):.1f} ms/certificate (median); "
             f"{statistics.median(bare_rates) / statistics.median(rates):.2f}× django-ca (not a mode of the portal)")
        line("  so pkilint's lint costs, in place", f"{statistics.median(ours_cpu) - statistics.median(bare_cpu):.1f} ms",
             f"of ours' {statistics.median(ours_cpu):.1f} ms CPU per certificate (medians)")
    if lint_loop is not None:
        line("  pkilint's lint in a loop of the run's certificates", f"{lint_loop:.2f} ms",
             "CPU per certificate, the best of 3 passes: its cost with everything in the CPU's caches")
