from django.apps import AppConfig


class EnamadConfig(AppConfig):
    name = "enamad"
    label = "enamad"
    verbose_name = "نماد اعتماد الکترونیکی"

    def ready(self):
        from ramis.common import event_words

        from . import checks  # noqa: F401 - register the deploy check
        from .event_words import PHRASES
        from .portal import homes  # noqa: F401 - register the e-Namad staff home

        event_words.register(PHRASES)  # the staff timelines' words (ramis/common/event_words.py)
