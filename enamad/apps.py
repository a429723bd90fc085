from django.apps import AppConfig


class EnamadConfig(AppConfig):
    name = "enamad"
    label = "enamad"
    verbose_name = "نماد اعتماد الکترونیکی"

    def ready(self):
        from ramis.common import event_words

        from . import checks, homes  # noqa: F401 - register the deploy check and the e-Namad staff home
        from .event_words import PHRASES

        event_words.register(PHRASES)  # the staff timelines' words (ramis/common/event_words.py)
