"""The idle timeout, at a write a minute rather than a write a request.

A session ends after ``SESSION_COOKIE_AGE`` seconds without a request (30 minutes by default): its
row's ``expire_date`` is moved ahead when the session is saved. Django's way to make that an idle
timeout, ``SESSION_SAVE_EVERY_REQUEST``, rewrites the session row on every request — on
PostgreSQL a transaction of its own (BEGIN, UPDATE, COMMIT: three round trips) on every page a
clerk, an applicant or a reviewer opens, even when nothing in the session changed.

:class:`IdleSessionMiddleware` (in place of Django's ``SessionMiddleware``) keeps the rule and
drops most of the writes: a request that carries a live session moves its expiry ahead only when
the last move is ``SESSION_IDLE_REFRESH_SECONDS`` (60) or more old; a session that changed is saved
as always. The session then ends between ``SESSION_COOKIE_AGE - SESSION_IDLE_REFRESH_SECONDS`` and
``SESSION_COOKIE_AGE`` seconds after the last request — 29 to 30 minutes by default — never later.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware

REFRESHED = "_idle_refreshed"  # in the session: when its expiry was last moved ahead (Unix seconds)


class IdleSessionMiddleware(SessionMiddleware):
    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.modified:
            refreshed = session.get(REFRESHED, 0)  # the session is read if the view did not read it
            now = int(time.time())
            if not session.is_empty() and now - refreshed >= settings.SESSION_IDLE_REFRESH_SECONDS:
                session[REFRESHED] = now  # modified: Django's middleware saves it, moving its expiry
        return super().process_response(request, response)
