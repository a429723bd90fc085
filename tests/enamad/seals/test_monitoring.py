"""N18, N21: the monitor re-checks sealed sites against real local servers (HTTP, HTTPS with a
trusted, a self-signed and an expired certificate, DNS) and each change is audited and told to
the holder: TLS lapsed → one star, domain control lapsed beyond the grace period → suspended,
reachability lost; every recovery restores. Time travel moves past the grace period."""

import datetime as dt
import socket

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from enamad.businesses import verification
from enamad.businesses.services import business_send
from enamad.models import Business, BusinessStatus, Seal
from enamad.seals import control as seal_control
from enamad.seals import monitoring
from enamad.seals.control import business_send_domain_code, seal_monitor, seal_snapshots, seals_claim_due
from enamad.seals.services import business_reinstate, business_renew, business_suspend, seals_remind_expiry
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.conftest import (
    DOMAIN,
    forget_cached_seals,
    make_account,
    make_business,
    test_ca,
    write_server_cert,
)
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db


def home(token: str) -> bytes:
    return f'<html><head><meta name="enamad" content="{token}"><title>shop</title></head></html>'.encode()


@pytest.fixture(autouse=True)
def _act_on_the_first_failure(settings):
    """These tests are about what each failure and recovery does, so one failed check is acted
    on; waiting for ``ENAMAD_MONITOR_FAILURES`` in a row (default 2) is in test_monitor_failures.py."""
    settings.ENAMAD_MONITOR_FAILURES = 1


@pytest.fixture
def pki(tmp_path):
    key, name, ca_file = test_ca(tmp_path)
    names = [DOMAIN, f"www.{DOMAIN}"]
    return {
        "ca_file": str(ca_file),
        "valid": write_server_cert(tmp_path, names, signer=(key, name), stem="valid"),
        "self_signed": write_server_cert(tmp_path, names, stem="selfsigned"),
        "expired": write_server_cert(tmp_path, names, signer=(key, name), expired=True, stem="expired"),
        "wrong_name": write_server_cert(tmp_path, ["other.test"], signer=(key, name), stem="wrongname"),
    }


@pytest.fixture
def net(local_net, settings, pki, tls_sites):
    """shop.test on 127.0.0.1: HTTP and HTTPS (trusted certificate) both serve the meta tag."""
    settings.ENAMAD_VERIFY_CA_FILE = pki["ca_file"]
    sites = {name: tls_sites(*pki[name]) for name in ("valid", "self_signed", "expired", "wrong_name")}
    settings.ENAMAD_VERIFY_HTTPS_PORT = sites["valid"].port
    return {"http": local_net["http"], "dns": local_net["dns"], "tls": sites, "settings": settings}


@pytest.fixture
def sealed(business, net):
    seal = issue_seal(business, stars=2)
    for site in [net["http"], *net["tls"].values()]:
        site.routes["/"] = (200, home(business.verification_token), {})
    OutboxMessage.objects.all().delete()
    return seal


def use_tls(net, name):
    net["settings"].ENAMAD_VERIFY_HTTPS_PORT = net["tls"][name].port


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def check(seal):
    _, events = seal_monitor(seal_id=seal.pk)
    seal.refresh_from_db()
    return events


def holder_sms():
    return list(OutboxMessage.objects.filter(channel="sms", to="09121112233").order_by("id")
                .values_list("body", flat=True))


def logo_variant(client, seal):
    forget_cached_seals()
    return client.get(f"/trustseal/logo/?id={seal.number}&Code={seal.code}",
                      HTTP_REFERER=f"https://{DOMAIN}/")["X-Seal-Variant"]


# --- the checks themselves (pure network) ------------------------------------------------------


def test_healthy_site_costs_one_request(sealed, net):
    result = verification.monitor_check(DOMAIN, sealed.business.verification_token, "meta")
    assert (result.reachable, result.tls_valid, result.domain_ok, result.method) == (True, True, True, "meta")
    assert net["tls"]["valid"].requests == [(DOMAIN, "/")] and net["http"].requests == []


