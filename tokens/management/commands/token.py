"""``manage.py token init|list|keygen|csr|import-cert|delete-key``: thin, one line per outcome."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.core.management.base import BaseCommand, CommandError

from tokens.conf import get_manager
from tokens.errors import TokenError
from tokens.manager import KEY_TYPES


def _pin(options, name="pin", env="TOKEN_PIN", prompt="PIN: ") -> str:
    value = options.get(name) or os.environ.get(env)
    if not value:
        if not os.isatty(0):
            raise CommandError(f"give --{name.replace('_', '-')} or set {env}")
        value = getpass.getpass(prompt)
    return value


def _hex(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise CommandError(f"--id must be hexadecimal: {value!r}") from None


class Command(BaseCommand):
    help = "PKCS#11 tokens: init, list, keygen, csr, import-cert, delete-key. Never prints secrets."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        def token_args(p, pin=True):
            g = p.add_mutually_exclusive_group(required=True)
            g.add_argument("--label", help="token label")
            g.add_argument("--serial", help="token serial")
            if pin:
                p.add_argument("--pin", help="user PIN (or env TOKEN_PIN)")

        p = sub.add_parser("init", help="initialise a new token (C_InitToken + C_InitPIN; any PKCS#11 module)")
        p.add_argument("--label", required=True)
        p.add_argument("--serial", help="re-initialise this token (destroys every object on it); "
                                        "default: the first token not yet initialised")
        p.add_argument("--so-pin", help="security officer PIN (or env TOKEN_SO_PIN)")
        p.add_argument("--pin", help="user PIN (or env TOKEN_PIN)")

        p = sub.add_parser("list", help="tokens, and the objects of one token when a PIN is given")
        p.add_argument("--label")
        p.add_argument("--serial")
        p.add_argument("--pin")
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("keygen", help="generate a key pair on the token")
        token_args(p)
        p.add_argument("--type", dest="key_type", choices=sorted(KEY_TYPES), default="ec-p256")
        p.add_argument("--key-label", required=True)
        p.add_argument("--id", help="key id (hex); random if omitted")

        p = sub.add_parser("csr", help="write a PEM CSR signed on the token")
        token_args(p)
        p.add_argument("--id", required=True, help="key id (hex)")
        p.add_argument("--subject", required=True, help='RFC 4514 name, e.g. "CN=Ali Rezaei,C=IR"')
        p.add_argument("--out", required=True)

        p = sub.add_parser("import-cert", help="store a certificate next to its key")
        token_args(p)
        p.add_argument("--id", required=True, help="key id (hex)")
        p.add_argument("--cert", required=True, help="PEM or DER certificate file")
        p.add_argument("--cert-label", help="object label (default: the key's label)")

        p = sub.add_parser("delete-key", help="destroy a key pair and its certificate")
        token_args(p)
        p.add_argument("--id", required=True, help="key id (hex)")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "do_" + action.replace("-", "_"))(options)
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or 'I/O error'}: {exc.strerror or exc}") from None

    def _open(self, options):
        return get_manager().open(label=options.get("label"), serial=options.get("serial"), pin=_pin(options))

    def do_init(self, options):
        so_pin = _pin(options, "so_pin", "TOKEN_SO_PIN", "SO PIN: ")
        info = get_manager().init_token(options["label"], so_pin, _pin(options), serial=options.get("serial"))
        self.stdout.write(f"initialised token {info.label!r} serial {info.serial} in slot {info.slot_id}")

    def do_list(self, options):
        manager = get_manager()
        tokens = manager.list_tokens()
        if options.get("label") or options.get("serial"):
            token = self._open(options)
            objects = token.objects()
            if options["json"]:
                self.stdout.write(json.dumps([o.__dict__ for o in objects], ensure_ascii=False, indent=1))
                return
            self.stdout.write(f"token {token.label!r} serial {token.serial}: {len(objects)} object(s)")
            for o in objects:
                extra = o.key_type or o.subject or ""
                self.stdout.write(f"  {o.object_class:<12} id={o.id} label={o.label!r} {extra}")
            return
        if options["json"]:
            self.stdout.write(json.dumps([t.__dict__ for t in tokens], ensure_ascii=False, indent=1))
            return
        if not tokens:
            self.stdout.write("no initialised tokens")
        for t in tokens:
            flags = " PIN-LOCKED" if t.pin_locked else (" pin-count-low" if t.pin_count_low else "")
            self.stdout.write(f"{t.label!r} serial={t.serial} slot={t.slot_id} {t.manufacturer} {t.model}{flags}")

    def do_keygen(self, options):
        token = self._open(options)
        key = token.generate_keypair(
            options["key_type"], label=options["key_label"], id=_hex(options["id"]) if options.get("id") else None
        )
        attrs = token.key_attributes(key.key_id)
        self.stdout.write(
            f"generated {options['key_type']} key {key.label!r} id={key.key_id.hex()} on token {token.label!r} "
            f"(sensitive={attrs['SENSITIVE']}, extractable={attrs['EXTRACTABLE']})"
        )

    def do_csr(self, options):
        token = self._open(options)
        key = token.private_key(id=_hex(options["id"]))
        try:
            name = x509.Name.from_rfc4514_string(options["subject"])
        except ValueError as exc:
            raise CommandError(f"bad --subject: {exc}") from None
        csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
        Path(options["out"]).write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        self.stdout.write(f"wrote CSR for key id={key.key_id.hex()} ({name.rfc4514_string()}) to {options['out']}")

    def do_import_cert(self, options):
        token = self._open(options)
        try:
            data = Path(options["cert"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {options['cert']}: {exc.strerror}") from None
        try:
            cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
        except ValueError as exc:
            raise CommandError(f"not a certificate: {options['cert']}: {exc}") from None
        key_id = _hex(options["id"])
        label = options.get("cert_label") or token.private_key(id=key_id).label
        token.import_certificate(cert, key_id, label)
        self.stdout.write(
            f"imported certificate serial {cert.serial_number:x} ({cert.subject.rfc4514_string()}) "
            f"as {label!r} next to key id={key_id.hex()}"
        )

    def do_delete_key(self, options):
        token = self._open(options)
        count = token.delete_key(_hex(options["id"]))
        self.stdout.write(f"deleted {count} object(s) with id={options['id']} from token {token.label!r}")
