"""tokens/: keys on SoftHSM, cryptography wrappers, errors, locking, fork."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
import threading
from pathlib import Path

import pkcs11.exceptions as p11e
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, ObjectClass

from tokens import (
    KeyNotFound,
    ModuleLoadError,
    OperationNotAllowed,
    PinLocked,
    TokenConfig,
    TokenECPrivateKey,
    TokenExists,
    TokenManager,
    TokenNotFound,
    TokenRemoved,
    TokenRSAPrivateKey,
    UnsupportedKeyType,
    WrongPin,
)
from tokens.errors import translate
from tokens.manager import der_integer

from .conftest import PIN, SO_PIN, name, run, utcnow

KEY_TYPES = ["rsa2048", "rsa3072", "ec-p256"]


def self_signed(key, algorithm=None, **sign_kw) -> x509.Certificate:
    now = utcnow()
    return (
        x509.CertificateBuilder()
        .subject_name(name("t"))
        .issuer_name(name("t"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, algorithm or hashes.SHA256(), **sign_kw)
    )


# -- discovery and creation ------------------------------------------------------


def test_init_and_list_tokens(manager, work_token):
    labels = {t.label: t for t in manager.list_tokens()}
    assert "work" in labels
    assert labels["work"].serial == work_token.serial
    assert labels["work"].model.startswith("SoftHSM")
    # found by serial as well as by label
    assert manager.open(serial=work_token.serial, pin=PIN).label == "work"


def test_init_token_refuses_an_existing_label(manager, work_token):
    with pytest.raises(TokenExists):
        manager.init_token("work", SO_PIN, PIN)


# -- keys ----------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_generated_key_is_sensitive_never_extractable_sign_only(work_token, key_type):
    key = work_token.generate_keypair(key_type, label=f"attr-{key_type}")
    try:
        attrs = work_token.key_attributes(key.key_id)
        assert attrs["TOKEN"] and attrs["PRIVATE"] and attrs["LOCAL"]
        assert attrs["SENSITIVE"] and attrs["ALWAYS_SENSITIVE"]
        assert not attrs["EXTRACTABLE"] and attrs["NEVER_EXTRACTABLE"]
        assert attrs["SIGN"]
        assert not attrs["DECRYPT"] and not attrs["UNWRAP"] and not attrs["DERIVE"]
        expected = {"rsa2048": rsa.RSAPublicKey, "rsa3072": rsa.RSAPublicKey, "ec-p256": ec.EllipticCurvePublicKey}
        assert isinstance(key.public_key(), expected[key_type])
        if key_type.startswith("rsa"):
            assert key.key_size == int(key_type[3:])
    finally:
        work_token.delete_key(key.key_id)


def test_pkcs11_tool_sees_the_key_as_sensitive_and_never_extractable(manager, work_token):
    key = work_token.generate_keypair("ec-p256", label="seen-by-pkcs11-tool")
    try:
        out = run(
            "pkcs11-tool", "--module", manager.module, "--token-label", "work",
            "--login", "--pin", PIN, "--list-objects", "--type", "privkey",
        ).stdout
        block = out[out.index("seen-by-pkcs11-tool") - 200 :]
        access = next(line for line in block.splitlines() if "Access:" in line)
        assert "never extractable" in access and "sensitive" in access
        assert "Usage:" in block and "sign" in block.split("Usage:")[1].splitlines()[0]
        assert "decrypt" not in block.split("Usage:")[1].splitlines()[0]
    finally:
        work_token.delete_key(key.key_id)


def test_key_found_by_label_or_id(work_token):
    key = work_token.generate_keypair("ec-p256", label="find-me", id=b"\x01\x02\x03")
    try:
        by_label = work_token.private_key(label="find-me")
        by_id = work_token.private_key(id=b"\x01\x02\x03")
        assert by_label.key_id == by_id.key_id == b"\x01\x02\x03"
        assert by_label.public_key() == key.public_key()
        with pytest.raises(TokenExists):
            work_token.generate_keypair("ec-p256", label="find-me")
    finally:
        work_token.delete_key(b"\x01\x02\x03")


@pytest.fixture(scope="module")
def rsa_key(work_token):
    key = work_token.generate_keypair("rsa2048", label="builder-rsa")
    yield key
    work_token.delete_key(key.key_id)


@pytest.fixture(scope="module")
def ec_key(work_token):
    key = work_token.generate_keypair("ec-p256", label="builder-ec")
    yield key
    work_token.delete_key(key.key_id)


@pytest.mark.parametrize("alg", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_rsa_pkcs1v15_and_pss_sign_on_the_token(rsa_key, alg):
    assert isinstance(rsa_key, TokenRSAPrivateKey) and isinstance(rsa_key, rsa.RSAPrivateKey)
    pub = rsa_key.public_key()
    sig = rsa_key.sign(b"data", padding.PKCS1v15(), alg)
    pub.verify(sig, b"data", padding.PKCS1v15(), alg)
    for salt in (padding.PSS.DIGEST_LENGTH, padding.PSS.MAX_LENGTH, 20):
        pss = padding.PSS(padding.MGF1(alg), salt)
        sig = rsa_key.sign(b"data", pss, alg)
        pub.verify(sig, b"data", padding.PSS(padding.MGF1(alg), padding.PSS.AUTO), alg)
    h = hashes.Hash(alg)
    h.update(b"data")
    sig = rsa_key.sign(h.finalize(), padding.PKCS1v15(), Prehashed(alg))
    pub.verify(sig, b"data", padding.PKCS1v15(), alg)


@pytest.mark.parametrize("alg", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_ecdsa_signs_on_the_token_with_der_output(ec_key, alg):
    assert isinstance(ec_key, TokenECPrivateKey) and isinstance(ec_key, ec.EllipticCurvePrivateKey)
    sig = ec_key.sign(b"data", ec.ECDSA(alg))
    assert sig[0] == 0x30  # DER SEQUENCE { r, s }
    ec_key.public_key().verify(sig, b"data", ec.ECDSA(alg))


@pytest.mark.parametrize("which", ["rsa", "rsa-pss", "ec"])
def test_cryptography_builders_sign_with_token_keys(rsa_key, ec_key, which):
    """cryptography 50's certificate, CSR, CRL and OCSP builders accept the subclasses."""
    key = ec_key if which == "ec" else rsa_key
    kw = {}
    if which == "rsa-pss":
        kw = {"rsa_padding": padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)}
    cert = self_signed(key, **kw)
    cert.verify_directly_issued_by(cert)

    csr = x509.CertificateSigningRequestBuilder().subject_name(name("csr")).sign(key, hashes.SHA256(), **kw)
    assert csr.is_signature_valid

    now = utcnow()
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(5).revocation_date(now).build()
        )
        .sign(key, hashes.SHA256(), **kw)
    )
    assert crl.is_signature_valid(key.public_key())

    if which != "rsa-pss":  # OCSPResponseBuilder.sign has no padding argument
        resp = (
            ocsp.OCSPResponseBuilder()
            .add_response(cert, cert, hashes.SHA1(), ocsp.OCSPCertStatus.GOOD, now, now, None, None)  # noqa: S303
            .responder_id(ocsp.OCSPResponderEncoding.HASH, cert)
            .sign(key, hashes.SHA256())
        )
        data = resp.tbs_response_bytes
        if which == "ec":
            key.public_key().verify(resp.signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.public_key().verify(resp.signature, data, padding.PKCS1v15(), hashes.SHA256())


def test_private_material_never_leaves(rsa_key, ec_key):
    for key in (rsa_key, ec_key):
        with pytest.raises(OperationNotAllowed):
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        with pytest.raises(OperationNotAllowed):
            key.private_numbers()
    with pytest.raises(OperationNotAllowed):
        rsa_key.decrypt(b"x" * 256, padding.PKCS1v15())
    with pytest.raises(OperationNotAllowed):
        ec_key.exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())


