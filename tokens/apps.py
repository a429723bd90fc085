from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    label = "tokens"
    verbose_name = "توکن‌های سخت‌افزاری"
