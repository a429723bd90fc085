"""``manage.py workstation add|list|rotate-secret|disable|enable|check``: the offices' issuing desks.

Thin: each action calls a desk service (audited, as the operator). ``add`` and ``rotate-secret``
print the agent's new secret once, on its own line, to copy into the workstation
(``python -m tokens.agent set-secret FILE``); nothing else ever prints it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ramis.desk import services
from ramis.desk.models import Workstation
from ramis.offices.models import RegistrationOffice


def _workstation(pk: int) -> Workstation:
    try:
        return Workstation.objects.select_related("office").get(pk=pk)
    except Workstation.DoesNotExist:
        raise CommandError(f"no workstation with id {pk} (see `manage.py workstation list`)") from None


class Command(BaseCommand):
    help = "Issuing desks (workstations) and their token agents: add, list, rotate-secret, disable, enable, check."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("add", help="register a workstation and print its agent's secret (once)")
        p.add_argument("--office", required=True, help="the office's code, e.g. TEH01")
        p.add_argument("--name", required=True, help="the desk's name, e.g. 'desk 2'")
        p.add_argument("--url", required=True, help="its agent, e.g. https://desk-teh02.office.lan:8765")
        p = sub.add_parser("list", help="workstations (never their secrets)")
        p.add_argument("--office", help="only this office's")
        for name, text in (("rotate-secret", "a new secret for the agent (printed once; the old one stops working)"),
                           ("disable", "clerks can no longer choose it"), ("enable", "clerks can choose it again"),
                           ("check", "ping its agent (signed, bounded) and record when it was last seen")):
            sub.add_parser(name, help=text).add_argument("id", type=int)

    def handle(self, *args, action, **options):
        try:
            getattr(self, "do_" + action.replace("-", "_"))(**options)
        except services.DeskError as exc:
            raise CommandError(exc.message) from None

    def do_add(self, *, office, name, url, **_):
        try:
            office_id = RegistrationOffice.objects.get(code=office).pk
        except RegistrationOffice.DoesNotExist:
            raise CommandError(f"no office with code {office!r}") from None
        ws, secret = services.workstation_add(actor=None, office_id=office_id, name=name, agent_url=url)
        self.stdout.write(f"added workstation {ws.pk} {ws.name!r} of {office} at {ws.agent_url}; its agent's secret "
                          "(shown this once; store it with `python -m tokens.agent set-secret FILE`):")
        self.stdout.write(secret)

    def do_list(self, *, office=None, **_):
        rows = Workstation.objects.select_related("office").order_by("office__code", "name")
        if office:
            rows = rows.filter(office__code=office)
        for ws in rows:
            seen = ws.last_seen_at.isoformat(timespec="seconds") if ws.last_seen_at else "never"
            self.stdout.write(f"{ws.pk}\t{ws.office.code}\t{ws.name}\t{ws.agent_url}\t"
                              f"{'active' if ws.is_active else 'disabled'}\tlast seen {seen}")

    def do_rotate_secret(self, *, id, **_):  # noqa: A002 - the argument's name
        ws = _workstation(id)
        secret = services.workstation_rotate_secret(actor=None, workstation_id=ws.pk)
        self.stdout.write(f"new secret for workstation {ws.pk} {ws.name!r} (shown this once; the old one no longer "
                          "works):")
        self.stdout.write(secret)

    def do_disable(self, *, id, **_):  # noqa: A002
        ws = services.workstation_update(actor=None, workstation_id=_workstation(id).pk, is_active=False)
        self.stdout.write(f"workstation {ws.pk} {ws.name!r} disabled")

    def do_enable(self, *, id, **_):  # noqa: A002
        ws = services.workstation_update(actor=None, workstation_id=_workstation(id).pk, is_active=True)
        self.stdout.write(f"workstation {ws.pk} {ws.name!r} enabled")

    def do_check(self, *, id, **_):  # noqa: A002
        health = services.workstation_check(workstation_obj=_workstation(id))
        if not health.ok:
            raise CommandError(f"workstation {id}: the agent does not answer: {health.detail['error']}")
        self.stdout.write(f"workstation {id}: the agent answers ({health.detail['rtt_ms']} ms, clock "
                          f"{health.detail['clock_skew_s']:+} s, module {health.detail['module']})")
