"""WSGI entry point for an OCSP tier on a WSGI server: ``gunicorn ramis.ca.wsgi:application``.

Production uses ``manage.py ca ocsp-serve`` (:mod:`ramis.ca.ocsp_server`) instead,
at a fraction of the CPU per answer; this is the same thing for WSGI servers.

Requests under ``/ca/ocsp/`` are answered before Django's request machinery
(:mod:`ramis.ca.ocsp_wsgi`, as the site's own ``ramis.wsgi`` does); everything
else goes to the normal Django application, so this module can also serve the
whole site.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_application = get_wsgi_application()

from . import ocsp_wsgi  # noqa: E402


def application(environ, start_response):
    if ocsp_wsgi.handles(environ):
        return ocsp_wsgi.answer(environ, start_response)
    return django_application(environ, start_response)
