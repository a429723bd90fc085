from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "ramis.common"
    label = "common"
    verbose_name = "مشترک"

    def ready(self):
        from . import observability  # noqa: F401 - connects the request id's signals (requests, Celery tasks)
