"""Pages at scale (issue 16): p50/p95 and the query count of the busy pages, beside a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ramis_pages_bench .venv/bin/python bench/pages.py \\
        [--scale 1.0] [--seconds 5] [--connections 4] [--workers 2] [--conn-max-age 0,600]
        [--only logo,seal] [--rounds 1]

Seeds a PostgreSQL database of its own (its name must end in ``_bench``; it is dropped and created
afresh) with 10,000 certificate requests over 20 registration offices and 5,000 e-Namad businesses
of which 3,000 hold a seal (``--scale`` multiplies these), analyses it (``ANALYZE``, as autovacuum
would on a live database, so the planner knows the tables' sizes), serves it with gunicorn (``--workers``
sync workers, the production command's kind) and loads each page with wrk (Debian's package: a
client nobody here wrote; a Lua ``done`` hook prints its p50/p95), ``--connections`` connections
on two threads for ``--seconds`` seconds. Pages: the office desk queue (a clerk of an office with
1/20 of the requests), an applicant's panel, the e-Namad registry and a registry search, the
e-Namad staff desk (files under review), a seal page and a seal logo (with its site's Referer),
and ``/__bench__/bare/`` — fixed bytes through the same middleware in the same server
(bench/pages_urls.py). Each page's query count is read once in this process (Django's test client
on the same database, the same session). The whole set is run once per ``--conn-max-age`` value
(DB_CONN_MAX_AGE: 0 opens a PostgreSQL connection per request; 600 keeps it, production's default).

The machine may be shared: the load average is printed before and after; a figure taken under
load says little about a target. It prints, it does not assert a speed; it exits 1 with one line
on stderr when a page answered anything but 200 (the figures would be an error page's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import wrk_client  # noqa: E402  (bench/wrk_client.py, the same folder)
from pki import free_port, prepare_database, stop  # noqa: E402  (bench/pki.py, the same folder)

REQUESTS, OFFICES, BUSINESSES, SEALS, UNDER_REVIEW = 10_000, 20, 5_000, 3_000, 1_000
APPLICANTS, ACCOUNTS = 200, 500
PANEL_REQUESTS = 25  # the panel's applicant: a heavy user
SEAL_DOMAIN = "shop0.bench.test"



def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def seed(scale: float) -> dict:
    """Bulk-written rows (the services are tested elsewhere; this is volume, not behaviour)."""
    from django.contrib.auth.models import Permission
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from certauth.models import SMSDevice, User
    from enamad.models import Account, Business, BusinessStatus, Seal
    from ramis.offices.models import Clerk, RegistrationOffice
    from ramis.registry.models import Company, Person, Role, SEODepartment
    from ramis.requests.models import CertificateRequest

    n = lambda v: max(1, int(v * scale))  # noqa: E731
    now = timezone.now()
    dept = SEODepartment.objects.create(name="مدیریت نظارت بر ناشران")
    company = Company.objects.create(name="شرکت نمونه پارس", national_id="10380284790", seo_department=dept)
    offices = RegistrationOffice.objects.bulk_create([
        RegistrationOffice(code=f"B{i:03d}", name=f"دفتر {i}", city="تهران", address="تهران", phone="02188776655")
        for i in range(OFFICES)])
    users = User.objects.bulk_create([User(username=f"nc-{i:010d}", password="!") for i in range(APPLICANTS)])
    people = Person.objects.bulk_create([
        Person(national_code=f"{i:010d}", mobile=f"0912{i:07d}", first_name="علی", last_name=f"رضایی {i}",
               father_name="حسن", birth_date=dt.date(1986, 7, 3), birth_certificate_number="12345", user=users[i])
        for i in range(APPLICANTS)])
    roles = Role.objects.bulk_create([Role(person=p, company=company, position=Role.Position.CEO, status="approved",
                                           has_signing_authority=True) for p in people])
    statuses = ["submitted", "submitted", "awaiting_payment", "returned", "rejected", "draft"]
    rows = []
    for k in range(n(REQUESTS)):
        who = 0 if k < PANEL_REQUESTS else 1 + k % (APPLICANTS - 1)
        rows.append(CertificateRequest(
            applicant=people[who], role=roles[who], cert_type="signature", office=offices[k % OFFICES],
            status=statuses[k % len(statuses)], submitted_at=now - dt.timedelta(minutes=k), service_type="in_person"))
    CertificateRequest.objects.bulk_create(rows, batch_size=2000)

    owners = User.objects.bulk_create([User(username=f"shop{i}", password="!") for i in range(ACCOUNTS)])
    accounts = Account.objects.bulk_create([
        Account(user=u, persona="natural", first_name="سارا", last_name=f"کریمی {i}", national_code=f"{i:010d}",
                mobile=f"0935{i:07d}") for i, u in enumerate(owners)])
    seals_n, review_n = n(SEALS), n(UNDER_REVIEW)
    businesses = Business.objects.bulk_create([
        Business(account=accounts[i % ACCOUNTS], domain=f"shop{i}.bench.test", name=f"فروشگاه {i}", address="تهران",
                 postal_code="1316943115", phone="02188776655", email=f"info@shop{i}.bench.test",
                 status=(BusinessStatus.APPROVED if i < seals_n else
                         BusinessStatus.UNDER_REVIEW if i < seals_n + review_n else BusinessStatus.DRAFT),
                 sent_at=now - dt.timedelta(minutes=i))
        for i in range(n(BUSINESSES))], batch_size=2000)
    seals = Seal.objects.bulk_create([
        Seal(business=b, number=10_000_000 + i, granted_at=now, expires_at=now + dt.timedelta(days=365),
             monitor_due_at=now + dt.timedelta(days=1))
        for i, b in enumerate(businesses[:seals_n])], batch_size=2000)

    def staff(username: str, perms: list[str]) -> User:
        user = User.objects.create_user(username=username, password=None, is_staff=True)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        return user

    clerk = staff("bench-clerk", [])
    Clerk.objects.create(user=clerk, office=offices[0])
    expert = staff("bench-expert", ["enamad.review_business", "enamad.review_documents"])
    applicant = users[0]
    device = SMSDevice.objects.create(user=applicant, name="sms", mobile=people[0].mobile, confirmed=True)
    return {
        "clerk": session_for(clerk, "django.contrib.auth.backends.ModelBackend",
                             TOTPDevice.objects.get(user=clerk).persistent_id),
        "expert": session_for(expert, "django.contrib.auth.backends.ModelBackend",
                              TOTPDevice.objects.get(user=expert).persistent_id),
        "applicant": session_for(applicant, "certauth.backends.ApplicantOTPBackend", device.persistent_id),
        "seal": seals[0],
    }


def session_for(user, backend: str, device_id: str) -> str:
    """A session as the login leaves it (authenticated, OTP device verified): its key."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = backend
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store["otp_device_id"] = device_id
    store.create()
    return store.session_key


