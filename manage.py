#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")
    from django.core.management import execute_from_command_line

    from ramis.common.observability import fresh_request_id

    # A command runs under an id of its own, cmd-<hex>: its log lines, the audit entries it writes and
    # the tasks it queues share it (docs/operator/logs.md).
    with fresh_request_id("cmd"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