@pytest.mark.parametrize("cert", ["self_signed", "expired", "wrong_name"])
def test_bad_certificates_are_not_valid_tls(sealed, net, cert):
    use_tls(net, cert)
    result = verification.monitor_check(DOMAIN, sealed.business.verification_token, "meta")
    assert result.reachable and result.domain_ok  # over HTTP
    assert not result.tls_valid and "TLS" in result.error


# --- TLS: two stars ↔ one star -----------------------------------------------------------------


@pytest.mark.parametrize("cert", ["self_signed", "expired"])
def test_lapsed_tls_drops_a_star_and_recovery_restores_it(client, sealed, net, cert,
                                                          django_capture_on_commit_callbacks):
    assert check(sealed) == [] and sealed.stars == 2 and sealed.monitored_at is not None
    use_tls(net, cert)
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == ["enamad.seal.tls_lapsed"]
    assert sealed.stars == 1
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED
    entry = AuditEntry.objects.get(event="enamad.seal.stars_changed", actor=None)
    assert (entry.old, entry.new) == ("2", "1") and "TLS" in entry.reason
    assert any("یک ستاره" in body for body in holder_sms())
    assert logo_variant(client, sealed) == "stars-1"
    assert check(sealed) == []  # still lapsed: nothing new to say
    use_tls(net, "valid")
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == ["enamad.seal.tls_restored"]
    assert sealed.stars == 2 and logo_variant(client, sealed) == "stars-2"
    assert AuditEntry.objects.filter(event="enamad.seal.stars_changed").count() == 2
    assert any("دوباره دو ستاره" in body for body in holder_sms())


def test_a_one_star_seal_gains_its_second_star_with_valid_tls(account, net):
    business = make_business(account)
    seal = issue_seal(business, stars=1)
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, home(business.verification_token), {})
    assert check(seal) == ["enamad.seal.tls_restored"] and seal.stars == 2


# --- domain control: grace period, suspension, recovery ----------------------------------------


def test_lapsed_domain_control_warns_then_suspends_after_the_grace_period(client, sealed, net, settings):
    settings.ENAMAD_MONITOR_GRACE_DAYS = 7
    plain = (200, b"<html><head><title>shop</title></head></html>", {})
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = plain
    start = timezone.now()
    assert check(sealed) == ["enamad.seal.domain_lapsed"]
    assert sealed.domain_failing_since is not None and "meta" in sealed.monitor_error
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED
    warning = holder_sms()[-1]
    assert "تأییدیه فنی" in warning and "تعلیق" in warning
    assert AuditEntry.objects.filter(event="enamad.seal.domain_lapsed", actor=None).count() == 1
    assert logo_variant(client, sealed) == "stars-2"  # still vouching during the grace period

    with time_machine.travel(start + dt.timedelta(days=6, hours=23), tick=True):
        assert check(sealed) == []
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED
    with time_machine.travel(start + dt.timedelta(days=7, hours=1), tick=True):
        assert check(sealed) == ["enamad.seal.suspended"]
    business = Business.objects.get(pk=sealed.business_id)
    assert business.status == BusinessStatus.SUSPENDED and sealed.suspended_by_monitor
    entry = AuditEntry.objects.get(event="enamad.seal.suspended")
    assert entry.actor is None and entry.extra == {"by": "monitor"} and "7 روز" in entry.reason
    assert "تعلیق" in holder_sms()[-1]
    assert logo_variant(client, sealed) == "suspended"

    # the holder puts the tag back: the monitor lifts its own suspension
    net["tls"]["valid"].routes["/"] = (200, home(business.verification_token), {})
    before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert check(sealed) == ["enamad.seal.domain_restored", "enamad.seal.reinstated"]
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED
    # the holder is told both: the file is approved again (status SMS) and domain control is back
    sent = list(OutboxMessage.objects.filter(pk__gt=before, channel="sms").order_by("pk")
                .values_list("to", "template", "body"))
    assert [(to, template) for to, template, _ in sent] == [("09121112233", "enamad_status"),
                                                             ("09121112233", "enamad_monitor")]
    # its own words: a reinstatement, not "your seal was issued, get the seal code"
    assert f"تعلیق نماد {DOMAIN}" in sent[0][2] and "برداشته شد" in sent[0][2] and "همان کد قبلی" in sent[0][2]
    assert "«تأیید نهایی» شد" not in sent[0][2] and "دریافت کد نماد" not in sent[0][2]
    assert "توضیح: تأییدیه فنی دامنه دوباره برقرار شد." in sent[0][2]  # the reason
    assert f"تأییدیه فنی {DOMAIN} دوباره برقرار شد." in sent[1][2] and "تعلیق" not in sent[1][2]
    assert not sealed.suspended_by_monitor and sealed.domain_failing_since is None
    assert AuditEntry.objects.filter(event="enamad.seal.reinstated", actor=None).exists()
    assert logo_variant(client, sealed) == "stars-2"


