from django.core.management.base import BaseCommand, CommandError

from ramis.common.backup import BackupError, restore


class Command(BaseCommand):
    help = ("Restore a backup made by `manage.py backup` into the configured database and media directory; "
            "checks every part's SHA-256 first and refuses a non-empty target unless --force. "
            "Then run `manage.py audit verify`.")

    def add_arguments(self, parser):
        parser.add_argument("directory", help="the backup directory (with its manifest.json)")
        parser.add_argument("--force", action="store_true",
                            help="replace a database and media directory that are not empty")

    def handle(self, *args, directory, force, **options):
        try:
            manifest = restore(directory, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {manifest['engine']} database of {manifest['created_at']} "
                          f"({manifest['database']['audit_entries']} audit entries) and "
                          f"{manifest['restored_files']} media file(s); now run `manage.py audit verify`")
