"""``manage.py ca init|reissue-issuing|show|chain|issue|revoke|hold|release|crl|ocsp-refresh|ocsp-serve``: thin calls to services."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography import x509
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F

from ramis.ca import audit_anchor, builder, ocsp_server, profiles, services
from ramis.ca.findings import LintError
from ramis.ca.models import CRL, CertificateAuthority, IssuedCertificate, Reason
from ramis.common.errors import InvalidTransition
from tokens.errors import TokenError

FAILURES = (services.CAError, builder.IssuanceError, LintError, TokenError, InvalidTransition,
            CertificateAuthority.DoesNotExist, ocsp_server.ServeError, audit_anchor.AuditAnchorError)


def one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def require_migrated() -> None:
    """One line instead of a traceback when the database is unreachable or not migrated."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"cannot use the database: {one_line(exc)}") from None
    if pending:
        raise CommandError(f"the database is not migrated ({len(pending)} migration(s) pending): "
                           "run `manage.py migrate` first")


class Command(BaseCommand):
    help = ("The CA: init (root + issuing on their tokens), reissue-issuing, show, issue, revoke, hold, release, crl, ocsp-refresh, "
            "ocsp-serve (the OCSP tier).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="create the root and issuing CAs if absent (idempotent)")
        sub.add_parser("reissue-issuing", help="a new certificate for the issuing CA's key as `init` builds it today "
                       "(same key and subject; needs the root's PIN)")
        sub.add_parser("show", help="print the chain, fingerprints and the latest CRLs")
        p = sub.add_parser("chain", help="write every CA certificate of ours (issuing first, root last) as PEM: "
                                         "the reverse proxy's list of CAs for certificate login")
        p.add_argument("--out", required=True, help="the PEM file to write")
        p = sub.add_parser("issue", help="issue a certificate from a CSR")
        p.add_argument("--profile", required=True, choices=list(profiles.PROFILES))
        p.add_argument("--csr", required=True, help="PEM or DER CSR file")
        p.add_argument("--subject-json", required=True, help="JSON file with the subject fields of the profile")
        p.add_argument("--out", required=True, help="where to write the PEM certificate")
        p.add_argument("--validity-days", type=int)
        p.add_argument("--request-ref", default="")
        p = sub.add_parser("revoke", help="revoke a certificate")
        p.add_argument("--serial", required=True, help="hexadecimal serial")
        p.add_argument("--reason", required=True,
                       choices=[r for r in Reason.values if r != Reason.CERTIFICATE_HOLD])
        for name in ("hold", "release"):
            p = sub.add_parser(name, help=f"{name} a certificate (certificateHold)")
            p.add_argument("--serial", required=True)
            p.add_argument("--reason", default="", help="why (audited; shown to the holder and the office)")
        p = sub.add_parser("crl", help="publish a new CRL now")
        p.add_argument("--ca", default=None, help="CA slug (default: every CA)")
        p = sub.add_parser("ocsp-refresh", help="re-sign the pre-signed OCSP answers of every live certificate")
        p.add_argument("--ca", default="issuing")
        p = sub.add_parser("ocsp-serve", help="serve OCSP (the OCSP tier: pre-signed answers, no token, no PIN)")
        p.add_argument("--bind", default="127.0.0.1:8001", help="HOST:PORT (default 127.0.0.1:8001)")
        p.add_argument("--workers", type=int, default=2, help="processes sharing the port (SO_REUSEPORT)")
        p.add_argument("--timeout", type=float, default=5.0,
                       help="seconds a client has to send a whole request (after connecting or an answer)")

    def handle(self, *args, action, **options):
        try:
            require_migrated()  # before any token is touched
            getattr(self, "do_" + action.replace("-", "_"))(options)
        except FAILURES as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"database error: {one_line(exc)}") from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or 'I/O error'}: {exc.strerror or exc}") from None

    def do_init(self, options):
        for ca in services.ca_init(actor=None):
            self.stdout.write(f"{ca.slug}: {ca.subject}")
            self.stdout.write(f"  SHA-256 {ca.sha256}  valid until {ca.not_after:%Y-%m-%d}  key {ca.key_type} "
                              f"on token {ca.token_label!r}")
        tsa = IssuedCertificate.objects.filter(profile=IssuedCertificate.Profile.TSA).order_by("-not_after").first()
        if tsa is None:
            self.stdout.write("tsa: none (no CA_TSA_PIN here)")
        else:
            self.stdout.write(f"tsa: {tsa.subject}")
            self.stdout.write(f"  SHA-256 {tsa.sha256}  valid until {tsa.not_after:%Y-%m-%d}  "
                              f"on token {tsa.subject_data.get('token')!r}")
        if not settings.AUDIT_PIN:
            self.stdout.write("audit key: no AUDIT_PIN here, not created (run `manage.py audit init-key` where it is)")
            return
        key, _created = audit_anchor.key_ensure(actor=None)
        self.stdout.write(f"audit key {key.key_label!r} on token {key.token_label!r}: public key SHA-256 {key.sha256}")

    def do_reissue_issuing(self, options):
        ca = services.issuing_ca_reissue(actor=None)
        self.stdout.write(f"reissued {ca.slug}: {ca.subject}")
        self.stdout.write(f"  serial {ca.serial_hex}  SHA-256 {ca.sha256}  valid until {ca.not_after:%Y-%m-%d} "
                          f"(same key on token {ca.token_label!r})")

    def do_chain(self, options):
        cas = list(CertificateAuthority.objects.order_by(F("parent_id").desc(nulls_last=True), "pk"))  # roots last, on every database
        if not cas:
            raise CommandError("no CA yet: run `manage.py ca init`")
        pem = b"".join(builder.pem(x509.load_der_x509_certificate(bytes(ca.certificate_der))) for ca in cas)
        Path(options["out"]).write_bytes(pem)
        self.stdout.write(f"{options['out']}: {', '.join(ca.slug for ca in cas)}")

    def do_show(self, options):
        cas = list(CertificateAuthority.objects.select_related("parent").order_by("pk"))
        if not cas:
            raise CommandError("no CA yet: run `manage.py ca init`")
        for ca in cas:
            issuer = ca.parent.slug if ca.parent else "self-signed"
            self.stdout.write(f"{ca.slug} ({issuer}): {ca.subject}")
            self.stdout.write(f"  serial {ca.serial_hex}  SHA-256 {ca.sha256}")
            self.stdout.write(f"  {ca.not_before:%Y-%m-%d} .. {ca.not_after:%Y-%m-%d}  key {ca.key_type} "
                              f"on token {ca.token_label!r} id {ca.key_id}")
            if ca.ocsp_certificate_der:
                resp = x509.load_der_x509_certificate(bytes(ca.ocsp_certificate_der))
                self.stdout.write(f"  OCSP responder until {resp.not_valid_after_utc:%Y-%m-%d}  "
                                  f"SHA-256 {builder.fingerprint(resp)}")
            last = CRL.objects.filter(ca=ca).order_by("-number").first()
            if last:
                self.stdout.write(f"  CRL #{last.number}: {last.entries} entries, next update {last.next_update:%Y-%m-%d %H:%M}")
            count = IssuedCertificate.objects.filter(ca=ca).count()
            if count:
                self.stdout.write(f"  {count} certificate(s) issued")

    def do_issue(self, options):
        try:
            csr = Path(options["csr"]).read_bytes()
            subject = json.loads(Path(options["subject_json"]).read_text())
        except OSError as exc:
            raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"bad --subject-json: {exc}") from None
        if not isinstance(subject, dict):
            raise CommandError("bad --subject-json: expected an object")
        cert = services.certificate_issue(
            profile=options["profile"], csr_pem=csr, subject=subject, actor=None,
            request_ref=options["request_ref"], validity_days=options["validity_days"],
        )
        parsed = x509.load_der_x509_certificate(bytes(cert.der))
        Path(options["out"]).write_bytes(builder.pem(parsed))
        self.stdout.write(f"issued {cert.profile} certificate serial {cert.serial_hex} for {cert.subject}")
        self.stdout.write(f"  SHA-256 {cert.sha256}  valid until {cert.not_after:%Y-%m-%d}  written to {options['out']}")

    def do_revoke(self, options):
        cert = services.certificate_revoke(serial=options["serial"], reason=options["reason"], actor=None)
        self.stdout.write(f"revoked {cert.serial_hex} ({cert.revocation_reason}); CRL and OCSP updated")

    def do_hold(self, options):
        cert = services.certificate_hold(serial=options["serial"], actor=None, reason=options["reason"])
        self.stdout.write(f"held {cert.serial_hex}; CRL and OCSP updated")

    def do_release(self, options):
        cert = services.certificate_release(serial=options["serial"], actor=None, reason=options["reason"])
        self.stdout.write(f"released {cert.serial_hex}; CRL and OCSP updated")

    def do_crl(self, options):
        slugs = [options["ca"]] if options["ca"] else list(CertificateAuthority.objects.values_list("slug", flat=True))
        if not slugs:
            raise CommandError("no CA yet: run `manage.py ca init`")
        for slug in slugs:
            row = services.crl_publish(ca_slug=slug, actor=None)
            self.stdout.write(f"published CRL #{row.number} for {slug}: {row.entries} entries, {len(row.der)} bytes")

    def do_ocsp_refresh(self, options):
        count = services.ocsp_refresh(ca_slug=options["ca"])
        self.stdout.write(f"re-signed OCSP answers for {count} certificate(s) of {options['ca']}")

    def do_ocsp_serve(self, options):
        try:
            ocsp_server.run(bind=options["bind"], workers=options["workers"], timeout=options["timeout"],
                            out=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
