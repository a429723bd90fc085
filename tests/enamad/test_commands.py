"""Management commands: demo data (idempotent), groups, domain check, seal upkeep."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from enamad.models import Business, BusinessStatus, Seal
from tests.enamad.conftest import make_business

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_enamad_demo_is_idempotent(settings):
    settings.DEBUG = True
    first = run("seed_enamad_demo")
    run("seed_enamad_demo")
    assert "demo.shop" in first and "TOTP secret" in first
    sealed = Business.objects.get(domain="ketab-nemouneh.ir")
    assert sealed.status == BusinessStatus.APPROVED and Seal.objects.get(business=sealed).stars == 2
    assert Business.objects.count() == 2 and Seal.objects.count() == 1
    expert = Group.objects.get(name="کارشناسان اینماد").user_set.get()
    assert expert.has_perm("enamad.review_business") and not expert.has_perm("enamad.approve_business")


def test_seed_refused_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        run("seed_enamad_demo")


def test_seed_demo_calls_enamad(settings):
    settings.DEBUG = True
    output = run("seed_demo")
    assert "e-Namad demo data ready" in output


def test_groups_command():
    assert "مدیران اینماد" in run("enamad_groups")
    assert Group.objects.get(name="مدیران اینماد").permissions.filter(codename="approve_business").exists()


def test_check_domain_command(local_net, account):
    business = make_business(account, ready=False)
    with pytest.raises(CommandError):
        run("enamad_check_domain", "shop.test")
    local_net["dns"].txt["shop.test"] = [business.verification_txt_record()]
    assert "verified by dns" in run("enamad_check_domain", str(business.pk))
    with pytest.raises(CommandError):
        run("enamad_check_domain", "unknown.test")


def test_seals_command():
    assert "expired 0" in run("enamad_seals", "expire")
    assert "sent 0 expiry reminder(s)" in run("enamad_seals", "remind")
    assert "flagged 0 overdue complaint(s)" in run("enamad_seals", "complaints")
    assert "checked 0 seal(s)" in run("enamad_seals", "monitor")
    with pytest.raises(CommandError):
        run("enamad_seals", "monitor", "--domain", "nowhere.test")


def test_idle_tickets_command():
    assert "closed 0 idle ticket(s)" in run("enamad_seals", "tickets")


def test_beat_runs_registered_enamad_tasks(settings):
    """Each e-Namad job the issue asks for is on the beat schedule and names a task that exists."""
    from ramis.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in ("verify_pending_domains", "monitor_dispatch", "expire_seals", "expiry_reminders",
                 "flag_overdue_complaints", "close_idle_tickets"):
        assert f"enamad.tasks.{task}" in scheduled
        assert f"enamad.tasks.{task}" in app.tasks
