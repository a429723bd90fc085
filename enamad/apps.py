from django.apps import AppConfig


class EnamadConfig(AppConfig):
    name = "enamad"
    label = "enamad"
    verbose_name = "نماد اعتماد الکترونیکی"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy check
