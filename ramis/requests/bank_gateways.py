"""What the portal adds to ``az-iranian-bank-gateways`` (the ``[bank]`` extra), wired by
``ramis/settings.py`` through the package's own ``SETTING_VALUE_READER_CLASS`` setting:

* ``SettingsReader`` reads the gateway settings from ``django.conf.settings`` at each call (the
  package's default reader copies them at import), and maps ``ZIBAL`` to ``Zibal`` below.
* ``Zibal`` is the package's Zibal gateway with two changes:

  - its three URLs hang off ``BASE_URL`` (``BANK_BASE_URL``; default Zibal's own
    ``https://gateway.zibal.ir``), so a development or test setup points it at the stand-in bank
    of ``ramis.requests.devbank``;
  - ``verify`` keeps the bank's verify answer in the record's ``extra_information`` whatever it
    says, and tells *not paid* (Zibal's result 202: the payer cancelled or the card was refused)
    from a verify that failed (any other result: the record ends ``ERROR``), so that
    ``AzBankGatewaysBackend`` can check the amount the bank says it took and report a
    cancellation as one.
"""

from __future__ import annotations

import json
import logging

from azbankgateways import default_settings as az_defaults
from azbankgateways.banks import BaseBank
from azbankgateways.banks import Zibal as PackageZibal
from azbankgateways.models import PaymentStatus
from azbankgateways.readers import DefaultReader
from django.conf import settings

logger = logging.getLogger("ramis.payments")

ZIBAL_BASE_URL = "https://gateway.zibal.ir"
ZIBAL_PAID = 100
ZIBAL_NOT_PAID = 202


class Zibal(PackageZibal):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        base = (kwargs.get("BASE_URL") or ZIBAL_BASE_URL).rstrip("/")
        self._token_api_url = f"{base}/v1/request"
        self._payment_url = base + "/start/{}"
        self._verify_api_url = f"{base}/v1/verify"

    def verify(self, transaction_code):
        BaseBank.verify(self, transaction_code)  # loads the record and the amount (prepare_verify)
        answer = self._send_data(self._verify_api_url, self.get_verify_data())
        self._bank.extra_information = json.dumps(answer)
        self._bank.save(update_fields=["extra_information", "update_at"])
        if answer.get("result") == ZIBAL_PAID and answer.get("status") == 1:
            self._set_payment_status(PaymentStatus.COMPLETE)
        elif answer.get("result") == ZIBAL_NOT_PAID:
            self._set_payment_status(PaymentStatus.CANCEL_BY_USER)
        else:
            logger.error("Zibal verify of %s failed: %s", self.get_tracking_code(), answer)
            self._set_payment_status(PaymentStatus.ERROR)


class SettingsReader(DefaultReader):
    """The package's reader, reading ``AZ_IRANIAN_BANK_GATEWAYS`` when asked (not at import)."""

    CLASSES = {"ZIBAL": "ramis.requests.bank_gateways.Zibal"}

    @staticmethod
    def _config() -> dict:
        return getattr(settings, "AZ_IRANIAN_BANK_GATEWAYS", {})

    def read(self, bank_type, identifier: str) -> dict:
        return self._config()["GATEWAYS"][bank_type]

    def klass(self, bank_type, identifier: str):
        return self.CLASSES.get(bank_type) or az_defaults.BANK_CLASS[bank_type]

    def default(self, identifier: str):
        return self._config().get("DEFAULT", az_defaults.BANK_DEFAULT)

    def currency(self, identifier: str):
        return self._config().get("CURRENCY", az_defaults.CURRENCY)

    def get_bank_priorities(self, identifier: str) -> list:
        return list(dict.fromkeys([self.default(identifier), *self._config().get("BANK_PRIORITIES", [])]))
