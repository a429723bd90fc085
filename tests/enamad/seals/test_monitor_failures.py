"""N21: the monitor acts on a failure only after ``ENAMAD_MONITOR_FAILURES`` (default 2) failed
checks in a row, counted on the seal; a clean check resets the count and recoveries count at
once. Against the local HTTP/HTTPS/DNS servers of test_monitoring; the batch keeps its single
UPDATE for healthy seals and records a seal with a pending failure count on its own."""

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from enamad.models import Business, BusinessStatus, Seal
from enamad.seals import monitoring
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.seals import test_monitoring
from tests.enamad.seals.test_monitoring import check, closed_port, logo_variant, use_tls

# The local servers and a sealed shop on them, as in test_monitoring.
pki, net, sealed = test_monitoring.pki, test_monitoring.net, test_monitoring.sealed

pytestmark = pytest.mark.django_db

MONITOR_EVENTS = ("enamad.seal.stars_changed", "enamad.seal.unreachable", "enamad.seal.domain_lapsed")


def test_the_default_is_two_failures_in_a_row():
    assert django_settings.ENAMAD_MONITOR_FAILURES == 2


def test_one_tls_failure_keeps_the_star_the_second_drops_it(client, sealed, net):
    use_tls(net, "expired")
    assert check(sealed) == []
    assert sealed.stars == 2 and sealed.failed_checks == 1 and logo_variant(client, sealed) == "stars-2"
    assert sealed.monitor_error  # the last error is shown to staff meanwhile
    assert not AuditEntry.objects.filter(event__in=MONITOR_EVENTS).exists()
    assert not OutboxMessage.objects.filter(template="enamad_monitor").exists()
    assert check(sealed) == ["enamad.seal.tls_lapsed"]
    assert sealed.stars == 1 and sealed.failed_checks == 2 and logo_variant(client, sealed) == "stars-1"
    # recovery counts at once and resets the count
    use_tls(net, "valid")
    assert check(sealed) == ["enamad.seal.tls_restored"]
    assert sealed.stars == 2 and sealed.failed_checks == 0


def test_a_single_unreachable_check_between_good_ones_changes_nothing(sealed, net, settings):
    ports = settings.ENAMAD_VERIFY_HTTP_PORT, settings.ENAMAD_VERIFY_HTTPS_PORT
    settings.ENAMAD_VERIFY_HTTP_PORT = settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    assert check(sealed) == []
    assert sealed.reachable and sealed.stars == 2 and sealed.domain_failing_since is None
    assert sealed.failed_checks == 1
    settings.ENAMAD_VERIFY_HTTP_PORT, settings.ENAMAD_VERIFY_HTTPS_PORT = ports
    assert check(sealed) == [] and sealed.failed_checks == 0 and sealed.monitor_error == ""
    # the count starts over: the next single failure is again not acted on
    settings.ENAMAD_VERIFY_HTTP_PORT = settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    assert check(sealed) == [] and sealed.failed_checks == 1
    assert check(sealed) == ["enamad.seal.unreachable", "enamad.seal.tls_lapsed", "enamad.seal.domain_lapsed"]
    assert not sealed.reachable and sealed.stars == 1 and sealed.domain_failing_since is not None
    assert not AuditEntry.objects.filter(event="enamad.seal.reachable").exists()


def test_the_grace_period_starts_at_the_confirming_check(sealed, net):
    plain = (200, b"<html><head><title>shop</title></head></html>", {})
    for site in [net["http"], *net["tls"].values()]:
        site.routes["/"] = plain
    assert check(sealed) == [] and sealed.domain_failing_since is None
    second = timezone.now()
    assert check(sealed) == ["enamad.seal.domain_lapsed"]
    assert sealed.domain_failing_since >= second
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED


def test_the_count_is_a_setting(sealed, net, settings):
    settings.ENAMAD_MONITOR_FAILURES = 3
    use_tls(net, "self_signed")
    assert check(sealed) == [] and check(sealed) == []
    assert sealed.stars == 2 and sealed.failed_checks == 2
    assert check(sealed) == ["enamad.seal.tls_lapsed"]


def test_a_batch_records_the_count_and_keeps_one_update_for_the_healthy(sealed, net, django_assert_num_queries):
    use_tls(net, "expired")
    report = monitoring.run_batch([sealed.pk])
    assert (report.checked, report.healthy, report.changed) == (1, 0, 0)
    sealed.refresh_from_db()
    assert sealed.failed_checks == 1 and sealed.stars == 2
    # the next clean check is recorded (it resets the count), then the seal is healthy again
    use_tls(net, "valid")
    report = monitoring.run_batch([sealed.pk])
    assert report.healthy == 0 and Seal.objects.get(pk=sealed.pk).failed_checks == 0
    with django_assert_num_queries(2):  # the snapshot, one UPDATE
        report = monitoring.run_batch([sealed.pk])
    assert report.healthy == 1
