"""The server's side of the token agent (:mod:`tokens.agent`): the same ``Token`` operations,
run on the clerk's workstation.

:class:`RemoteToken` offers what :class:`tokens.Token` offers the desk (key generation, private
keys, certificate import and read-back, key deletion, logout); its keys are the ``cryptography``
private-key subclasses of :mod:`tokens.keys` whose raw signing step is a call to the agent — so
cryptography's CSR builder signs on the applicant's token, across the network, unchanged.

Every error comes back as the same :class:`~tokens.errors.TokenError` subclass the agent raised
(``WrongPin``, ``PinLocked``, ``TokenNotFound`` …, with their Persian messages);
:class:`~tokens.errors.AgentUnavailable` when the agent does not answer,
:class:`~tokens.errors.AgentRefused` when it refuses our authentication or its answer is not
authentic.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.parse
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import errors, wire
from .keys import TokenECPrivateKey, TokenRSAPrivateKey
from .manager import TokenInfo

# The error classes an agent may name; anything else becomes a plain TokenError.
_ERRORS: dict[str, type[errors.TokenError]] = {
    cls.__name__: cls
    for cls in (errors.TokenError, errors.ModuleLoadError, errors.TokenNotFound, errors.TokenExists,
                errors.WrongPin, errors.PinLocked, errors.KeyNotFound, errors.TokenRemoved,
                errors.UnsupportedKeyType, errors.OperationNotAllowed)
}
_ERRORS["NoSession"] = errors.TokenRemoved


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class AgentClient:
    """Authenticated JSON calls to one agent. A connection per call (issuance makes a handful)."""

    def __init__(self, url: str, secret: bytes, *, ca_file: str | None = None, timeout: float = 60):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.AgentUnavailable(f"token agent unavailable: bad agent URL {url!r}")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise errors.AgentUnavailable(f"token agent unavailable: {url} must be https (PINs cross the network)")
        if len(secret) < wire.MIN_SECRET_LENGTH:
            raise errors.AgentRefused("token agent refused the request: the workstation secret is missing or short")
        self.url = url
        self._parts = parts
        self._secret = secret
        self._timeout = timeout
        try:
            self._context = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        except (OSError, ssl.SSLError) as exc:
            raise errors.AgentUnavailable(f"token agent unavailable: cannot load the CA file {ca_file}: "
                                          f"{getattr(exc, 'strerror', None) or exc}") from None

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self._parts.hostname, self._parts.port
        if self._context is not None:
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._context)
        return http.client.HTTPConnection(host, port, timeout=self._timeout)

    def call(self, path: str, body: dict | None = None) -> dict:
        full = self._parts.path.rstrip("/") + path
        data = json.dumps(body or {}).encode()
        headers = wire.request_headers(self._secret, "POST", full, data)
        headers["Content-Type"] = "application/json"
        conn = self._connection()
        try:
            conn.request("POST", full, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read(1 << 20)
            status, mac = response.status, response.getheader(wire.AUTH)
        except (OSError, http.client.HTTPException) as exc:
            detail = str(exc).strip() or type(exc).__name__
            raise errors.AgentUnavailable(f"token agent unavailable at {self.url}: {detail}") from None
        finally:
            conn.close()
        if not wire.response_ok(self._secret, headers[wire.NONCE], status, raw, mac):
            if status == 401:  # signed with the agent's secret, which is not ours
                raise errors.AgentRefused(f"token agent refused the request to {path} (HTTP 401): not the "
                                          "workstation's secret, or the clocks are more than a minute apart")
            raise errors.AgentRefused(f"token agent refused the request: the answer to {path} is not "
                                      f"authenticated (HTTP {status})")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise errors.TokenError(f"token agent answered {path} with something that is not JSON") from None
        if status == 200:
            return answer
        error = answer.get("error") or {}
        if status == 401:
            raise errors.AgentRefused(f"token agent refused the request: {error.get('message', 'HTTP 401')}")
        cls = _ERRORS.get(str(error.get("type")), errors.TokenError)
        raise cls(str(error.get("message") or f"token agent: HTTP {status}"))


def _info(data: dict) -> TokenInfo:
    return TokenInfo(label=data["label"], serial=data["serial"], manufacturer=data["manufacturer"],
                     model=data["model"], slot_id=int(data["slot_id"]), flags=int(data["flags"]))


class RemoteTokens:
    """The tokens the agent's workstation sees (the remote counterpart of ``TokenManager``)."""

    def __init__(self, client: AgentClient):
        self.client = client

    def list_tokens(self) -> list[TokenInfo]:
        return [_info(t) for t in self.client.call("/v1/tokens/list")["tokens"]]

    def token_info(self, *, serial: str) -> TokenInfo:
        return _info(self.client.call("/v1/tokens/info", {"serial": serial}))

    def init_token(self, label: str, so_pin: str, user_pin: str, *, serial: str | None = None,
                   new_so_pin: str | None = None) -> TokenInfo:
        return _info(self.client.call("/v1/tokens/init", {"label": label, "so_pin": so_pin, "user_pin": user_pin,
                                                          "serial": serial, "new_so_pin": new_so_pin}))

    def ping(self) -> dict:
        """The agent's answer to a signed ping (its clock, module); raises like any call."""
        return self.client.call("/v1/ping")

    def open(self, *, serial: str, pin: str) -> RemoteToken:
        answer = self.client.call("/v1/sessions/open", {"serial": serial, "pin": pin})
        return RemoteToken(self.client, session=answer["session"], serial=answer["serial"], label=answer["label"])