# -- certificates on the token -----------------------------------------------------------


def test_import_certificate_next_to_its_key(work_token):
    key = work_token.generate_keypair("ec-p256", label="with-cert")
    try:
        cert = self_signed(key)
        work_token.import_certificate(cert, key.key_id, "with-cert")
        assert work_token.certificate(key.key_id) == cert

        def attrs(session):
            obj = next(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: key.key_id}))
            return obj.get_attributes(
                [Attribute.LABEL, Attribute.SUBJECT, Attribute.ISSUER, Attribute.SERIAL_NUMBER, Attribute.VALUE]
            )

        a = work_token.call("read", attrs)
        assert a[Attribute.LABEL] == "with-cert"
        assert a[Attribute.SUBJECT] == cert.subject.public_bytes()
        assert a[Attribute.ISSUER] == cert.issuer.public_bytes()
        assert a[Attribute.SERIAL_NUMBER] == der_integer(cert.serial_number)
        assert a[Attribute.SERIAL_NUMBER][0] == 0x02  # a DER INTEGER, as NSS wants
        assert a[Attribute.VALUE] == cert.public_bytes(serialization.Encoding.DER)

        listed = [o for o in work_token.objects() if o.id == key.key_id.hex()]
        assert {o.object_class for o in listed} == {"private-key", "public-key", "certificate"}
        cert_info = next(o for o in listed if o.object_class == "certificate")
        assert cert_info.serial == format(cert.serial_number, "x")

        # a certificate of another key is refused
        other = ec.generate_private_key(ec.SECP256R1())
        from tokens import TokenError

        with pytest.raises(TokenError, match="does not belong"):
            work_token.import_certificate(self_signed(other), key.key_id, "wrong")
    finally:
        assert work_token.delete_key(key.key_id) == 3
    assert not [o for o in work_token.objects() if o.id == key.key_id.hex()]


