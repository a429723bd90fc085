"""The RFC 3161 timestamp authority at POST /ca/tsa/, checked with OpenSSL's `ts` client."""

from __future__ import annotations

import re

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.conf import settings

from ramis.ca import builder, lint, responder, services, tsa, tsa_services
from ramis.ca.models import IssuedCertificate, TimestampToken
from ramis.common.models import AuditEntry
from tokens.conf import get_manager

from .conftest import run

QUERY = "application/timestamp-query"


@pytest.fixture
def cas(db):
    responder.clear_cache()
    tsa_services.clear_cache()
    root, issuing = services.ca_init(actor=None)
    yield root, issuing
    responder.clear_cache()
    tsa_services.clear_cache()


@pytest.fixture
def files(cas, tmp_path):
    """root.pem, chain.pem (issuing + root), tsa.pem and a document to stamp."""
    root, issuing = cas
    pem = {name: builder.pem(x509.load_der_x509_certificate(bytes(der)))
           for name, der in (("root", root.certificate_der), ("issuing", issuing.certificate_der))}
    row = IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA)
    (tmp_path / "root.pem").write_bytes(pem["root"])
    (tmp_path / "chain.pem").write_bytes(pem["issuing"] + pem["root"])
    (tmp_path / "tsa.pem").write_bytes(builder.pem(x509.load_der_x509_certificate(bytes(row.der))))
    (tmp_path / "doc.txt").write_text("صورت‌جلسهٔ مجمع عمومی، نسخهٔ نهایی\n")
    return tmp_path


def query(openssl, d, name="q.tsq", *extra) -> bytes:
    run(openssl, "ts", "-query", "-data", str(d / "doc.txt"), "-out", str(d / name), *extra)
    return (d / name).read_bytes()


def post(client, body: bytes, content_type: str = QUERY):
    resp = client.post("/ca/tsa/", data=body, content_type=content_type)
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/timestamp-reply"
    return resp.content


def reply_text(openssl, d, raw: bytes, name="r.tsr") -> str:
    (d / name).write_bytes(raw)
    return run(openssl, "ts", "-reply", "-in", str(d / name), "-text").stdout


def verify(openssl, d, query_name="q.tsq", reply_name="r.tsr", untrusted=True):
    args = [openssl, "ts", "-verify", "-queryfile", str(d / query_name), "-in", str(d / reply_name),
            "-CAfile", str(d / "chain.pem")]
    if untrusted:
        args += ["-untrusted", str(d / "tsa.pem")]
    return run(*args, check=False)


# -- ca init --------------------------------------------------------------------------------------


def test_ca_init_makes_the_tsa_key_on_its_own_token_and_its_certificate(cas):
    root, issuing = cas
    again = services.ca_init(actor=None)
    assert [c.pk for c in again] == [root.pk, issuing.pk]
    rows = IssuedCertificate.objects.filter(profile=IssuedCertificate.Profile.TSA)
    assert rows.count() == 1  # idempotent
    assert AuditEntry.objects.filter(event="tsa.certified").count() == 1
    row = rows.get()
    assert row.ocsp_responses.filter(cert_status="good").count() == 2  # SHA-1 and SHA-256 CertIDs
    cert = x509.load_der_x509_certificate(bytes(row.der))
    cert.verify_directly_issued_by(x509.load_der_x509_certificate(bytes(issuing.certificate_der)))
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.content_commitment
    lint.require_clean("tsa", lint.lint_certificate(bytes(row.der)), builder.DEV_ALLOW)
    # the key was generated on the TSA's own token, sensitive and never extractable
    token = get_manager().open(label=settings.CA_TSA["token"], pin=settings.CA_TSA["pin"])
    key = token.private_key(label=tsa_services.TSA_KEY_LABEL)
    attrs = token.key_attributes(key.key_id)
    assert attrs["SENSITIVE"] and not attrs["EXTRACTABLE"] and attrs["NEVER_EXTRACTABLE"]
    assert token.certificate(key.key_id) == cert
    assert settings.CA_TSA["token"] not in {settings.CA_ROOT["token"], settings.CA_ISSUING["token"]}


