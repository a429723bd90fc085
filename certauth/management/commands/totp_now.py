from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Development only: print the current TOTP code of a staff user's device."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("totp_now is a development aid and works only with DEBUG on")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"no confirmed TOTP device for {username!r}")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
