"""Run the technical verification of one business now and print what it found."""

from django.core.management.base import BaseCommand, CommandError

from enamad.businesses import services as business_services
from enamad.models import Business


class Command(BaseCommand):
    help = "Check domain control (meta tag, file, DNS TXT) for a business given by id or domain."

    def add_arguments(self, parser):
        parser.add_argument("business", help="business id or domain")

    def handle(self, *args, business, **options):
        qs = Business.objects.filter(pk=int(business)) if business.isdigit() else Business.objects.filter(
            domain=business.lower()).order_by("-id")
        target = qs.first()
        if target is None:
            raise CommandError(f"no business {business!r}")
        result = business_services.business_verify_domain(business_id=target.pk)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"{target.domain}: verified by {result.method}; TLS valid: {result.tls_valid}"))
        else:
            raise CommandError(f"{target.domain}: not verified ({'; '.join(result.problems)})")
