from django.apps import AppConfig


class OfficesConfig(AppConfig):
    name = "ramis.offices"
    label = "offices"
    verbose_name = "دفاتر ثبت‌نام"
