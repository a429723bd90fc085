from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "ramis.requests"
    label = "certrequests"
    verbose_name = "درخواست‌های گواهی"

    def ready(self):
        from ramis.common import event_words

        from . import checks, receivers  # noqa: F401 - registers the deploy checks and the CA's receivers
        from .selectors import EVENT_LABELS

        event_words.register(EVENT_LABELS)  # the staff timelines' words (ramis/common/event_words.py)
