from django.core.management.base import BaseCommand, CommandError

from ramis.common.audit import verify_chain


class Command(BaseCommand):
    help = "Audit-trail operations. `audit verify` checks the hash chain of every entry."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        count, problems = verify_chain()
        if problems:
            for problem in problems[:20]:
                self.stderr.write(problem)
            raise CommandError(f"audit trail broken: {len(problems)} problem(s) in {count} entries")
        self.stdout.write(f"audit trail intact: {count} entries verified")
