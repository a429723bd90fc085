from django.apps import AppConfig


class EnamadConfig(AppConfig):
    name = "enamad"
    label = "enamad"
    verbose_name = "نماد اعتماد الکترونیکی"

    def ready(self):
        from . import checks, homes  # noqa: F401 - register the deploy check and the e-Namad staff home