def test_no_tsa_pin_no_tsa_and_ca_init_still_works(db, settings):
    settings.CA_TSA = {**settings.CA_TSA, "pin": ""}
    services.ca_init(actor=None)
    assert not IssuedCertificate.objects.filter(profile=IssuedCertificate.Profile.TSA).exists()


# -- openssl ts -query / -reply / -verify -----------------------------------------------------------


def test_openssl_query_reply_and_verify(cas, files, client, openssl):
    d = files
    q = query(openssl, d, "q.tsq", "-cert", "-sha256")
    raw = post(client, q)
    text = reply_text(openssl, d, raw)
    assert "Status: Granted." in text, text
    assert f"Policy OID: {settings.CA_TSA_POLICY}" in text
    assert settings.CA_TSA_POLICY.startswith(settings.CA_POLICY_ARC + ".")
    assert "Accuracy: 0x01 seconds, unspecified millis, unspecified micros" in text
    assert "Hash Algorithm: sha256" in text
    asked = re.search(r"Nonce: (0x[0-9A-F]+)", run(openssl, "ts", "-query", "-in", str(d / "q.tsq"), "-text").stdout)
    assert asked and f"Nonce: {asked.group(1)}" in text  # echoed
    assert "TSA: DirName:" in text and "Timestamp Authority" in text
    out = verify(openssl, d)
    assert "Verification: OK" in out.stdout, out
    # certReq: the TSA's certificate is in the token, so the chain alone verifies it
    out = verify(openssl, d, untrusted=False)
    assert "Verification: OK" in out.stdout, out
    # the serial is the row recorded for it, with the imprint and the time
    status, fail, info = tsa.parse_reply(raw)
    assert status == "granted" and not fail
    assert tsa.TimeStampResp.load(raw).dump(force=True) == raw  # DER, as asn1crypto encodes it afresh
    row = TimestampToken.objects.get(pk=info["serial_number"].native)
    assert row.imprint == info["message_imprint"]["hashed_message"].native.hex()
    assert row.gen_time == info["gen_time"].native


def test_without_cert_req_the_token_carries_no_certificate(cas, files, client, openssl):
    d = files
    raw = post(client, query(openssl, d, "q.tsq", "-no_nonce"))
    (d / "r.tsr").write_bytes(raw)
    token = tsp.TimeStampResp.load(raw)["time_stamp_token"]
    assert not token["content"]["certificates"].native
    assert "Nonce: unspecified" in reply_text(openssl, d, raw)
    assert "Verification: OK" in verify(openssl, d).stdout  # with the TSA certificate given
    assert "Verification: OK" not in verify(openssl, d, untrusted=False).stdout  # it is not in the token


def test_serials_are_unique_and_the_time_is_the_clock(cas, files, client, openssl):
    import datetime as dt

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    serials = set()
    for i in range(5):
        _status, _fail, info = tsa.parse_reply(post(client, query(openssl, files, f"q{i}.tsq")))
        serials.add(info["serial_number"].native)
        gen_time = info["gen_time"].native
        assert before <= gen_time <= dt.datetime.now(dt.UTC)
    assert len(serials) == 5


def test_a_wrong_imprint_is_refused_by_openssl_verify(cas, files, client, openssl):
    d = files
    (d / "r.tsr").write_bytes(post(client, query(openssl, d, "q.tsq", "-cert")))
    (d / "doc.txt").write_text("another document\n")
    out = run(openssl, "ts", "-verify", "-data", str(d / "doc.txt"), "-in", str(d / "r.tsr"),
              "-CAfile", str(d / "chain.pem"), check=False)
    assert "Verification: OK" not in out.stdout and "message imprint mismatch" in out.stderr, out


# -- rejections: a TimeStampResp with the failInfo, never a 500 ------------------------------------------


def _imprint_request(algorithm: str, digest: bytes, **extra) -> bytes:
    return tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest},
        **extra,
    }).dump()