def pages(seeded: dict, only: str = "") -> list[tuple[str, str, str | None, dict]]:
    """(label, path, session key, extra headers); with ``only``, the bare view and the pages whose
    label has one of its comma-separated words."""
    seal = seeded["seal"]
    seal_q = f"?id={seal.number}&Code={seal.code}"
    words = [w.strip() for w in only.split(",") if w.strip()]
    return [page for page in _all_pages(seal_q, seeded)
            if page[1] == "/__bench__/bare/" or not words or any(w in page[0] for w in words)]


def _all_pages(seal_q: str, seeded: dict) -> list[tuple[str, str, str | None, dict]]:
    return [
        ("bare view (same server)", "/__bench__/bare/", None, {}),
        ("office desk queue", "/office/", seeded["clerk"], {}),
        ("applicant panel", "/panel/", seeded["applicant"], {}),
        ("e-Namad registry", "/enamad/registry/", None, {}),
        ("e-Namad registry search", "/enamad/registry/?q=shop12", None, {}),
        ("e-Namad staff desk", "/enamad/staff/?q=review", seeded["expert"], {}),
        ("seal page", f"/trustseal/{seal_q}", None, {}),
        ("seal logo", f"/trustseal/logo/{seal_q}", None, {"Referer": f"https://{SEAL_DOMAIN}/"}),
    ]