def test_grace_period_is_a_setting(sealed, net, settings):
    settings.ENAMAD_MONITOR_GRACE_DAYS = 2
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, b"<html></html>", {})
    start = timezone.now()
    check(sealed)
    with time_machine.travel(start + dt.timedelta(days=2, minutes=5), tick=True):
        assert check(sealed) == ["enamad.seal.suspended"]


def test_another_method_does_not_stand_in_for_the_chosen_one(sealed, net, django_capture_on_commit_callbacks):
    """The holder chose the meta tag; it is gone and the file is there: control has lapsed (the
    grace period runs), and the holder is told which method failed and which was found."""
    token = sealed.business.verification_token
    net["tls"]["valid"].routes["/"] = (200, b"<html></html>", {})
    net["tls"]["valid"].routes[f"/{token}.txt"] = (200, token.encode(), {})
    result = verification.monitor_check(DOMAIN, token, "meta")
    assert (result.domain_ok, result.method, result.other_method) == (False, "", "file")
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == ["enamad.seal.domain_lapsed"]
    business = Business.objects.get(pk=sealed.business_id)
    assert business.domain_verified_method == "meta" and sealed.domain_failing_since is not None
    assert not AuditEntry.objects.filter(event="enamad.business.domain_method_changed").exists()
    entry = AuditEntry.objects.get(event="enamad.seal.domain_lapsed")
    assert (entry.old, entry.new) == ("meta", "file")
    sms = holder_sms()[-1]
    assert "(برچسب meta در صفحه اول) یافت نشد" in sms  # the method that failed
    assert "روش دیگری (فایل متنی در ریشه سایت) یافت شد" in sms and "تیکت" in sms
    assert "برچسب meta در صفحه اول" in sealed.monitor_error


def test_a_chosen_file_that_is_gone_lapses_although_the_meta_tag_is_there(sealed, net):
    Business.objects.filter(pk=sealed.business_id).update(domain_verified_method="file")
    token = sealed.business.verification_token
    net["tls"]["valid"].routes[f"/{token}.txt"] = (200, token.encode(), {})
    assert check(sealed) == [] and sealed.domain_failing_since is None
    del net["tls"]["valid"].routes[f"/{token}.txt"]  # the home page still has the meta tag
    assert check(sealed) == ["enamad.seal.domain_lapsed"]
    assert "فایل متنی در ریشه سایت" in sealed.monitor_error and "برچسب meta" in sealed.monitor_error
    net["tls"]["valid"].routes[f"/{token}.txt"] = (200, token.encode(), {})
    assert check(sealed) == ["enamad.seal.domain_restored"]
    restored = OutboxMessage.objects.filter(channel="sms").latest("pk")
    assert (restored.to, restored.template) == ("09121112233", "enamad_monitor")
    assert f"تأییدیه فنی {DOMAIN} دوباره برقرار شد." in restored.body


def test_a_chosen_txt_record_that_is_gone_lapses_although_the_meta_tag_is_there(sealed, net):
    Business.objects.filter(pk=sealed.business_id).update(domain_verified_method="dns")
    net["dns"].txt[DOMAIN] = [f"enamad-verification={sealed.business.verification_token}"]
    assert check(sealed) == []
    net["dns"].txt[DOMAIN] = []
    assert check(sealed) == ["enamad.seal.domain_lapsed"]
    assert "رکورد TXT در DNS" in sealed.monitor_error
    assert AuditEntry.objects.get(event="enamad.seal.domain_lapsed").new == "meta"