def test_der_integer():
    assert der_integer(1) == b"\x02\x01\x01"
    assert der_integer(0x80) == b"\x02\x02\x00\x80"
    assert der_integer(0x7F) == b"\x02\x01\x7f"


# -- errors ----------------------------------------------------------------------------------


def test_error_bad_module_path(tmp_path):
    with pytest.raises(ModuleLoadError) as e:
        TokenManager(TokenConfig(module=str(tmp_path / "nope.so"))).list_tokens()
    assert "nope.so" in str(e.value) and "\n" not in str(e.value)
    assert e.value.message_fa
    not_a_library = tmp_path / "libfake.so"
    not_a_library.write_text("not a library")
    with pytest.raises(ModuleLoadError):
        TokenManager(TokenConfig(module=str(not_a_library))).list_tokens()


def test_error_no_such_token(manager):
    with pytest.raises(TokenNotFound) as e:
        manager.open(label="no-such-token", pin=PIN)
    assert "no-such-token" in str(e.value)
    assert e.value.message_fa.startswith("توکن")
    with pytest.raises(TokenNotFound):
        manager.open(serial="0000000000000000", pin=PIN)


def test_error_wrong_pin_and_softhsm_never_locks(manager):
    manager.init_token("pin-test", SO_PIN, PIN)
    for _ in range(6):
        with pytest.raises(WrongPin) as e:
            manager.open(label="pin-test", pin="000000")
    assert "PinIncorrect" in str(e.value)
    assert "نادرست" in e.value.message_fa
    info = manager.token_info(label="pin-test")
    # SoftHSM 2.6 flags the failures but never sets CKF_USER_PIN_LOCKED ...
    assert info.pin_count_low and not info.pin_locked
    # ... and the right PIN still works after six wrong ones.
    assert manager.open(label="pin-test", pin=PIN).label == "pin-test"
    # Once logged in (per process), a different PIN is refused without a C_Login.
    with pytest.raises(WrongPin):
        manager.open(label="pin-test", pin="999999")


def test_error_pin_locked_mapping():
    """CKR_PIN_LOCKED cannot be produced with SoftHSM (see above): check the mapping."""
    err = translate(p11e.PinLocked(), "log in")
    assert isinstance(err, PinLocked)
    assert str(err).startswith("PIN locked") and "قفل" in err.message_fa


