"""``manage.py enamad_demo_site BUSINESS_ID`` (or ``--domain D --token T``): serve a demo shop
site over HTTP and its DNS answers on 127.0.0.1 so the business's domain can be verified locally
(enamad/demo_site.py; docs/user/shop-owner.md). Stops on Ctrl-C."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from enamad.demo_site import DemoShop, start
from enamad.models import Business


class Command(BaseCommand):
    help = "Serve a demo shop (HTTP) and its DNS answers on 127.0.0.1 for local domain verification."

    def add_arguments(self, parser):
        parser.add_argument("business", nargs="?", type=int, help="the business whose domain and code to serve")
        parser.add_argument("--domain", default="")
        parser.add_argument("--token", default="")
        parser.add_argument("--http-port", type=int, default=8081)
        parser.add_argument("--dns-port", type=int, default=5353)
        parser.add_argument("--methods", default="meta,file,dns", help="which proofs to serve (meta,title is not served)")

    def handle(self, *args, **options):
        domain, token = options["domain"], options["token"]
        if options["business"]:
            business = Business.objects.filter(pk=options["business"]).values("domain", "verification_token").first()
            if business is None:
                raise CommandError(f"no business {options['business']}")
            domain, token = business["domain"], business["verification_token"]
        if not (domain and token):
            raise CommandError("give a business id, or --domain and --token")
        shop = DemoShop(domain=domain, token=token, methods=set(options["methods"].split(",")))
        try:
            web, names = start(shop, http_port=options["http_port"], dns_port=options["dns_port"])
        except OSError as exc:
            raise CommandError(f"cannot listen: {exc}") from exc
        self.stdout.write(
            f"Demo shop {domain}: http://127.0.0.1:{web.server_address[1]}/ and DNS on 127.0.0.1:{names.port}\n"
            f"Run the portal with:\n"
            f"  ENAMAD_DNS_RESOLVER=127.0.0.1:{names.port} ENAMAD_VERIFY_HTTP_PORT={web.server_address[1]} "
            f"ENAMAD_VERIFY_ALLOW_LOOPBACK=1\nCtrl-C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            web.shutdown()
            names.shutdown()
