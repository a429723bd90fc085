from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "ramis.common"
    label = "common"
    verbose_name = "مشترک"
