"""A signing worker's child readies itself on start (ramis/ca/signing.py prepare_process)."""

from __future__ import annotations

import gc

import pytest

from ramis.ca import lint, profiles, signing, tasks


@pytest.fixture
def thawed():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite runs with the collector as it was


def test_a_child_holding_a_pin_builds_the_validators_and_freezes_its_heap(thawed, settings):
    settings.CA_ISSUING = {**settings.CA_ISSUING, "pin": "1234"}
    lint._etsi_cert_validator.cache_clear()
    assert gc.get_freeze_count() == 0
    tasks._prepare_signing_process(sender=None)
    assert gc.get_freeze_count() > 0
    built = lint._etsi_cert_validator.cache_info().currsize
    assert built == len({p.etsi_type for p in profiles.PROFILES.values()})


def test_a_child_without_pins_is_left_as_it_is(thawed, settings):
    settings.CA_ISSUING = {**settings.CA_ISSUING, "pin": ""}
    settings.CA_ROOT = {**settings.CA_ROOT, "pin": ""}
    assert signing.holds_a_pin() is False
    tasks._prepare_signing_process(sender=None)
    assert gc.get_freeze_count() == 0


def test_the_handler_is_connected_to_worker_start():
    from celery.signals import worker_process_init

    assert any(receiver is tasks._prepare_signing_process for _, receiver in worker_process_init.receivers)
