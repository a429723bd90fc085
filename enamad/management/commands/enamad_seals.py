"""Seal upkeep by hand (the beat schedule does the same): expire seals past their year, send
expiry reminders, flag unanswered complaints, close idle answered tickets, and re-check (monitor) seals now."""

from django.core.management.base import BaseCommand, CommandError

from enamad.complaints import services as complaint_services
from enamad.models import Seal
from enamad.seals import control as seal_control
from enamad.seals import monitoring
from enamad.seals import services as seal_services
from enamad.support import services as support_services


class Command(BaseCommand):
    help = ("expire: seals past their validity → expired; remind: expiry reminders (30/7 days); "
            "complaints: flag complaints unanswered past their deadline; tickets: close answered tickets the "
            "holder left for ENAMAD_TICKET_CLOSE_DAYS; monitor: re-check seals "
            "(all monitored seals, or --domain D) and print what changed.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["expire", "remind", "complaints", "tickets", "monitor"])
        parser.add_argument("--domain", help="monitor: only this domain")

    def handle(self, *args, action, domain=None, **options):
        if action == "expire":
            self.stdout.write(f"expired {seal_services.seals_expire_due()} seal(s)")
        elif action == "remind":
            self.stdout.write(f"sent {seal_services.seals_remind_expiry()} expiry reminder(s)")
        elif action == "complaints":
            self.stdout.write(f"flagged {complaint_services.complaints_flag_overdue()} overdue complaint(s)")
        elif action == "tickets":
            self.stdout.write(f"closed {support_services.tickets_close_idle()} idle ticket(s)")
        elif domain:
            seal = Seal.objects.filter(business__domain=domain).first()
            if seal is None:
                raise CommandError(f"no seal for {domain}")
            result, events = seal_control.seal_monitor(seal_id=seal.pk)
            self.stdout.write(f"{domain}: reachable={result.reachable} tls={result.tls_valid} "
                              f"domain_control={result.domain_ok}{' (' + result.method + ')' if result.method else ''}"
                              f" events={','.join(events) or '-'}")
            if result.error:
                self.stdout.write(f"  {result.error}")
        else:
            ids = list(Seal.objects.monitored().values_list("pk", flat=True))
            totals = monitoring.BatchReport()
            for start in range(0, len(ids), 100):
                report = monitoring.run_batch(ids[start:start + 100])
                totals.checked += report.checked
                totals.healthy += report.healthy
                totals.changed += report.changed
                totals.events.update(report.events)
                totals.record_errors += report.record_errors
            events = ", ".join(f"{k}={v}" for k, v in sorted(totals.events.items())) or "none"
            self.stdout.write(f"checked {totals.checked} seal(s): {totals.healthy} healthy, "
                              f"{totals.changed} changed; events: {events}")
            if totals.record_errors:
                raise CommandError(f"could not record the check of seal(s) {', '.join(map(str, totals.record_errors))}"
                                   " (see the log)")