def test_dns_method_is_checked_by_its_txt_record(sealed, net):
    Business.objects.filter(pk=sealed.business_id).update(domain_verified_method="dns")
    token = sealed.business.verification_token
    net["tls"]["valid"].routes["/"] = (200, b"<html></html>", {})
    net["dns"].txt[DOMAIN] = [f"enamad-verification={token}"]
    assert check(sealed) == [] and sealed.domain_failing_since is None
    net["dns"].txt[DOMAIN] = []
    assert check(sealed) == ["enamad.seal.domain_lapsed"]


# --- reachability ------------------------------------------------------------------------------


def test_unreachable_site_then_back(sealed, net, settings):
    settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    settings.ENAMAD_VERIFY_HTTP_PORT = closed_port()
    assert check(sealed) == ["enamad.seal.unreachable", "enamad.seal.tls_lapsed", "enamad.seal.domain_lapsed"]
    assert not sealed.reachable and sealed.unreachable_since is not None and sealed.stars == 1
    assert "در دسترس نبود" in holder_sms()[-1]
    use_tls(net, "valid")
    settings.ENAMAD_VERIFY_HTTP_PORT = net["http"].port
    assert check(sealed) == ["enamad.seal.reachable", "enamad.seal.tls_restored", "enamad.seal.domain_restored"]
    assert sealed.reachable and sealed.stars == 2 and sealed.unreachable_since is None
    assert AuditEntry.objects.filter(event__in=["enamad.seal.unreachable", "enamad.seal.reachable"]).count() == 2


def test_site_answering_500_is_unreachable(sealed, net):
    net["tls"]["valid"].routes["/"] = net["http"].routes["/"] = (503, b"down", {})
    assert "enamad.seal.unreachable" in check(sealed)


# --- what the monitor leaves alone -------------------------------------------------------------


def test_staff_suspension_is_not_lifted_by_the_monitor(sealed, net, enamad_manager):
    business_suspend(business_id=sealed.business_id, actor=enamad_manager, reason="شکایت")
    assert not Seal.objects.monitored().filter(pk=sealed.pk).exists()
    assert check(sealed) == []
    assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.SUSPENDED


def test_staff_reinstating_a_monitor_suspension_restarts_the_grace(sealed, net, enamad_manager, settings):
    net["tls"]["valid"].routes["/"] = (200, b"<html></html>", {})
    start = timezone.now()
    check(sealed)
    with time_machine.travel(start + dt.timedelta(days=8), tick=True):
        assert check(sealed) == ["enamad.seal.suspended"]
        business_reinstate(business_id=sealed.business_id, actor=enamad_manager)
        reinstated = OutboxMessage.objects.filter(channel="sms").latest("pk")
        assert (reinstated.to, reinstated.template) == ("09121112233", "enamad_status")
        assert "برداشته شد" in reinstated.body and "دریافت کد نماد" not in reinstated.body
        mail = OutboxMessage.objects.filter(channel="email", template="enamad_status").latest("pk")
        assert "رفع تعلیق نماد" in mail.subject and "همان کد قبلی" in mail.body
        sealed.refresh_from_db()
        assert not sealed.suspended_by_monitor and sealed.domain_failing_since is None
        assert check(sealed) == ["enamad.seal.domain_lapsed"]  # a fresh warning, not a second suspension


# --- batches: bounded, claimed, no transaction across the network ------------------------------


def make_sealed(account, count, net):
    seals = []
    for i in range(count):
        business = make_business(account, domain=f"s{i}.test")
        seals.append(issue_seal(business, stars=1))
        net["dns"].a[f"s{i}.test"] = "127.0.0.1"
    return seals


