"""Token initialisation through the generic PKCS#11 path (C_InitToken via ctypes, C_InitPIN as
the SO), exercised for real on SoftHSM's free slot — with ``softhsm2-util`` out of reach — and on
OpenSC's module (no reader here: a clear refusal, not a "SoftHSM only" one)."""

from __future__ import annotations

import shutil
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command

from tokens import TokenExists, TokenNotFound, WrongPin
from tokens.manager import _state

from .conftest import PIN, SO_PIN

OPENSC = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


@pytest.fixture
def no_softhsm_util(monkeypatch, tmp_path):
    """A PATH without softhsm2-util (or anything else): the generic path must not need it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("softhsm2-util") is None


def _label() -> str:
    return f"init-{uuid.uuid4().hex[:10]}"


def test_generic_path_initialises_a_softhsm_slot(manager, no_softhsm_util):
    generation = _state.generation
    label = _label()
    info = manager.init_token(label, SO_PIN, PIN)

    assert info.label == label and info.model.startswith("SoftHSM")
    assert label in {t.label for t in manager.list_tokens()}
    # in-process C_InitToken: no re-initialisation of the module, the other sessions live on
    assert _state.generation == generation
    # the SO PIN is not the user PIN (asked of the token itself: no session of ours yet)
    with pytest.raises(WrongPin):
        manager.open(serial=info.serial, pin=SO_PIN)
    # the user PIN works: a key on the new token signs
    token = manager.open(serial=info.serial, pin=PIN)
    key = token.generate_keypair("ec-p256", label="first")
    key.public_key().verify(key.sign(b"x", ec.ECDSA(hashes.SHA256())), b"x", ec.ECDSA(hashes.SHA256()))
    token.logout()


def test_wrong_so_pin_is_a_clear_error_and_leaves_the_token_alone(manager, no_softhsm_util):
    info = manager.init_token(_label(), SO_PIN, PIN)
    token = manager.open(serial=info.serial, pin=PIN)
    key = token.generate_keypair("ec-p256", label="keep")

    with pytest.raises(WrongPin) as e:
        manager.init_token(info.label, "00000000", "654321", serial=info.serial)
    assert "C_InitToken" in str(e.value) and "wrong SO PIN" in str(e.value)
    assert "\n" not in str(e.value) and e.value.message_fa
    # nothing was wiped: the key is still there and the old user PIN still opens the token
    token = manager.open(serial=info.serial, pin=PIN)
    assert token.private_key(id=key.key_id).label == "keep"
    token.logout()


def test_reinitialise_with_the_right_so_pin_wipes_the_token_and_sets_the_new_pin(manager, no_softhsm_util):
    info = manager.init_token(_label(), SO_PIN, PIN)
    token = manager.open(serial=info.serial, pin=PIN)
    token.generate_keypair("ec-p256", label="old")  # a session of ours is open: closed for C_InitToken

    again = manager.init_token("reborn-" + info.label[-8:], SO_PIN, "975310", serial=info.serial)
    assert again.serial == info.serial and again.label.startswith("reborn-")
    with pytest.raises(WrongPin):
        manager.open(serial=info.serial, pin=PIN)
    token = manager.open(serial=info.serial, pin="975310")
    assert token.objects() == []
    token.logout()


def test_init_refuses_an_existing_label_and_bad_pins(manager, work_token):
    with pytest.raises(TokenExists):
        manager.init_token("work", SO_PIN, PIN)
    with pytest.raises(WrongPin):
        manager.init_token(_label(), SO_PIN, "12")


def test_in_process_backend_can_init_with_any_module_and_refuses_only_on_a_real_failure(db):
    from ramis.desk.workstation import InProcessTokens

    backend = InProcessTokens(module=OPENSC, so_pin=SO_PIN)
    assert backend.can_init
    # OpenSC with no reader has no token to initialise: that, and nothing about SoftHSM, is said
    with pytest.raises(TokenNotFound) as e:
        backend.init_token(label=_label(), user_pin=PIN)
    assert "no uninitialised token" in str(e.value) and "SoftHSM" not in str(e.value)
    assert "توکن نو" in e.value.message_fa


def test_token_init_command_uses_the_generic_path(manager, no_softhsm_util, capsys):
    label = _label()
    call_command("token", "init", "--label", label, "--so-pin", SO_PIN, "--pin", PIN)
    out = capsys.readouterr().out
    info = manager.token_info(label=label)
    assert f"initialised token {label!r} serial {info.serial}" in out
    manager.open(serial=info.serial, pin=PIN).logout()
    with pytest.raises(CommandError, match="wrong SO PIN"):
        call_command("token", "init", "--label", label, "--serial", info.serial, "--so-pin", "00000000",
                     "--pin", PIN)


def test_a_wrong_pin_leaves_no_session_behind(manager, no_softhsm_util):
    """python-pkcs11 leaks the session of a failed login; a long-running process (the token
    agent) must still be able to re-initialise that token afterwards."""
    info = manager.init_token(_label(), SO_PIN, PIN)
    with pytest.raises(WrongPin):
        manager.open(serial=info.serial, pin="000000")

    again = manager.init_token(info.label, SO_PIN, "864200", serial=info.serial)
    token = manager.open(serial=again.serial, pin="864200")
    assert token.objects() == []
    token.logout()
