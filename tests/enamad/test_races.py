"""Races on PostgreSQL (STYLE 19): two managers approving at once issue one seal; a file sent
twice at once is sent once."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from enamad import services
from enamad.models import Business, BusinessStatus, Seal
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from tests.conftest import make_staff
from tests.enamad.conftest import all_items_ok, make_account, make_business

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL (row locks)")


def race(fn, n=2):
    barrier = threading.Barrier(n)
    outcomes = []

    def worker(i):
        try:
            barrier.wait()
            outcomes.append(("ok", fn(i)))
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcomes.append(("error", exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_managers_approve_at_once():
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory

    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account()
    business = make_business(account)
    now = timezone.now()
    Business.objects.filter(pk=business.pk).update(phone_verified_at=now, address_verified_at=now)
    expert = make_staff("exp", perms=["enamad.review_business", "enamad.review_documents"], totp=False)
    managers = [make_staff(f"mgr{i}", perms=["enamad.approve_business"], totp=False) for i in range(2)]
    services.business_send(business_id=business.pk, actor=account.user)
    services.business_review(business_id=business.pk, actor=expert, results=all_items_ok())
    services.business_accept_documents(business_id=business.pk, actor=expert)

    outcomes = race(lambda i: services.business_final_approve(business_id=business.pk, actor=managers[i]))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert isinstance(next(v for k, v in outcomes if k == "error"), InvalidTransition)
    assert Seal.objects.filter(business=business).count() == 1
    assert AuditEntry.objects.filter(event="enamad.business.final_approved").count() == 1
    assert Business.objects.get(pk=business.pk).status == BusinessStatus.APPROVED


def test_double_send():
    from enamad.catalogue import ensure_defaults
    from enamad.models import ChecklistItem, ServiceCategory

    ensure_defaults(ChecklistItem, ServiceCategory)
    account = make_account()
    business = make_business(account)
    outcomes = race(lambda i: services.business_send(business_id=business.pk, actor=account.user))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert AuditEntry.objects.filter(event="enamad.business.sent").count() == 1
