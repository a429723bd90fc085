"""Create or update the "SEO reviewers" group: what an SEO reviewer does in the admin."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError

GROUP = "SEO reviewers"
# app_label.codename; the admin shows a reviewer only what these allow.
PERMISSIONS = [
    # introductions (R2): approve, reject, end a role; the people and companies behind them
    "registry.review_role", "registry.view_role", "registry.add_role", "registry.change_role",
    "registry.view_person", "registry.add_person", "registry.change_person",
    "registry.view_company", "registry.add_company", "registry.change_company", "registry.view_seodepartment",
    # offices and clerks, working hours, holidays, tariffs, the token catalogue
    *(f"offices.{verb}_{model}" for model in ("registrationoffice", "clerk", "workingperiod", "holiday", "tariff",
                                              "tokenmodel") for verb in ("view", "add", "change")),
    "offices.delete_workingperiod", "offices.delete_holiday",
    # document requirements are data; requests and certificates are read-only (revocation is a button)
    "certrequests.view_documentrequirement", "certrequests.add_documentrequirement",
    "certrequests.change_documentrequirement",
    *(f"certrequests.view_{model}" for model in ("certificaterequest", "certificate", "revocationrequest", "invoice",
                                                 "payment", "appointment")),
    "certrequests.revoke_certificate",
    # refunds of cancelled paid requests: recorded as paid once the money went back
    "certrequests.view_refund", "certrequests.pay_refund",
    "desk.view_identitycheck", "desk.view_issuanceattempt", "desk.view_officerevocation", "desk.view_handover",
    # the offices' issuing desks (workstations and their token agents)
    "desk.view_workstation", "desk.add_workstation", "desk.change_workstation",
    "ca.view_issuedcertificate", "ca.view_certificateauthority", "ca.view_crl",
    "common.view_auditentry",
]


class Command(BaseCommand):
    help = 'Create or update the "SEO reviewers" group (admin permissions of an SEO reviewer); optionally add users.'

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", help="staff users to add to the group")

    def handle(self, *args, usernames, **options):
        from django.contrib.auth import get_user_model

        perms = []
        for name in PERMISSIONS:
            app_label, codename = name.split(".")
            try:
                perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            except Permission.DoesNotExist:
                raise CommandError(f"no permission {name}: run `manage.py migrate` first") from None
        group, created = Group.objects.get_or_create(name=GROUP)
        group.permissions.set(perms)
        self.stdout.write(f"{'created' if created else 'updated'} group {GROUP!r} with {len(perms)} permissions")
        User = get_user_model()
        for username in usernames:
            try:
                user = User.objects.get(username=username, is_staff=True)
            except User.DoesNotExist:
                raise CommandError(f"no staff user {username!r}") from None
            user.groups.add(group)
            self.stdout.write(f"added {username} to {GROUP!r}")
