"""Create or update the staff groups of e-Namad (idempotent)."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db.models import Q

READ = ["view_account", "view_business", "view_identitydocument", "view_review", "view_seal",
        "view_businessservice", "view_surveyresponse", "view_postalletter", "view_phonechallenge",
        "view_ticket", "view_ticketmessage", "view_complaint"]
GROUPS = {
    "کارشناسان اینماد": ["review_business", "review_documents", "answer_ticket", "approve_change",
                         "handle_complaint", *READ],
    "مدیران اینماد": ["approve_business", "review_documents", "answer_ticket", "approve_change",
                      "handle_complaint", *READ,
                      "view_checklistitem", "change_checklistitem", "add_checklistitem",
                      "view_servicecategory", "change_servicecategory", "add_servicecategory",
                      "change_postalletter",
                      # e-Namad's part of the audit trail (who did what, from where), not the CA's
                      "common.view_enamad_auditentry"],
}


def ensure_groups() -> dict[str, Group]:
    """The groups with exactly their permissions: a codename is e-Namad's, ``app.codename`` another app's."""
    groups = {}
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = Q()
        for codename in codenames:
            app, _, code = codename.rpartition(".")
            wanted |= Q(content_type__app_label=app or "enamad", codename=code)
        group.permissions.set(Permission.objects.filter(wanted))
        groups[name] = group
    return groups


class Command(BaseCommand):
    help = "Create/update the e-Namad staff groups (experts, managers) with their permissions."

    def handle(self, *args, **options):
        for name, group in ensure_groups().items():
            self.stdout.write(f"{name}: {group.permissions.count()} permissions")