def test_error_no_such_key(work_token):
    with pytest.raises(KeyNotFound):
        work_token.private_key(id=b"\xde\xad")
    with pytest.raises(KeyNotFound):
        work_token.private_key(label="nothing")
    with pytest.raises(KeyNotFound):
        work_token.delete_key(b"\xde\xad")
    with pytest.raises(KeyNotFound):
        work_token.key_attributes(b"\xde\xad")


def test_error_unsupported_key_type(work_token):
    with pytest.raises(UnsupportedKeyType) as e:
        work_token.generate_keypair("dsa1024", label="nope")
    assert "dsa1024" in str(e.value)


def test_error_token_removed_under_a_live_session(manager, hsm_dir, work_token):
    info = manager.init_token("doomed", SO_PIN, PIN)
    token = manager.open(label="doomed", pin=PIN)
    key = token.generate_keypair("ec-p256", label="k")
    key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    token_dirs = [p for p in Path(hsm_dir, "tokens").iterdir() if info.serial[-8:] in p.name.replace("-", "")]
    assert len(token_dirs) == 1
    shutil.rmtree(token_dirs[0])
    with pytest.raises(TokenRemoved) as e:
        key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    assert "removed" in str(e.value) and e.value.message_fa
    with pytest.raises(TokenNotFound):
        manager.open(label="doomed", pin=PIN)
    # the other tokens of the process keep working
    other = work_token.generate_keypair("ec-p256", label="after-removal")
    other.sign(b"x", ec.ECDSA(hashes.SHA256()))
    work_token.delete_key(other.key_id)


def test_session_invalid_is_recovered_transparently(work_token):
    """A session closed under us (another component logging out) is re-opened."""
    key = work_token.generate_keypair("ec-p256", label="recover")
    try:
        key.sign(b"x", ec.ECDSA(hashes.SHA256()))
        work_token.session().close()  # logs the whole process out
        sig = key.sign(b"x", ec.ECDSA(hashes.SHA256()))
        key.public_key().verify(sig, b"x", ec.ECDSA(hashes.SHA256()))
    finally:
        work_token.delete_key(key.key_id)


def test_error_messages_are_one_line():
    for exc in (p11e.PinIncorrect("a\nb"), p11e.NoSuchKey("k"), p11e.SessionHandleInvalid()):
        assert "\n" not in str(translate(exc))


# -- threads and processes ------------------------------------------------------------------------


def test_many_threads_sign_safely_through_one_lock(rsa_key, ec_key):
    """python-pkcs11 + SoftHSM crash under concurrent calls; the lock serialises them."""
    errors: list[BaseException] = []

    def work(key, n):
        try:
            for i in range(n):
                data = f"{i}".encode()
                if isinstance(key, rsa.RSAPrivateKey):
                    key.public_key().verify(key.sign(data, padding.PKCS1v15(), hashes.SHA256()), data,
                                            padding.PKCS1v15(), hashes.SHA256())
                else:
                    key.public_key().verify(key.sign(data, ec.ECDSA(hashes.SHA256())), data, ec.ECDSA(hashes.SHA256()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k, 40)) for k in (rsa_key, ec_key) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _sign_in_child(key, queue):
    try:
        sig = key.sign(b"child", ec.ECDSA(hashes.SHA256()))
        key.public_key().verify(sig, b"child", ec.ECDSA(hashes.SHA256()))
        queue.put("ok")
    except BaseException as exc:  # pragma: no cover - reported in the parent
        queue.put(repr(exc))


def test_forked_child_opens_its_own_session(ec_key):
    ec_key.sign(b"parent", ec.ECDSA(hashes.SHA256()))  # parent's session is live
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_sign_in_child, args=(ec_key, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert results == ["ok", "ok"]
    # and the parent's session survived its children
    ec_key.sign(b"parent again", ec.ECDSA(hashes.SHA256()))


def test_csr_signed_on_the_token(work_token):
    key = work_token.generate_keypair("rsa2048", label="applicant")
    try:
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "applicant")]))
            .sign(key, hashes.SHA256())
        )
        assert csr.is_signature_valid
        assert csr.public_key() == key.public_key()
    finally:
        work_token.delete_key(key.key_id)
