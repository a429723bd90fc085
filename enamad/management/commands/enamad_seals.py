"""Seal upkeep by hand (the beat schedule does the same): expire seals past their year,
re-check TLS (and so the stars) of every public seal."""

from django.core.management.base import BaseCommand

from enamad import services
from enamad.models import Seal


class Command(BaseCommand):
    help = "expire: move seals past their validity to expired; tls: re-check TLS and stars of public seals."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["expire", "tls"])

    def handle(self, *args, action, **options):
        if action == "expire":
            self.stdout.write(f"expired {services.seals_expire_due()} seal(s)")
            return
        for seal_id in Seal.objects.public().values_list("pk", flat=True):
            seal = services.seal_refresh_tls(seal_id=seal_id)
            self.stdout.write(f"{seal.business.domain}: {seal.stars} star(s)")
