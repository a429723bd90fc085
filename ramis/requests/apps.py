from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "ramis.requests"
    label = "certrequests"
    verbose_name = "درخواست‌های گواهی"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy checks