class _RemoteKeyMixin:
    """The raw signing step of :mod:`tokens.keys`, done by the agent."""

    def _sign_raw(self, payload: bytes, mechanism: Any, param: Any = None) -> bytes:
        body = {"id": self._key_id.hex(), "mechanism": mechanism.name, "data": _b64(payload)}
        if param is not None:  # PSS: (hash mechanism, MGF, salt length)
            body["pss"] = [param[0].name, param[1].name, param[2]]
        return base64.b64decode(self._token._call("/v1/keys/sign", body)["signature"])


class RemoteRSAPrivateKey(_RemoteKeyMixin, TokenRSAPrivateKey):
    """An RSA key on the workstation's token; signs there."""


class RemoteECPrivateKey(_RemoteKeyMixin, TokenECPrivateKey):
    """An EC key on the workstation's token; signs there."""


class RemoteToken:
    """A token opened (logged in) on the agent; the session lives until :meth:`logout`."""

    def __init__(self, client: AgentClient, *, session: str, serial: str, label: str):
        self.client = client
        self.session_id = session
        self.serial = serial
        self.label = label

    def __repr__(self) -> str:
        return f"<RemoteToken label={self.label!r} serial={self.serial} at {self.client.url}>"

    def _call(self, path: str, body: dict) -> dict:
        return self.client.call(path, {"session": self.session_id, **body})

    def _key(self, answer: dict) -> Any:
        public = serialization.load_der_public_key(base64.b64decode(answer["public_key"]))
        key_id = bytes.fromhex(answer["id"])
        if isinstance(public, rsa.RSAPublicKey):
            return RemoteRSAPrivateKey(self, key_id, answer["label"], public)
        if isinstance(public, ec.EllipticCurvePublicKey):
            return RemoteECPrivateKey(self, key_id, answer["label"], public)
        raise errors.UnsupportedKeyType(f"unsupported key type on token: {type(public).__name__}")

    def generate_keypair(self, key_type: str, label: str, id: bytes | None = None) -> Any:
        body = {"key_type": key_type, "label": label, "id": id.hex() if id is not None else None}
        return self._key(self._call("/v1/keys/generate", body))

    def private_key(self, *, id: bytes) -> Any:
        return self._key(self._call("/v1/keys/get", {"id": id.hex()}))

    def import_certificate(self, cert: x509.Certificate, key_id: bytes, label: str) -> None:
        self._call("/v1/certs/import", {"id": key_id.hex(), "label": label,
                                        "cert": _b64(cert.public_bytes(serialization.Encoding.DER))})

    def certificate(self, key_id: bytes) -> x509.Certificate | None:
        der = self._call("/v1/certs/get", {"id": key_id.hex()})["cert"]
        return None if der is None else x509.load_der_x509_certificate(base64.b64decode(der))

    def delete_key(self, id: bytes) -> int:
        return int(self._call("/v1/keys/delete", {"id": id.hex()})["deleted"])

    def logout(self) -> None:
        """Close the agent's session (it logs out of the token); quiet if the agent is gone."""
        try:
            self._call("/v1/sessions/close", {})
        except errors.TokenError:
            pass
