from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The registration office's desk: the clerk's queue and review, the identity check at the
    visit, issuance onto the applicant's token, handover and office revocation (R10–R15, R19)."""

    name = "ramis.desk"
    label = "desk"
    verbose_name = "میز کار دفتر ثبت‌نام"

    def ready(self):
        from . import (
            checks,  # noqa: F401 - registers the deploy checks
            homes,  # noqa: F401 - registers the clerk's home
        )