def test_dispatch_claims_due_seals_in_batches(account, net, settings, django_capture_on_commit_callbacks):
    settings.ENAMAD_MONITOR_BATCH_SIZE = 3
    seals = make_sealed(account, 7, net)
    Seal.objects.update(monitor_due_at=timezone.now() - dt.timedelta(minutes=1))
    # HTTP only (one star), every seal's tag on the one local site: all healthy
    net["http"].routes["/"] = (200, b"".join(home(s.business.verification_token) for s in seals), {})
    settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    from enamad.tasks import monitor_dispatch

    assert monitor_dispatch() == 7
    assert Seal.objects.filter(monitored_at__isnull=False).count() == 7
    assert not Seal.objects.filter(monitor_due_at__lte=timezone.now()).exists()
    assert seals_claim_due(100) == []  # nothing due any more
    hosts = {host for host, _ in net["http"].requests}
    assert hosts == {f"s{i}.test" for i in range(7)}


def test_a_healthy_batch_costs_a_fixed_number_of_queries(account, net, settings, django_assert_num_queries):
    seals = make_sealed(account, 12, net)
    net["http"].routes["/"] = (200, b"".join(home(s.business.verification_token) for s in seals), {})
    settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    ids = [s.pk for s in seals]
    monitoring.run_batch(ids)  # first pass: nothing changes (one star, no TLS)
    with django_assert_num_queries(2):  # the snapshot, one UPDATE
        report = monitoring.run_batch(ids, concurrency=4)
    assert (report.checked, report.healthy, report.changed) == (12, 12, 0)


def test_claimed_seals_are_not_claimed_twice(account, net):
    make_sealed(account, 3, net)
    Seal.objects.update(monitor_due_at=None)
    first = seals_claim_due(2)
    second = seals_claim_due(10)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)


def test_breaker_records_nothing_when_most_of_a_batch_fails(account, net, settings):
    seals = make_sealed(account, monitoring.BREAKER_MIN_BATCH, net)
    settings.ENAMAD_VERIFY_HTTP_PORT = closed_port()
    settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    report = monitoring.run_batch([s.pk for s in seals], concurrency=8)
    assert report.inconclusive
    assert not Seal.objects.filter(domain_failing_since__isnull=False).exists()
    assert not Seal.objects.filter(reachable=False).exists()


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_during_network_checks(net, settings, monkeypatch):
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory

    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account("txshop")
    seal = issue_seal(make_business(account), stars=2)
    net["tls"]["valid"].routes["/"] = (200, home(seal.business.verification_token), {})
    main = connections["default"]  # this thread's connection object (``connection`` resolves per thread)
    seen = []
    real = verification.monitor_check

    def spy(*args):
        seen.append(main.in_atomic_block)
        return real(*args)

    monkeypatch.setattr(verification, "monitor_check", spy)
    monitoring.run_batch([seal.pk])
    seal_monitor(seal_id=seal.pk)
    assert seen == [False, False]


def test_monitor_command(sealed, net):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("enamad_seals", "monitor", "--domain", DOMAIN, stdout=out)
    assert "reachable=True tls=True domain_control=True (meta)" in out.getvalue()
    out = StringIO()
    call_command("enamad_seals", "monitor", stdout=out)
    assert "checked 1 seal(s): 1 healthy, 0 changed" in out.getvalue()


# --- expiry reminders (30 and 7 days) ----------------------------------------------------------


def test_expiry_reminders_at_30_and_7_days(sealed):
    from enamad.tasks import expiry_reminders

    expires = sealed.expires_at
    with time_machine.travel(expires - dt.timedelta(days=40), tick=False):
        assert expiry_reminders() == 0
    with time_machine.travel(expires - dt.timedelta(days=29), tick=False):
        assert expiry_reminders() == 1
        assert expiry_reminders() == 0  # once per threshold
    assert "۳۰ روز" in holder_sms()[-1]
    with time_machine.travel(expires - dt.timedelta(days=10), tick=False):
        assert expiry_reminders() == 0
    with time_machine.travel(expires - dt.timedelta(days=6), tick=False):
        assert expiry_reminders() == 1
        assert expiry_reminders() == 0
    assert "۷ روز" in holder_sms()[-1]
    assert list(AuditEntry.objects.filter(event="enamad.seal.expiry_reminded").values_list("new", flat=True)) == [
        "30", "7"]
    with time_machine.travel(expires + dt.timedelta(hours=1), tick=False):
        assert expiry_reminders() == 0


