"""The token agent: runs on the clerk's workstation, where the applicant's USB token is plugged
in, and offers the registration office's server exactly what issuance needs, as JSON over
HTTP(S) — list tokens, token info, initialise a token, open a session with the PIN, generate a
key pair, sign (for the CSR), import and read a certificate, delete a key, close the session.
There is no call that exports a private key: keys are generated on the token as sensitive and
never extractable, and only signatures leave it.

A standalone program using only this ``tokens`` package (python-pkcs11, cryptography,
asn1crypto) and the standard library — no Django, no database, no project settings::

    python -m tokens.agent set-secret /etc/ramis-agent/secret     # the secret the server showed, on stdin
    python -m tokens.agent serve --listen 0.0.0.0:8765 --module /usr/lib/libeTPkcs11.so \\
        --secret-file /etc/ramis-agent/secret --cert agent.crt --key agent.key

Every request must carry the workstation's HMAC (:mod:`tokens.wire`); stale timestamps and
replayed nonces are refused. TLS is on when ``--cert``/``--key`` are given and required unless
the agent listens on loopback only. PINs are used for the PKCS#11 calls and kept in memory only
while a session is open (python-pkcs11 needs the user PIN to log in again after SoftHSM
re-initialises); they are never logged nor written anywhere. Sessions idle for
``--session-idle-seconds`` are logged out.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import ipaddress
import json
import logging
import secrets
import signal
import ssl
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pkcs11 import MGF, Mechanism

from . import errors, wire
from .config import TokenConfig
from .keys import _DIGEST_INFO
from .manager import Token, TokenManager

log = logging.getLogger("tokens.agent")

MAX_BODY = 64 * 1024

# The raw signing mechanisms the token keys use (tokens/keys.py), and what each may be given:
# a DigestInfo + digest, a digest. Nothing else is signed (no raw RSA, no decryption).
_DIGEST_SIZES = {32, 48, 64}
_PSS_HASHES = {"SHA256": (Mechanism.SHA256, MGF.SHA256, 32), "SHA384": (Mechanism.SHA384, MGF.SHA384, 48),
               "SHA512": (Mechanism.SHA512, MGF.SHA512, 64)}


class BadRequest(errors.TokenError):
    default_message = "bad request"


class NoSession(errors.TokenRemoved):
    default_message = "no such session on the token agent (closed or idle too long)"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise BadRequest(f"bad request: {what} is not base64") from None


@dataclass
class _Session:
    token: Token
    used: float = field(default_factory=time.monotonic)
    keys: dict[bytes, Any] = field(default_factory=dict)


class Agent:
    """The operations, independent of HTTP (the handler below only frames them)."""

    def __init__(self, manager: TokenManager, *, idle_seconds: int = 300):
        self.manager = manager
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # -- sessions ------------------------------------------------------------------------------
    def _expire(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        with self._lock:
            stale = [sid for sid, s in self._sessions.items() if s.used < cutoff]
            dropped = [self._sessions.pop(sid) for sid in stale]
        for s in dropped:
            self._logout(s.token)

    def _logout(self, token: Token) -> None:
        with self._lock:
            still_used = any(s.token.serial == token.serial for s in self._sessions.values())
        if not still_used:
            token.logout()

    def _session(self, body: dict) -> _Session:
        with self._lock:
            session = self._sessions.get(str(body.get("session", "")))
            if session is None:
                raise NoSession()
            session.used = time.monotonic()
            return session

    def _key(self, session: _Session, body: dict) -> Any:
        key_id = bytes.fromhex(str(body.get("id", "")))
        key = session.keys.get(key_id)
        if key is None:
            key = session.keys[key_id] = session.token.private_key(id=key_id)
        return key

    def close_all(self) -> None:
        with self._lock:
            dropped = list(self._sessions.values())
            self._sessions.clear()
        for s in dropped:
            s.token.logout()

    # -- operations --------------------------------------------------------------------------------
    def op_tokens_list(self, body: dict) -> dict:
        self.manager.rescan()
        return {"tokens": [asdict(t) for t in self.manager.list_tokens()]}

    def op_tokens_info(self, body: dict) -> dict:
        return asdict(self.manager.token_info(serial=str(body.get("serial", ""))))

    def op_tokens_init(self, body: dict) -> dict:
        info = self.manager.init_token(str(body.get("label", "")), str(body.get("so_pin", "")),
                                       str(body.get("user_pin", "")), serial=str(body.get("serial") or "") or None,
                                       new_so_pin=str(body.get("new_so_pin") or "") or None)
        return asdict(info)

    def op_ping(self, body: dict) -> dict:
        """The server's health check: signed both ways like every call; the agent's clock and module."""
        return {"agent": "ramis-token-agent/1", "module": Path(self.manager.module).name, "time": time.time()}

    def op_sessions_open(self, body: dict) -> dict:
        token = self.manager.open(serial=str(body.get("serial", "")), pin=str(body.get("pin", "")))
        sid = secrets.token_hex(16)
        with self._lock:
            self._sessions[sid] = _Session(token)
        return {"session": sid, "serial": token.serial, "label": token.label}

    def op_sessions_close(self, body: dict) -> dict:
        with self._lock:
            session = self._sessions.pop(str(body.get("session", "")), None)
        if session is not None:
            self._logout(session.token)
        return {"closed": session is not None}

    def _key_answer(self, key: Any) -> dict:
        from cryptography.hazmat.primitives import serialization

        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return {"id": key.key_id.hex(), "label": key.label, "public_key": _b64(der)}

    def op_keys_generate(self, body: dict) -> dict:
        session = self._session(body)
        key_id = bytes.fromhex(body["id"]) if body.get("id") else None
        key = session.token.generate_keypair(str(body.get("key_type", "")), label=str(body.get("label", "")),
                                             id=key_id)
        session.keys[key.key_id] = key
        return self._key_answer(key)

    def op_keys_get(self, body: dict) -> dict:
        return self._key_answer(self._key(self._session(body), body))

    def op_keys_sign(self, body: dict) -> dict:
        session = self._session(body)
        key = self._key(session, body)
        data = _unb64(body.get("data", ""), "data")
        mechanism = body.get("mechanism")
        param = None
        if mechanism == "RSA_PKCS":
            if not any(data.startswith(p) and len(data) == len(p) + int(p[-1]) for p in _DIGEST_INFO.values()):
                raise BadRequest("bad request: RSA_PKCS signs a SHA-2 DigestInfo only")
            mech = Mechanism.RSA_PKCS
        elif mechanism == "RSA_PKCS_PSS":
            pss = body.get("pss") or []
            if len(pss) != 3 or pss[0] not in _PSS_HASHES or pss[1] not in _PSS_HASHES or not isinstance(pss[2], int):
                raise BadRequest("bad request: PSS needs [hash, mgf1 hash, salt length]")
            if len(data) != _PSS_HASHES[pss[0]][2]:
                raise BadRequest("bad request: the digest does not fit the PSS hash")
            mech, param = Mechanism.RSA_PKCS_PSS, (_PSS_HASHES[pss[0]][0], _PSS_HASHES[pss[1]][1], pss[2])
        elif mechanism == "ECDSA":
            if len(data) not in _DIGEST_SIZES:
                raise BadRequest("bad request: ECDSA signs a SHA-2 digest only")
            mech = Mechanism.ECDSA
        else:
            raise BadRequest(f"bad request: mechanism {mechanism!r} is not offered")
        return {"signature": _b64(key._sign_raw(data, mech, param))}

    def op_keys_delete(self, body: dict) -> dict:
        session = self._session(body)
        key_id = bytes.fromhex(str(body.get("id", "")))
        session.keys.pop(key_id, None)
        return {"deleted": session.token.delete_key(key_id)}

    def op_certs_import(self, body: dict) -> dict:
        from cryptography import x509

        session = self._session(body)
        try:
            cert = x509.load_der_x509_certificate(_unb64(body.get("cert", ""), "cert"))
        except ValueError:
            raise BadRequest("bad request: cert is not a DER certificate") from None
        session.token.import_certificate(cert, bytes.fromhex(str(body.get("id", ""))), str(body.get("label", "")))
        return {"imported": True}

    def op_certs_get(self, body: dict) -> dict:
        from cryptography.hazmat.primitives import serialization

        session = self._session(body)
        cert = session.token.certificate(bytes.fromhex(str(body.get("id", ""))))
        return {"cert": None if cert is None else _b64(cert.public_bytes(serialization.Encoding.DER))}

    ROUTES = {
        "/v1/ping": "op_ping",
        "/v1/tokens/list": "op_tokens_list",
        "/v1/tokens/info": "op_tokens_info",
        "/v1/tokens/init": "op_tokens_init",
        "/v1/sessions/open": "op_sessions_open",
        "/v1/sessions/close": "op_sessions_close",
        "/v1/keys/generate": "op_keys_generate",
        "/v1/keys/get": "op_keys_get",
        "/v1/keys/sign": "op_keys_sign",
        "/v1/keys/delete": "op_keys_delete",
        "/v1/certs/import": "op_certs_import",
        "/v1/certs/get": "op_certs_get",
    }

    def dispatch(self, path: str, body: dict) -> tuple[int, dict]:
        name = self.ROUTES.get(path)
        if name is None:
            return 404, {"error": {"type": "NotFound", "message": f"no such call: {path}"}}
        self._expire()
        try:
            return 200, getattr(self, name)(body)
        except errors.TokenError as exc:
            return 400, {"error": {"type": type(exc).__name__, "message": str(exc)}}
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"error": {"type": "BadRequest", "message": f"bad request: {type(exc).__name__}"}}


def _handler(agent: Agent, verifier: wire.Verifier) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ramis-token-agent/1"
        sys_version = ""
        timeout = 30  # a stalled client does not hold a thread forever
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            nonce = self.headers.get(wire.NONCE, "")
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                return self._answer(413, {"error": {"type": "BadRequest", "message": "body too large"}}, nonce)
            raw = self.rfile.read(length)
            refused = verifier.check("POST", self.path, raw, self.headers)
            if refused:
                log.warning("refused %s from %s: %s", self.path, self.client_address[0], refused)
                return self._answer(401, {"error": {"type": "Unauthorized", "message": f"refused: {refused}"}}, nonce)
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError
            except ValueError:
                return self._answer(400, {"error": {"type": "BadRequest", "message": "body is not a JSON object"}},
                                    nonce)
            try:
                status, answer = agent.dispatch(self.path, body)
            except Exception:  # never a traceback with request data to the client
                log.exception("unexpected error in %s", self.path)
                status, answer = 500, {"error": {"type": "TokenError", "message": "token agent internal error"}}
            self._answer(status, answer, nonce)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(405, {"error": {"type": "BadRequest", "message": "POST only"}}, "")

        def _answer(self, status: int, answer: dict, nonce: str) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header(wire.AUTH, wire.response_mac(verifier.secret, nonce, status, data))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            # request line and status only: bodies (PINs, data) are never logged
            log.info("%s %s", self.client_address[0], format % args)

    return Handler


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_server(args: argparse.Namespace) -> tuple[ThreadingHTTPServer, Agent, str]:
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise SystemExit(f"error: --listen must be HOST:PORT, not {args.listen!r}")
    if bool(args.cert) != bool(args.key):
        raise SystemExit("error: give both --cert and --key, or neither")
    if not args.cert and not _is_loopback(host) and not args.insecure_http:
        raise SystemExit("error: without --cert/--key the agent listens on loopback only "
                         "(PINs would cross the network in clear); add --insecure-http to override")
    try:
        secret = wire.read_secret(args.secret_file)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: --secret-file: {exc}") from None
    if args.softhsm_dir:
        softhsm = Path(args.softhsm_dir)
        config = TokenConfig(module=args.module, softhsm_conf=softhsm / "softhsm2.conf",
                             softhsm_token_dir=softhsm / "tokens")
    else:
        config = TokenConfig(module=args.module)
    manager = TokenManager(config)
    try:
        manager.lib()
    except errors.TokenError as exc:
        raise SystemExit(f"error: {exc}") from None
    agent = Agent(manager, idle_seconds=args.session_idle_seconds)
    server = ThreadingHTTPServer((host, int(port)), _handler(agent, wire.Verifier(secret, args.max_skew)))
    server.daemon_threads = True
    scheme = "http"
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as exc:
            raise SystemExit(f"error: cannot load --cert/--key: {exc}") from None
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    return server, agent, f"{scheme}://{shown}:{bound_port}"


def _ask_pin(token: str) -> str:
    """The PIN from this machine's terminal (or, without one, the first line of standard input)."""
    if sys.stdin.isatty():
        return getpass.getpass(f"PIN of token {token!r}: ")
    return sys.stdin.readline().rstrip("\n")


