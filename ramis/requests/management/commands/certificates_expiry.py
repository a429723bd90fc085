from django.core.management.base import BaseCommand

from ramis.requests import services


class Command(BaseCommand):
    help = "Expire certificates past their end date and send the 30/7-day expiry reminders (also a beat task)."

    def handle(self, *args, **options):
        expired = services.certificates_expire()
        reminded = services.certificates_remind_expiring()
        self.stdout.write(f"{expired} certificate(s) expired, {reminded} reminder(s) queued.")