def test_no_reminder_while_renewing(sealed, account):
    with time_machine.travel(sealed.expires_at - dt.timedelta(days=20), tick=False):
        business_renew(business_id=sealed.business_id, actor=account.user)
        assert seals_remind_expiry() == 0



# --- renewal review: the seal still vouches, so it is still watched -----------------------------


def test_a_seal_under_renewal_review_is_monitored_and_suspended_like_an_active_one(client, sealed, net, account,
                                                                                   settings):
    settings.ENAMAD_MONITOR_GRACE_DAYS = 7
    start = sealed.expires_at - dt.timedelta(days=20)
    with time_machine.travel(start, tick=True):
        business_renew(business_id=sealed.business_id, actor=account.user)
        business = Business.objects.get(pk=sealed.business_id)
        assert business.status == BusinessStatus.UNDER_REVIEW and business.renewing
        assert Seal.objects.monitored().filter(pk=sealed.pk).exists()
        Seal.objects.filter(pk=sealed.pk).update(monitor_due_at=None)
        assert seals_claim_due(10) == [sealed.pk]
        use_tls(net, "expired")
        net["http"].routes["/"] = (200, b"<html></html>", {})
        assert check(sealed) == ["enamad.seal.tls_lapsed", "enamad.seal.domain_lapsed"]
        assert sealed.stars == 1 and sealed.domain_failing_since is not None
        assert logo_variant(client, sealed) == "stars-1"
    with time_machine.travel(start + dt.timedelta(days=7, hours=1), tick=True):
        assert check(sealed) == ["enamad.seal.suspended"]
        business = Business.objects.get(pk=sealed.business_id)
        assert business.status == BusinessStatus.SUSPENDED and not business.renewing and sealed.suspended_by_monitor
        assert AuditEntry.objects.get(event="enamad.seal.suspended").old == BusinessStatus.UNDER_REVIEW
        assert logo_variant(client, sealed) == "suspended"
        # the holder puts the tag back: the seal is restored (approved; the renewal is asked again)
        net["http"].routes["/"] = (200, home(business.verification_token), {})
        assert check(sealed) == ["enamad.seal.domain_restored", "enamad.seal.reinstated"]
        assert Business.objects.get(pk=sealed.business_id).status == BusinessStatus.APPROVED


def test_a_first_review_has_no_seal_to_suspend(account, enamad_manager):
    business = make_business(account)
    business_send(business_id=business.pk, actor=account.user)
    from ramis.common.errors import InvalidTransition

    sent = type(business).objects.get(pk=business.pk).status
    with pytest.raises(InvalidTransition):
        business_suspend(business_id=business.pk, actor=enamad_manager, reason="x")
    assert type(business).objects.get(pk=business.pk).status == sent


# --- one failing seal does not end its batch ----------------------------------------------------


def test_a_seal_whose_recording_fails_does_not_stop_its_batch(account, net, settings, monkeypatch, caplog):
    """The first seal's recording raises (fault injected around the real service); the others
    in the batch are still recorded, the failure is logged with the seal's id and counted."""
    seals = make_sealed(account, 3, net)
    net["http"].routes["/"] = (200, b"<html></html>", {})  # every seal's tag is gone: each one changes
    settings.ENAMAD_VERIFY_HTTPS_PORT = closed_port()
    broken = seals[0].pk
    real = seal_control.seal_record_check

    def record(*, seal_id, result):
        if seal_id == broken:
            raise RuntimeError("disk full")
        return real(seal_id=seal_id, result=result)

    monkeypatch.setattr(seal_control, "seal_record_check", record)
    with caplog.at_level("ERROR", logger="enamad.monitoring"):
        report = monitoring.run_batch([s.pk for s in seals])
    assert report.record_errors == [broken] and report.changed == 2
    assert report.events["enamad.seal.domain_lapsed"] == 2
    assert set(Seal.objects.filter(domain_failing_since__isnull=False).values_list("pk", flat=True)) == {
        s.pk for s in seals[1:]}
    assert f"seal {broken} (s0.test)" in caplog.text and "disk full" in caplog.text

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=f"could not record the check of seal\\(s\\) {broken}"):
        call_command("enamad_seals", "monitor")


