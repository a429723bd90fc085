"""The shop owner's own machine in tests/prod/test_signed_letter.py: a SoftHSM token of the holder's
(its own softhsm2.conf and token directory, not the CA's), a key generated on it, the certificate
our CA issued stored next to the key, and `python -m tokens.agent sign-pdf` run against it.

Run only as a child process with ``SOFTHSM2_CONF`` exported (SoftHSM reads it once per process,
when the module is loaded: the pytest process has already loaded it with the topology's token
store, so the holder's token can only live in a process of its own):

    python tests/prod/holder_token.py new DIR LABEL PIN CSR_OUT
    python tests/prod/holder_token.py import DIR LABEL PIN CERT_PEM
    python tests/prod/holder_token.py sign HOST -- <tokens.agent sign-pdf arguments>

``sign`` resolves the portal's public host name HOST to 127.0.0.1 in this process only (as the
browsers of tests/prod do with --host-resolver-rules): the certificates name their OCSP, CRL and
CA-issuer URLs under it, and pyHanko fetches them while making the signature B-LT.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tokens.config import DEFAULT_MODULE, TokenConfig  # noqa: E402
from tokens.manager import TokenManager  # noqa: E402

SO_PIN = "1029384756"
KEY_LABEL = "letter-key"


def manager(directory: str) -> TokenManager:
    d = Path(directory)
    return TokenManager(TokenConfig(module=DEFAULT_MODULE, softhsm_conf=d / "softhsm2.conf",
                                    softhsm_token_dir=d / "tokens"))


def new(directory: str, label: str, pin: str, csr_out: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    tokens = manager(directory)
    tokens.init_token(label, SO_PIN, pin)
    key = tokens.open(label=label, pin=pin).generate_keypair("ec-p256", KEY_LABEL)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")]))
           .sign(key, hashes.SHA256()))
    Path(csr_out).write_bytes(csr.public_bytes(serialization.Encoding.PEM))


def import_cert(directory: str, label: str, pin: str, cert_pem: str) -> None:
    from cryptography import x509

    token = manager(directory).open(label=label, pin=pin)
    key = token.private_key(label=KEY_LABEL)
    token.import_certificate(x509.load_pem_x509_certificate(Path(cert_pem).read_bytes()), key.key_id, KEY_LABEL)


def sign(host: str, argv: list[str]) -> int:
    original = socket.getaddrinfo

    def resolve(name, *args, **kwargs):
        return original("127.0.0.1" if name == host else name, *args, **kwargs)

    socket.getaddrinfo = resolve
    from tokens.agent import main

    return main(["sign-pdf", *argv])


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "new":
        new(*rest)
    elif command == "import":
        import_cert(*rest)
    elif command == "sign":
        host, separator, *agent_args = rest
        sys.exit(sign(host, agent_args))
    else:
        sys.exit(f"unknown command {command!r}")
