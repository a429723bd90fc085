from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "ramis.requests"
    label = "certrequests"
    verbose_name = "درخواست‌های گواهی"

    def ready(self):
        from . import checks, receivers  # noqa: F401 - registers the deploy checks and the CA's receivers
