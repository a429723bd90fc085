from django.apps import AppConfig


class EnamadConfig(AppConfig):
    name = "enamad"
    label = "enamad"
    verbose_name = "نماد اعتماد الکترونیکی"