def sign_pdf_command(args: argparse.Namespace) -> int:
    """``sign-pdf``: the PDF signed on the token, written to ``--out``; nothing leaves this machine
    but the timestamp request (a hash) and the OCSP/CRL/certificate fetches."""
    from .pdfsign import load_certs, sign_pdf

    try:
        data = Path(args.source).read_bytes()
        chain = load_certs(Path(f).read_bytes() for f in args.chain)
    except OSError as exc:
        raise SystemExit(f"error: {exc.filename}: {exc.strerror}") from None
    except ValueError as exc:
        raise SystemExit(f"error: --chain: not a certificate ({exc})") from None
    if args.softhsm_dir:
        softhsm = Path(args.softhsm_dir)
        config = TokenConfig(module=args.module, softhsm_conf=softhsm / "softhsm2.conf",
                             softhsm_token_dir=softhsm / "tokens")
    else:
        config = TokenConfig(module=args.module)
    try:
        token = TokenManager(config).open(label=args.token, pin=_ask_pin(args.token))
        signed = token.call("sign a PDF", lambda session: sign_pdf(
            session, data, chain=chain, tsa_url=args.tsa, key_label=args.key_label))
    except errors.TokenError as exc:
        raise SystemExit(f"error: {exc}") from None
    except Exception as exc:  # pyHanko's and the network's errors, said in one line
        raise SystemExit(f"error: could not sign: {type(exc).__name__}: {exc}") from None
    Path(args.out).write_bytes(signed)
    print(f"signed {args.source} → {args.out} ({len(signed)} bytes, PAdES B-LT)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tokens.agent", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the token API")
    p.add_argument("--listen", default="127.0.0.1:8765", help="HOST:PORT (port 0: any free port)")
    p.add_argument("--module", required=True, help="the token's PKCS#11 module")
    p.add_argument("--secret-file", required=True, help="the workstation's secret (chmod 600)")
    p.add_argument("--cert", help="TLS certificate (PEM)")
    p.add_argument("--key", help="TLS private key (PEM)")
    p.add_argument("--insecure-http", action="store_true", help="allow plain HTTP on a non-loopback address")
    p.add_argument("--softhsm-dir", help="SoftHSM only: the directory of softhsm2.conf and tokens/")
    p.add_argument("--max-skew", type=int, default=60, help="seconds of clock difference accepted")
    p.add_argument("--session-idle-seconds", type=int, default=300)
    p = sub.add_parser("sign-pdf", help="sign a PDF as PAdES B-LT with a key on a token (the e-Namad "
                                        "commitment letter); the PIN is asked here and never sent")
    p.add_argument("--module", required=True, help="the token's PKCS#11 module")
    p.add_argument("--softhsm-dir", help="SoftHSM only: the directory of softhsm2.conf and tokens/")
    p.add_argument("--token", required=True, help="the token's label")
    p.add_argument("--key-label", help="the signing key's label (default: the token's only key)")
    p.add_argument("--chain", action="append", required=True,
                   help="the issuing CA's and the root's certificates (DER or PEM; repeat or concatenate)")
    p.add_argument("--tsa", required=True, help="the timestamp authority's URL (…/ca/tsa/)")
    p.add_argument("--in", dest="source", required=True, help="the PDF to sign")
    p.add_argument("--out", required=True, help="where to write the signed PDF")
    p = sub.add_parser("set-secret", help="store the secret the server made for this workstation (read from "
                                          "standard input) in a file, mode 600")
    p.add_argument("file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    if args.command == "set-secret":
        if sys.stdin.isatty():
            print("paste the workstation's secret (shown once by the server) and press Enter:", file=sys.stderr)
        try:
            wire.write_secret(args.file, sys.stdin.readline())
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
        except OSError as exc:
            raise SystemExit(f"error: {args.file}: {exc.strerror}") from None
        print(f"stored the workstation's secret in {args.file}; restart the agent to use it")
        return 0
    if args.command == "sign-pdf":
        return sign_pdf_command(args)
    server, agent, url = build_server(args)
    print(f"token agent listening on {url} (module {args.module})", flush=True)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        agent.close_all()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
