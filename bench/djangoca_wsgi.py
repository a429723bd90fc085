"""django-ca's OCSP view under gunicorn, for bench/pki.py's OCSP part; runs inside django-ca's
throwaway virtualenv (bench/djangoca.py), never by hand:

    DJCA_BENCH_CONFIG='{…}' <venv>/bin/gunicorn --pythonpath bench djangoca_wsgi:application

The settings are bench/djangoca_child.py's (the same CONFIG_JSON, its database with the
certificates and their pre-signed answers the child made); the URLs are django-ca's own under
``/django_ca/``, so a POST to ``/django_ca/ocsp/<CA serial>/cert/`` reaches its ``GenericOCSPView``,
which answers from Django's cache, then the database (``CA_OCSP_RESPONSE_CACHE_EXPIRES``).
"""

import json
import os

import djangoca_child
from django.urls import include, path

djangoca_child.setup({**json.loads(os.environ["DJCA_BENCH_CONFIG"]), "urlconf": "djangoca_wsgi", "presigned": True})

from django.core.wsgi import get_wsgi_application  # noqa: E402

urlpatterns = [path("django_ca/", include("django_ca.urls"))]
application = get_wsgi_application()
