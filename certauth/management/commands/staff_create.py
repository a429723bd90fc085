from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from certauth.models import User


class Command(BaseCommand):
    help = "Create a staff user with a new TOTP device; prints the otpauth:// URI to scan once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument("--password", help="initial password (prompted when omitted)")

    def handle(self, *args, username, superuser, password, **options):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} already exists")
        if not password:
            import getpass

            password = getpass.getpass("Password: ")
        from django.contrib.auth.password_validation import ValidationError, validate_password

        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, is_staff=True,
                                            is_superuser=superuser)
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        self.stdout.write(f"created {username}; add this to an authenticator app: {device.config_url}")
