"""SMS backends (X3): a small interface and its implementations, chosen by ``SMS_BACKEND``."""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("ramis.sms")


class DeliveryError(Exception):
    """The gateway did not accept the message; the caller keeps it for a retry."""


class BaseSMSBackend:
    def __init__(self, **options):
        self.options = options

    def send(self, *, to: str, text: str, ref: str = "") -> str:
        """Send one message; return the gateway's reference. Raise DeliveryError on failure.

        ``ref`` is ours (the outbox row's id), the same on every retry, so a gateway that takes one
        (Kavenegar's ``localid``, which ``sms/statuslocalmessageid`` looks up) can tell a retry of a
        timed-out call from a new message."""
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Development: the message goes to the log; the outbox table (and /dev/outbox/ when
    DEBUG) shows it, so a newcomer can read their login code."""

    def send(self, *, to: str, text: str, ref: str = "") -> str:
        logger.info("SMS to %s: %s", to, text)
        return "console"


class KavenegarSMSBackend(BaseSMSBackend):
    """Production: Kavenegar's REST API (``/v1/{API-KEY}/sms/send.json``)."""

    default_base_url = "https://api.kavenegar.com"

    def send(self, *, to: str, text: str, ref: str = "") -> str:
        api_key = self.options.get("api_key")
        if not api_key:
            raise DeliveryError("KAVENEGAR_API_KEY is not set")
        base = (self.options.get("base_url") or self.default_base_url).rstrip("/")
        data = {"receptor": to, "message": text, "sender": self.options.get("sender", "")}
        if ref:
            data["localid"] = ref
        read_timeout = self.options.get("timeout", 10)
        try:
            response = requests.post(
                f"{base}/v1/{api_key}/sms/send.json", data=data,
                timeout=(self.options.get("connect_timeout", read_timeout), read_timeout),
            )
        except requests.Timeout as exc:
            raise DeliveryError(f"gateway did not answer in time: {exc.__class__.__name__}") from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise DeliveryError(f"gateway answered HTTP {response.status_code}")
        try:
            entries = response.json()["entries"]
            return str(entries[0]["messageid"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise DeliveryError("gateway answer not understood") from exc


def get_backend() -> BaseSMSBackend:
    options = dict(settings.SMS_OPTIONS)
    if settings.SMS_BASE_URL:
        options["base_url"] = settings.SMS_BASE_URL
    return import_string(settings.SMS_BACKEND)(**options)
