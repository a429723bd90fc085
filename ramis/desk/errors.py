"""The desk's refusal: one exception the services raise and the views and admin show."""

from __future__ import annotations

# What the clerk reads when a token the system itself uses (a CA's, the TSA's, the audit anchor's)
# is chosen for a holder: the issue form says it next to the field, the issuance service refuses it.
NOT_FOR_HOLDERS = ("این توکن از توکن‌های خود سامانه (مرکز صدور، مهر زمانی یا ممیزی) است و "
                   "کلید متقاضی روی آن ساخته نمی‌شود؛ توکن خود متقاضی را انتخاب کنید.")


class DeskError(Exception):
    """A refusal or failure with a message for the clerk (Persian) and a short code."""

    def __init__(self, message: str, code: str = "refused"):
        self.message = message
        self.code = code
        super().__init__(message)
