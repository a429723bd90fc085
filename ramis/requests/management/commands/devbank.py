"""Serve the stand-in Zibal gateway (``ramis.requests.devbank``) on 127.0.0.1 until interrupted."""

from django.core.management.base import BaseCommand, CommandError

from ramis.requests.devbank import DevBank


class Command(BaseCommand):
    help = "Run a local stand-in for the Zibal payment gateway (development only: no real money)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument("--merchant", default="zibal", help="the merchant code it accepts (BANK_MERCHANT_CODE)")

    def handle(self, *args, host, port, merchant, **options):
        try:
            server = DevBank(merchants=frozenset({merchant})).server(host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        base = f"http://{host}:{server.server_address[1]}"
        self.stdout.write(f"stand-in Zibal gateway on {base} (merchant {merchant!r}); start the portal with\n"
                          f"  PAYMENT_BACKEND=ramis.requests.payments.AzBankGatewaysBackend BANK_GATEWAY=ZIBAL "
                          f"BANK_MERCHANT_CODE={merchant} BANK_BASE_URL={base}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
