"""The desk's refusal: one exception the services raise and the views and admin show."""

from __future__ import annotations


class DeskError(Exception):
    """A refusal or failure with a message for the clerk (Persian) and a short code."""

    def __init__(self, message: str, code: str = "refused"):
        self.message = message
        self.code = code
        super().__init__(message)