@pytest.mark.parametrize(("body", "fail_info", "openssl_says"), [
    (b"not a request", "bad_request", "transaction not permitted or supported"),
    (b"", "bad_request", "transaction not permitted or supported"),
    (_imprint_request("sha1", b"\x01" * 20), "bad_alg", "unrecognized or unsupported algorithm identifier"),
    (_imprint_request("md5", b"\x01" * 16), "bad_alg", "unrecognized or unsupported algorithm identifier"),
    (_imprint_request("sha256", b"\x01" * 20), "bad_data_format", "the data submitted has the wrong format"),
    (_imprint_request("sha256", b"\x01" * 32, req_policy="1.2.3.4"), "unaccepted_policy",
     "the requested TSA policy is not supported by the TSA"),
    (_imprint_request("sha256", b"\x01" * 32, version=2), "bad_request", "transaction not permitted or supported"),
])
def test_bad_requests_get_a_rejection_with_its_fail_info(cas, files, client, openssl, body, fail_info,
                                                          openssl_says):
    count = TimestampToken.objects.count()
    raw = post(client, body)
    status, fail, info = tsa.parse_reply(raw)
    assert status == "rejection" and fail == {fail_info} and info is None
    text = reply_text(openssl, files, raw)
    assert "Status: Rejected." in text and f"Failure info: {openssl_says}" in text, text
    assert TimestampToken.objects.count() == count  # no serial spent


def test_openssl_sha1_query_is_refused_as_bad_alg(cas, files, client, openssl):
    status, fail, _ = tsa.parse_reply(post(client, query(openssl, files, "q.tsq", "-sha1")))
    assert status == "rejection" and fail == {"bad_alg"}


def test_wrong_content_type_and_method(cas, files, client, openssl):
    q = query(openssl, files)
    status, fail, _ = tsa.parse_reply(post(client, q, content_type="application/octet-stream"))
    assert status == "rejection" and fail == {"bad_request"}
    assert client.get("/ca/tsa/").status_code == 405
    big = post(client, b"\x30" * (tsa.MAX_REQUEST_BYTES + 1))
    assert tsa.parse_reply(big)[:2] == ("rejection", {"bad_request"})


def test_a_tsa_that_cannot_sign_says_system_failure(cas, files, client, openssl, settings):
    settings.CA_TSA = {**settings.CA_TSA, "pin": ""}  # this process holds no TSA PIN
    tsa_services.clear_cache()
    status, fail, _ = tsa.parse_reply(post(client, query(openssl, files)))
    assert status == "rejection" and fail == {"system_failure"}
    settings.CA_TSA = {**settings.CA_TSA, "pin": "9999"}  # a wrong one
    tsa_services.clear_cache()
    status, fail, _ = tsa.parse_reply(post(client, query(openssl, files)))
    assert status == "rejection" and fail == {"system_failure"}


@pytest.mark.parametrize("key_type", ["rsa2048", "rsa3072"])
def test_other_tsa_key_types_verify_with_openssl(db, settings, tmp_path, client, openssl, key_type):
    settings.CA_TSA = {**settings.CA_TSA, "token": f"tsa-{key_type}", "key_type": key_type}
    tsa_services.clear_cache()
    try:
        root, issuing = services.ca_init(actor=None)
        row = IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA)
        cert = x509.load_der_x509_certificate(bytes(row.der))
        assert builder.key_type_of(cert.public_key()) == key_type
        d = tmp_path
        (d / "chain.pem").write_bytes(b"".join(builder.pem(x509.load_der_x509_certificate(bytes(c.certificate_der)))
                                               for c in (issuing, root)))
        (d / "tsa.pem").write_bytes(builder.pem(cert))
        (d / "doc.txt").write_text("key type " + key_type)
        raw = post(client, query(openssl, d, "q.tsq", "-cert"))
        (d / "r.tsr").write_bytes(raw)
        assert "Verification: OK" in verify(openssl, d, untrusted=False).stdout
    finally:
        tsa_services.clear_cache()


def test_a_revoked_tsa_certificate_stops_the_tsa(cas, files, client, openssl):
    assert tsa.parse_reply(post(client, query(openssl, files)))[0] == "granted"
    row = IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA)
    services.certificate_revoke(serial=row.serial_hex, reason="key_compromise", actor=None)
    tsa_services.clear_cache()  # what STATUS_SECONDS does in a running worker
    count = TimestampToken.objects.count()
    status, fail, _ = tsa.parse_reply(post(client, query(openssl, files)))
    assert status == "rejection" and fail == {"system_failure"}
    assert TimestampToken.objects.count() == count
