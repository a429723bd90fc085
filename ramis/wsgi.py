import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")

django_application = get_wsgi_application()


def application(environ, start_response):
    """Django, with a liveness probe answered before it: a container healthcheck reaches the
    process as 127.0.0.1, which is (rightly) not one of the ALLOWED_HOSTS."""
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    return django_application(environ, start_response)
