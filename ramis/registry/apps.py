from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "ramis.registry"
    label = "registry"
    verbose_name = "معرفی اشخاص"
