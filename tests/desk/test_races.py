"""Two clerks issuing the same request at once (STYLE 19): one certificate, one token written,
on PostgreSQL where ``select_for_update`` really locks."""

import pytest
from django.db import connection

from ramis.ca.models import IssuedCertificate
from ramis.common.errors import InvalidTransition
from ramis.desk import services
from ramis.desk.models import IssuanceAttempt
from ramis.offices.models import Clerk
from ramis.requests.models import Certificate
from tests.conftest import ca_ready, make_staff
from tests.requests.test_races import race
from tokens.conf import get_manager

from .conftest import SO_PIN, TOKEN_PIN, identity_ok, new_token_label

pytestmark = [pytest.mark.pg, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL (DATABASE_URL=postgres://…); CI runs them there")


def test_two_clerks_issuing_the_same_request_issue_once(awaiting_issuance, clerk, office):
    ca_ready()
    second = make_staff("clerk-b")
    Clerk.objects.create(user=second, office=office)
    identity_ok(awaiting_issuance, clerk)
    tokens = [get_manager().init_token(new_token_label(), SO_PIN, TOKEN_PIN) for _ in range(2)]
    results = race(*[
        (lambda actor=actor, token=token: services.request_issue_on_token(
            request_id=awaiting_issuance.pk, actor=actor, pin=TOKEN_PIN, token_serial=token.serial))
        for actor, token in zip((clerk, second), tokens, strict=True)
    ])
    winners = [r for r in results if isinstance(r, Certificate)]
    assert len(winners) == 1, results
    loser = next(r for r in results if not isinstance(r, Certificate))
    assert isinstance(loser, InvalidTransition) or (isinstance(loser, services.DeskError)
                                                    and loser.code == "in_progress"), results
    assert Certificate.objects.count() == 1
    assert IssuedCertificate.objects.exclude(profile="tsa").count() == 1  # the loser never reached the CA
    assert IssuanceAttempt.objects.filter(status="issued").count() == 1
    written = []
    for token in tokens:
        opened = get_manager().open(serial=token.serial, pin=TOKEN_PIN)
        written.append(any(o.object_class == "certificate" for o in opened.objects()))
        opened.logout()
    assert sorted(written) == [False, True]
