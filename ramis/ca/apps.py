from django.apps import AppConfig


class CaConfig(AppConfig):
    name = "ramis.ca"
    label = "ca"
    verbose_name = "مرکز صدور گواهی"

    def ready(self) -> None:
        from django.conf import settings

        from . import checks, profiles  # noqa: F401 - checks registers the deploy checks

        profiles.set_policy_arc(getattr(settings, "CA_POLICY_ARC", profiles.DEFAULT_POLICY_ARC))