def query_count(path: str, session: str | None, headers: dict) -> tuple[int, int]:
    """(status, queries) of one request through Django's test client, after a warm-up request."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(**{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response.status_code, len(ctx.captured_queries)


def wrk(port: int, path: str, session: str | None, headers: dict, seconds: float, connections: int):
    from django.conf import settings

    if session:
        headers = {**headers, "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    return wrk_client.run(f"http://127.0.0.1:{port}{path}", seconds=seconds, connections=connections, headers=headers)


def serve(env: dict, workers: int, conn_max_age: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ramis.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--pythonpath", str(BENCH), "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env={**env, "DB_CONN_MAX_AGE": conn_max_age, "DJANGO_SETTINGS_MODULE": "pages_settings"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import requests

    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=20).status_code == 200:
                return proc, port
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
        time.sleep(0.3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the seeded rows (1.0: the issue's sizes)")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--conn-max-age", default="0,600", help="DB_CONN_MAX_AGE values, each a full run")
    ap.add_argument("--only", default="", help="comma-separated words: only the pages whose label has one "
                    "(the bare view always runs), e.g. --only logo")
    ap.add_argument("--rounds", type=int, default=1, help="runs of the set per DB_CONN_MAX_AGE value; each "
                    "page's ratio to the bare view of its own round, then the median")
    args = ap.parse_args()
    if not wrk_client.available():
        raise SystemExit("wrk is not installed: make bench-deps (Debian's wrk)")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database whose name ends in _bench")

    work = Path(tempfile.mkdtemp(prefix="ramis-pages-"))
    env = dict(os.environ, RAMIS_VAR_DIR=str(work / "var"), SOFTHSM_DIR=str(work / "softhsm"),
               DJANGO_SETTINGS_MODULE="pages_settings", DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
               LOG_LEVEL="WARNING", PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])))
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    (work / "var" / "staticfiles").mkdir(parents=True)  # WhiteNoise's root (the bench serves no static files)
    os.environ.clear()
    os.environ.update(env)
    procs: list[subprocess.Popen] = []
    try:
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"bench/pages.py {started}; load average before: {loadavg()} ({os.cpu_count()} cores)")
        print("database:", prepare_database(env))
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True, timeout=900)
        import django

        django.setup()
        t0 = time.monotonic()
        seeded = seed(args.scale)
        from django.db import connection

        with connection.cursor() as cursor:  # the planner's statistics, as autovacuum keeps them on a live database
            cursor.execute("ANALYZE")
        print(f"seeded and analysed in {time.monotonic() - t0:.0f} s (scale {args.scale}): "
              f"{int(REQUESTS * args.scale):,} requests / {OFFICES} offices, {int(BUSINESSES * args.scale):,} "
              f"businesses, {int(SEALS * args.scale):,} seals")
        chosen = pages(seeded, args.only)
        counted = {label: query_count(path, session, headers) for label, path, session, headers in chosen}
        wrong = [f"{label} answered {status}" for label, (status, _q) in counted.items() if status != 200]
        connection.close()  # the servers' connections only, while they are timed
        for conn_max_age in args.conn_max_age.split(","):
            proc, port = serve(env, args.workers, conn_max_age)
            procs.append(proc)
            print(f"\nDB_CONN_MAX_AGE={conn_max_age}; gunicorn -w {args.workers} (sync); wrk -c{args.connections} "
                  f"-d{args.seconds}s; load average {loadavg()}")
            print(f"  {'page':<26}{'status':>7}{'queries':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}"
                  f"{'× bare':>8}")
            wrk(port, "/__bench__/bare/", None, {}, 3, args.connections)  # every worker past its first requests
            ratios: dict[str, list[float]] = {}
            for _round in range(args.rounds):
                bare_rate = None
                for label, path, session, headers in chosen:
                    wrk(port, path, session, headers, 1, args.connections)  # warm-up
                    r = wrk(port, path, session, headers, args.seconds, args.connections)
                    bare_rate = bare_rate or r.rate
                    status, queries = counted[label]
                    if bare_rate:
                        ratios.setdefault(label, []).append(r.rate / bare_rate)
                    ratio = f"{r.rate / bare_rate:>8.2f}" if bare_rate else f"{'—':>8}"  # none done: a loaded machine
                    print(f"  {label:<26}{status:>7}{queries:>8}{r.rate:>9,.0f}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}"
                          f"{r.bad_status + r.socket_errors:>8}{ratio}")
                    if r.bad_status:
                        wrong.append(f"{label} under gunicorn: {r.bad_status} of {r.requests} answers ≥ 400")
            if args.rounds > 1:
                print(f"  × bare over {args.rounds} rounds, median (worst, best); load average {loadavg()}")
                for label, values in ratios.items():
                    values.sort()
                    print(f"  {label:<26}{statistics.median(values):>8.2f} ({values[0]:.2f}, {values[-1]:.2f})")
            stop(proc)
            procs.remove(proc)
        print(f"\nload average after: {loadavg()}")
        if wrong:  # the figures are of error pages, not of the pages: say so and fail
            print("bench/pages.py: FAILED: " + "; ".join(wrong), file=sys.stderr)
            raise SystemExit(1)
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
