from django.core.management.base import BaseCommand, CommandError

from ramis.common.backup import BackupError, backup


class Command(BaseCommand):
    help = ("Back up the database (pg_dump custom format, or SQLite's online backup) and the private "
            "uploads into a new or empty directory, with a manifest of SHA-256 sums and versions. "
            "Private keys and token stores are never included (docs/operator/backup.md).")

    def add_arguments(self, parser):
        parser.add_argument("directory", help="a new or empty directory to write the backup into")

    def handle(self, *args, directory, **options):
        try:
            manifest = backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        media = manifest["media"]
        self.stdout.write(f"backup written to {directory}: {manifest['engine']} database "
                          f"({manifest['database']['audit_entries']} audit entries), {media['files']} media file(s)"
                          + (f", {len(media['skipped'])} skipped (see manifest.json)" if media["skipped"] else ""))
