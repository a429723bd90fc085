"""bench/pki.py's OCSP part with wrk (Debian's: a client nobody here wrote), in both connection
modes, rounds alternating between the servers:

* ours, ``manage.py ca ocsp-serve --workers 2``, beside ``openssl ocsp -index … -multi 2`` (the same
  certificates and SHA-1 requests, as OpenSSL sends them);
* our Django view (``ramis.ca.views.ocsp_responder``, the fallback the web tier serves: gunicorn
  ``ramis.wsgi:application -w 2``, sync, the whole middleware stack), beside django-ca 3.2.0's
  ``GenericOCSPView`` with pre-signed answers (``CA_OCSP_RESPONSE_CACHE_EXPIRES``: from Django's
  cache, then the database) under gunicorn ``-w 2`` in its throwaway virtualenv (bench/djangoca.py),
  with Django's startproject middleware, for certificates of its own CA (SHA-256 requests, the only
  CertID hash it pre-signs for). Each answer of both is checked once before timing.

wrk checks no OCSP answer; it counts HTTP statuses ≥ 400 and socket errors. It ends a run by
dropping its connections with requests in flight, after which OpenSSL 3.0's responder spins and
answers nothing more (see pki.wait_port): each openssl run gets a fresh one.
"""

from __future__ import annotations

import base64
import statistics
import subprocess
import sys
import time
from pathlib import Path

import wrk_client

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"Content-Type": "application/ocsp-request"}
PAIRS = (("ours", "openssl", "ours / openssl -multi 2", 1.5),
         ("ours, Django view", "django-ca, pre-signed", "our Django view / django-ca pre-signed", 1.0))


def _check(port: int, path: str, bodies: list[bytes], revoked: set[int], name: str) -> None:
    """Every request answered: successful, for its serial, revoked exactly when it should be."""
    import http.client

    from cryptography.x509 import ocsp

    for body in bodies:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", path, body, {**HEADERS, "Connection": "close"})
        raw = conn.getresponse().read()
        conn.close()
        resp, req = ocsp.load_der_ocsp_response(raw), ocsp.load_der_ocsp_request(body)
        assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL, (name, resp.response_status)
        want = ocsp.OCSPCertStatus.REVOKED if req.serial_number in revoked else ocsp.OCSPCertStatus.GOOD
        assert resp.serial_number == req.serial_number and resp.certificate_status == want, name


def _wait(port: int, path: str, body: bytes, proc: subprocess.Popen, timeout: float = 60) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", path, body, {**HEADERS, "Connection": "close"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"bench/pki.py: a server on port {port} did not start")
        time.sleep(0.3)


def django_servers(args, work: Path, env: dict, procs: list, bodies: list[bytes], revoked: set[int], free_port,
                   prepare_database, module: str) -> dict:
    """Start our Django view and django-ca's pre-signed view: name → (process, port, path, bodies)."""
    import djangoca
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    servers = {}
    port = free_port()
    ours = subprocess.Popen([sys.executable, "-m", "gunicorn", "ramis.wsgi:application", "-w", "2", "-b",
                             f"127.0.0.1:{port}", "--log-level", "warning"], cwd=ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=open(work / "django-view.log", "a"))
    procs.append(ours)
    _wait(port, "/ca/ocsp/issuing/", bodies[0], ours)
    _check(port, "/ca/ocsp/issuing/", bodies, revoked, "ours, Django view")
    servers["ours, Django view"] = (ours, port, "/ca/ocsp/issuing/", bodies)

    djca = djangoca.DjangoCA(work, env, prepare_database, module, ocsp=True)
    procs.append(djca.start())
    made = djca.ocsp_certificates(len(bodies))
    djca.close()
    ca = x509.load_der_x509_certificate(base64.b64decode(made["ca"]))
    theirs = [ocsp.OCSPRequestBuilder().add_certificate(x509.load_der_x509_certificate(base64.b64decode(c)), ca,
                                                        hashes.SHA256()).build().public_bytes(serialization.Encoding.DER)
              for c in made["certificates"]]
    port = free_port()
    proc = djca.serve(port)
    procs.append(proc)
    path = f"/django_ca/ocsp/{made['ca_serial']}/cert/"
    _wait(port, path, theirs[0], proc)
    _check(port, path, theirs, set(made["revoked"]), "django-ca, pre-signed")
    servers["django-ca, pre-signed"] = (proc, port, path, theirs)
    return servers


def wrk_section(args, running: dict, bodies: list[bytes], servers: dict, env: dict, procs: list, stop, wait_port,
                build_requests, free_port, extra: dict) -> None:
    """``running``: ocsp-serve and openssl, name → (process, port, path); ``extra``: django_servers()'s."""
    print(f"\nOCSP with wrk (Debian's), {args.clients} connections on 2 threads, {args.seconds:.0f} s per round, "
          f"load average {Path('/proc/loadavg').read_text().split()[0]}; a fresh openssl responder per run")
    table = {name: (p, port, path, bodies) for name, (p, port, path) in running.items()} | extra
    rates: dict[tuple[str, str], list[float]] = {}
    for _r in range(args.rounds):
        for mode in ("keep-alive", "close"):
            extra_headers = {} if mode == "keep-alive" else {"Connection": "close"}
            for name in table:
                p, port, path, its_bodies = table[name]
                if name == "openssl":
                    stop(p)
                    cmd, path, _new_session = servers[name]
                    port = free_port()
                    p = subprocess.Popen([*cmd, str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
                    procs.append(p)
                    table[name], running[name] = (p, port, path, its_bodies), (p, port, path)
                    wait_port(port, build_requests(port, path, its_bodies[:1], keep_alive=False)[0])
                r = wrk_client.run(f"http://127.0.0.1:{port}{path}", seconds=args.seconds, connections=args.clients,
                                   headers={**HEADERS, **extra_headers}, bodies=its_bodies)
                rates.setdefault((name, mode), []).append(r.rate)
                if r.bad_status or r.socket_errors:
                    print(f"  {name} {mode}: {r.bad_status} answers ≥ 400, {r.socket_errors} socket errors")
    for mode in ("keep-alive", "close"):
        for name in table:
            print(f"  wrk {mode}: {name} /s".ljust(52) + " " + _spread(rates[(name, mode)]))
        for ours, ref, label, target in PAIRS:
            if (ours, mode) not in rates or (ref, mode) not in rates:
                continue
            if not all(rates[(ref, mode)]):
                print(f"  wrk {mode}: ratio {label}: n/a (wrk counted no answer of {ref} in a round)")
                continue
            per_round = sorted(o / t for o, t in zip(rates[(ours, mode)], rates[(ref, mode)], strict=True))
            print(f"  wrk {mode}: ratio {label}".ljust(52) + f" median {statistics.median(per_round):.2f}×, "
                  f"worst {per_round[0]:.2f}×, best {per_round[-1]:.2f}×; target ≥ {target:.1f}×")


def _spread(values: list[float]) -> str:
    s = sorted(values)
    return f"{s[-1]:,.0f} ({statistics.median(s):,.0f}, {s[0]:,.0f})"