# --- a seal verified by the temporary page title (N22) ------------------------------------------


def test_a_title_verified_seal_is_kept_by_any_mark_and_records_the_lasting_one(sealed, net):
    """The title is temporary: the monitor does not insist on it. While it is there the seal is
    healthy; once it is replaced by a lasting mark, that mark becomes the method on file; with no
    mark at all control has lapsed (and the grace period runs)."""
    business = sealed.business
    Business.objects.filter(pk=business.pk).update(domain_verified_method="title")
    token = business.verification_token
    titled = (200, f"<html><head><title>{token} - shop</title></head></html>".encode(), {})
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = titled
    result = verification.monitor_check(DOMAIN, token, "title")
    assert (result.domain_ok, result.method) == (True, "title")
    assert check(sealed) == [] and sealed.domain_failing_since is None

    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, home(token), {})  # title back, meta tag on
    assert check(sealed) == []
    assert Business.objects.get(pk=business.pk).domain_verified_method == "meta"
    entry = AuditEntry.objects.get(event="enamad.business.domain_method_changed")
    assert (entry.old, entry.new) == ("title", "meta")

    Business.objects.filter(pk=business.pk).update(domain_verified_method="title")
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, b"<html><title>shop</title></html>", {})
    assert check(sealed) == ["enamad.seal.domain_lapsed"]
    assert "عنوان موقت" in sealed.monitor_error


# --- a seal verified by a code e-mailed to info@ the domain (N22) ------------------------------


def email_verified(sealed, *, days_ago: int):
    when = timezone.now() - dt.timedelta(days=days_ago)
    Business.objects.filter(pk=sealed.business_id).update(domain_verified_method="email", domain_verified_at=when)


def test_a_recent_email_proof_stands_without_a_mark(sealed, net, settings, django_assert_num_queries):
    settings.ENAMAD_DOMAIN_EMAIL_PROOF_DAYS = 90
    email_verified(sealed, days_ago=89)
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, b"<html><title>shop</title></html>", {})
    snapshot = seal_snapshots([sealed.pk])[0]
    assert snapshot.standing_proof
    result = snapshot.check()
    assert (result.domain_ok, result.method) == (True, "email")
    assert snapshot.healthy_with(result)  # the batch's one-UPDATE path, no locked transaction
    assert check(sealed) == [] and sealed.domain_failing_since is None
    assert Business.objects.get(pk=sealed.business_id).domain_verified_method == "email"


def test_an_email_verified_seal_with_a_lasting_mark_records_it(sealed, net):
    email_verified(sealed, days_ago=200)  # stale proof, but the meta tag is there
    assert check(sealed) == []
    assert Business.objects.get(pk=sealed.business_id).domain_verified_method == "meta"
    entry = AuditEntry.objects.get(event="enamad.business.domain_method_changed")
    assert (entry.old, entry.new) == ("email", "meta")


