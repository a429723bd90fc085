"""``manage.py audit verify|seal|checkpoint|export-checkpoints|init-key``: thin calls
(the sealer in ramis/common/audit.py, checkpoints in ramis/ca/audit_anchor.py)."""

from __future__ import annotations

import base64
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ramis.ca import audit_anchor
from ramis.ca.management.commands.ca import one_line, require_migrated
from ramis.ca.models import AuditCheckpoint
from ramis.common import audit
from tokens.errors import TokenError


class Command(BaseCommand):
    help = ("The audit trail: verify (the chain against its signed checkpoints), seal, checkpoint "
            "(sign the chain's length and head on the audit token), export-checkpoints, init-key.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("verify", help="seal, then check the chain and every signed checkpoint")
        p.add_argument("--checkpoint", action="append", default=[], metavar="FILE.json",
                       help="also check against an exported checkpoint (its .sig and audit-key-*.pem beside it)")
        p.add_argument("--public-key", help="PEM public key of the exported checkpoints (default: the file beside)")
        p.add_argument("--no-seal", action="store_true",
                       help="check what is sealed without sealing (a read-only copy of the database)")
        sub.add_parser("seal", help="chain the committed entries not sealed yet")
        p = sub.add_parser("checkpoint", help="sign the chain's length and head hash now; print it")
        p.add_argument("--out", help="directory to write checkpoint-*.json, .sig and the audit key's PEM to")
        p = sub.add_parser("export-checkpoints", help="write stored checkpoints as files for an auditor")
        p.add_argument("--out", required=True, help="directory")
        p.add_argument("--since", type=int, default=0, help="only checkpoints covering more than this many entries")
        sub.add_parser("init-key", help="create the audit token and key if absent (idempotent)")

    def handle(self, *args, action, **options):
        try:
            require_migrated()
            getattr(self, "do_" + action.replace("-", "_"))(options)
        except (audit_anchor.AuditAnchorError, TokenError) as exc:
            raise CommandError(one_line(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"database error: {one_line(exc)}") from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or 'I/O error'}: {exc.strerror or exc}") from None

    def do_verify(self, options):
        key = Path(options["public_key"]) if options["public_key"] else None
        exported = [audit_anchor.load_exported(Path(f), key_path=key) for f in options["checkpoint"]]
        result = audit_anchor.verify(seal_first=not options["no_seal"], exported=exported)
        report = result.report
        if report.problems:
            for problem in report.problems[:20]:
                self.stdout.write(problem)  # the report; the failure itself is the one line below
            raise CommandError(f"audit trail broken: {len(report.problems)} problem(s) in {report.checked} entries")
        self.stdout.write(f"audit trail intact: {report.checked} entries verified")
        if result.latest:
            self.stdout.write(f"  latest signed checkpoint: {result.latest.length} entries at {result.latest.at} "
                              f"(key {result.latest.key[:16]}…); {result.checkpoints} checkpoint(s) checked")
            self.stdout.write(f"  {result.uncovered} entries since the latest checkpoint are not covered by a signature")
            self.stdout.write(f"  signed by audit key(s) {', '.join(result.keys)} (compare with the key ceremony's "
                              "minutes, or pin them in AUDIT_KEY_SHA256)")
        else:
            self.stdout.write("  no signed checkpoint yet: truncation and rewrites cannot be detected "
                              "(run `manage.py audit checkpoint`)")
        if report.unsealed:
            self.stdout.write(f"  {report.unsealed} entries not sealed yet (their transactions are still open "
                              "or this check did not seal)")

    def do_seal(self, options):
        count = audit.seal(wait=True)
        length, head = audit.chain_head()
        self.stdout.write(f"sealed {count} entries; the chain has {length}, head {head}")

    def do_checkpoint(self, options):
        cp = audit_anchor.checkpoint_create()
        self.stdout.write(cp.payload.rstrip("\n"))
        self.stdout.write(f"signature (DER, base64): {base64.b64encode(bytes(cp.signature)).decode()}")
        if options["out"]:
            for path in audit_anchor.export(cp, Path(options["out"])):
                self.stdout.write(f"  wrote {path}")

    def do_export_checkpoints(self, options):
        count = 0
        out = Path(options["out"])
        for cp in AuditCheckpoint.objects.select_related("key").filter(length__gt=options["since"]).order_by("length", "id"):
            audit_anchor.export(cp, out)
            count += 1
        self.stdout.write(f"exported {count} checkpoint(s) to {out}")

    def do_init_key(self, options):
        key, created = audit_anchor.key_ensure(actor=None)
        verb = "created" if created else "found"
        self.stdout.write(f"{verb} audit key {key.key_label!r} on token {key.token_label!r}")
        self.stdout.write(f"  public key SHA-256 {key.sha256} (record it: auditors check exported checkpoints "
                          "against it)")
