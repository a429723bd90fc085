"""What every e-Namad room shares and nothing else owns: random codes, absolute links,
keyed digests, the throttle that fails closed in Persian, and two helpers of the rooms' pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from django.conf import settings

from ramis.common import throttle

CODE_ALPHABET = string.ascii_letters + string.digits


def random_code(length: int = 32) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def random_token() -> str:
    """The domain-control token: lower-case letters and digits, safe in a file name and a TXT record."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))


def random_reference() -> str:
    return "EN-" + "".join(secrets.choice(string.digits) for _ in range(10))


class Throttled(Exception):
    message = "تعداد درخواست‌ها بیش از حد مجاز است؛ چند دقیقه بعد دوباره تلاش کنید."

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message)


def throttle_hit(key: str, *, limit: int, window: int) -> bool:
    """``throttle.hit``, failing closed with a Persian ``Throttled`` when its cache is down."""
    try:
        return throttle.hit(key, limit=limit, window=window)
    except throttle.Unavailable as exc:
        raise Throttled(exc.message) from exc


def absolute_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def digest(purpose: str, value: str) -> str:
    key = f"{settings.SECRET_KEY}:enamad:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def posted(request):
    """A page's form data: bound on POST even when nothing was posted (an empty QueryDict is falsy)."""
    return request.POST if request.method == "POST" else None


def error_text(exc) -> str:
    """A ``ValidationError``'s messages as one line for a page's message."""
    return " ".join(exc.messages)


def take_step(request, step, done: str) -> bool:
    """A button (a staff desk's, or on one's own ticket): run ``step`` (a service call) and say how it went on the next page —
    ``done`` on success, the refusal's own Persian words otherwise; True when it was taken."""
    from django.contrib import messages
    from django.core.exceptions import PermissionDenied, ValidationError

    from ramis.common.errors import InvalidTransition

    try:
        step()
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except PermissionDenied:
        messages.error(request, "اجازه این کار را ندارید.")
    else:
        messages.success(request, done)
        return True
    return False