def test_a_stale_email_proof_is_reconfirmed_by_a_fresh_code(client, sealed, net, settings,
                                                              django_capture_on_commit_callbacks):
    """No mark and a proof older than ENAMAD_DOMAIN_EMAIL_PROOF_DAYS: control has lapsed, the
    monitor e-mails a fresh code to info@ the domain; the holder enters it on the technical page
    within the grace period, or the seal is suspended, and entering it later lifts that too."""
    import re

    from django.core import mail

    settings.OUTBOX_KEEP_SECRETS = False
    settings.ENAMAD_DOMAIN_EMAIL_PROOF_DAYS, settings.ENAMAD_MONITOR_GRACE_DAYS = 90, 7
    email_verified(sealed, days_ago=91)
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, b"<html><title>shop</title></html>", {})
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == ["enamad.seal.domain_lapsed"]
    to_info = [m for m in mail.outbox if m.to == [f"info@{DOMAIN}"]]
    assert len(to_info) == 1 and "باید تازه شود" in to_info[0].body
    assert re.search(r"کد تأییدیه فنی: \d{6}", to_info[0].body)
    sent = AuditEntry.objects.get(event="enamad.business.domain_code_sent")
    assert sent.actor is None and sent.extra == {"address": f"info@{DOMAIN}", "by": "monitor"}
    warning = holder_sms()[-1]
    assert f"info@{DOMAIN}" in warning and "تعلیق" in warning
    assert "رایانامه info دامنه باید تازه شود" in sealed.monitor_error
    assert check(sealed) == []  # one code per lapse, not one per check
    assert [m.to for m in mail.outbox].count([f"info@{DOMAIN}"]) == 1

    owner = sealed.business.account.user
    client.force_login(owner)
    page = client.get(f"/enamad/panel/business/{sealed.business_id}/technical/").content.decode()
    assert 'id="reconfirm"' in page and 'id="email-code-form"' in page
    with time_machine.travel(start + dt.timedelta(days=7, hours=1), tick=True):
        assert check(sealed) == ["enamad.seal.suspended"]
        assert logo_variant(client, sealed) == "suspended"
        # the monitor's code has expired by now: the holder asks for another from the page
        with django_capture_on_commit_callbacks(execute=True):
            business_send_domain_code(business_id=sealed.business_id, actor=owner)
        assert mail.outbox[-1].to == [f"info@{DOMAIN}"]
        code = re.search(r"کد تأییدیه فنی: (\d{6})", mail.outbox[-1].body).group(1)
        before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        client.force_login(owner)  # the session from a week ago has expired
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/enamad/panel/business/{sealed.business_id}/technical/",
                                   {"action": "email_confirm", "code": code})
        assert response.status_code == 302 and response["Location"].endswith("/technical/")
        sealed.refresh_from_db()
        business = Business.objects.get(pk=sealed.business_id)
        assert business.status == BusinessStatus.APPROVED and not sealed.suspended_by_monitor
        assert sealed.domain_failing_since is None and business.domain_verified_method == "email"
        assert business.domain_verified_at > start + dt.timedelta(days=7)  # the proof is renewed
        entry = AuditEntry.objects.get(event="enamad.business.domain_reconfirmed")
        assert entry.actor == owner and (entry.old, entry.new) == ("email", "email")
        assert AuditEntry.objects.filter(event="enamad.seal.reinstated", actor=None).exists()
        assert list(OutboxMessage.objects.filter(pk__gt=before, channel="sms").order_by("pk")
                    .values_list("template", flat=True)) \
            == ["enamad_status", "enamad_monitor"]
        assert logo_variant(client, sealed) == "stars-2"
        assert check(sealed) == []  # a fresh proof stands again


def test_the_fresh_domain_code_is_sent_only_on_the_confirming_check(sealed, net, settings,
                                                                    django_capture_on_commit_callbacks):
    """At the default ``ENAMAD_MONITOR_FAILURES`` (2), a stale e-mail proof with no mark is one
    failed check first: nothing is e-mailed; the second, confirming check sends the code, once."""
    from django.core import mail

    settings.ENAMAD_MONITOR_FAILURES = 2  # the default; this module's autouse fixture sets 1
    settings.ENAMAD_DOMAIN_EMAIL_PROOF_DAYS = 90
    email_verified(sealed, days_ago=91)
    net["http"].routes["/"] = net["tls"]["valid"].routes["/"] = (200, b"<html><title>shop</title></html>", {})
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == []
    assert not [m for m in mail.outbox if m.to == [f"info@{DOMAIN}"]]
    assert not AuditEntry.objects.filter(event="enamad.business.domain_code_sent").exists()
    assert sealed.domain_failing_since is None and holder_sms() == []
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == ["enamad.seal.domain_lapsed"]
    assert [m.to for m in mail.outbox].count([f"info@{DOMAIN}"]) == 1
    assert AuditEntry.objects.filter(event="enamad.business.domain_code_sent").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert check(sealed) == []  # still lapsed: no second code
    assert [m.to for m in mail.outbox].count([f"info@{DOMAIN}"]) == 1
