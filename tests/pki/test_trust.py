"""Certificates outside validators accept (issue 12): the issuing CA's certificatePolicies, the
root's ARL named in it, and ``ca reissue-issuing`` — checked with ``openssl verify`` (explicit
policy, CRL checking of the whole chain, CRLs downloaded from a live server) and
pyhanko-certvalidator with an initial explicit policy."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from pyhanko_certvalidator import CertificateValidator, PKIXValidationParams, ValidationContext
from pyhanko_certvalidator.errors import PathValidationError

from ramis.ca import builder, profiles, responder, services, signing
from ramis.ca.models import CRL, CertificateAuthority
from ramis.common.models import AuditEntry

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr, run

SUBJECTS = {"signature": SIGNATURE_SUBJECT, "seal": SEAL_SUBJECT}
NCP = profiles.ETSI_NCP


def ours(profile: str) -> str:
    return profiles.policy_oids(profiles.get_profile(profile))[0].dotted_string


def asn1(cert: x509.Certificate) -> a_x509.Certificate:
    return a_x509.Certificate.load(builder.der(cert))


def pyhanko_validate(leaf, issuing, root, policy: str, crls=()):
    """pyhanko-certvalidator's PKIX path validation with ``policy`` as the initial explicit policy."""
    context = ValidationContext(trust_roots=[asn1(root)], crls=list(crls), allow_fetching=False,
                                revocation_mode="require" if crls else "soft-fail")
    params = PKIXValidationParams(user_initial_policy_set=frozenset({policy}), initial_explicit_policy=True)
    validator = CertificateValidator(asn1(leaf), [asn1(issuing)], validation_context=context, pkix_params=params)
    return asyncio.run(validator.async_validate_path())


def openssl_verify(openssl, pki, leaf_path: str, *args: str):
    return run(openssl, "verify", "-x509_strict", "-CAfile", pki.path("root.pem"),
               "-untrusted", pki.path("issuing.pem"), *args, leaf_path, check=False)


# -- the profiles, as built (session PKI on SoftHSM) -------------------------------------------------


def test_issuing_ca_asserts_the_policies_of_every_profile(pki):
    policies = pki.issuing.cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert not policies.critical
    assert [p.policy_identifier.dotted_string for p in policies.value] == [ours("signature"), ours("seal"), NCP]
    assert all(p.policy_qualifiers is None for p in policies.value)
    dp = pki.issuing.cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for d in dp for n in d.full_name] == ["http://pki.ramis.ir/ca/crl/root.crl"]


@pytest.mark.parametrize("profile", ["signature", "seal"])
def test_openssl_and_pyhanko_accept_an_explicit_policy_with_every_crl(pki, openssl, profile):
    import datetime as dt

    from ramis.ca import crl

    from .conftest import utcnow

    _key, csr = make_csr()
    leaf = builder.issue_from_csr(profile=profiles.get_profile(profile), csr=csr, subject=SUBJECTS[profile],
                                  issuer=pki.issuing, urls=pki.urls).cert
    path = pki.write(f"trust-{profile}.pem", builder.pem(leaf))
    now = utcnow()
    arl = crl.build_crl(issuer_cert=pki.root.cert, key=pki.root.key, entries=[], number=1,
                        this_update=now, next_update=now + dt.timedelta(days=30))
    iss_crl = crl.build_crl(issuer_cert=pki.issuing.cert, key=pki.issuing.key, entries=[], number=1,
                            this_update=now, next_update=now + dt.timedelta(days=1))
    crls = [pki.write("trust-root.crl.pem", x509.load_der_x509_crl(arl).public_bytes(serialization.Encoding.PEM)),
            pki.write("trust-issuing.crl.pem",
                      x509.load_der_x509_crl(iss_crl).public_bytes(serialization.Encoding.PEM))]
    crl_args = ["-crl_check_all", "-CRLfile", crls[0], "-CRLfile", crls[1]]
    for policy in (NCP, ours(profile)):
        out = openssl_verify(openssl, pki, path, "-explicit_policy", "-policy", policy, *crl_args)
        assert out.returncode == 0 and out.stdout.strip() == f"{path}: OK", out.stdout + out.stderr
        pyhanko_validate(leaf, pki.issuing.cert, pki.root.cert, policy, crls=[arl, iss_crl])
    # the other profile's policy is not this certificate's: both refuse it
    other = ours("seal" if profile == "signature" else "signature")
    out = openssl_verify(openssl, pki, path, "-explicit_policy", "-policy", other, *crl_args)
    assert out.returncode != 0 and "explicit policy" in out.stdout + out.stderr
    with pytest.raises(PathValidationError, match="policies"):
        pyhanko_validate(leaf, pki.issuing.cert, pki.root.cert, other)
    # without the ARL, checking the whole chain cannot succeed: the root's CRL is needed
    out = openssl_verify(openssl, pki, path, "-crl_check_all", "-CRLfile", crls[1])
    assert out.returncode != 0 and "unable to get certificate CRL" in out.stdout + out.stderr


def test_an_issuing_ca_without_policies_fails_an_explicit_policy(pki, openssl, monkeypatch):
    """What the issue reported (error 43, 'no explicit policy'): the test that proves the check bites."""
    monkeypatch.setattr(builder, "ca_policy_oids", lambda: [])
    bare = builder.build_issuing_ca(public_key=pki.issuing.cert.public_key(), subject=pki.issuing.cert.subject,
                                    issuer=pki.root, urls=builder.CAUrls("http://pki.ramis.ir", "root"))
    with pytest.raises(x509.ExtensionNotFound):
        bare.extensions.get_extension_for_class(x509.CertificatePolicies)
    _key, csr = make_csr()
    leaf = builder.issue_from_csr(profile=profiles.get_profile("signature"), csr=csr, subject=SIGNATURE_SUBJECT,
                                  issuer=pki.issuing, urls=pki.urls).cert
    path = pki.write("trust-bare-leaf.pem", builder.pem(leaf))
    out = run(openssl, "verify", "-CAfile", pki.path("root.pem"), "-untrusted",
              pki.write("trust-bare-issuing.pem", builder.pem(bare)),
              "-explicit_policy", "-policy", NCP, path, check=False)
    assert out.returncode != 0 and "error 43" in out.stdout + out.stderr
    with pytest.raises(PathValidationError, match="policies"):
        pyhanko_validate(leaf, bare, pki.root.cert, NCP)


# -- a live server: CRLs downloaded from the URLs the certificates name -------------------------------


@pytest.fixture
def live_cas(live_server, settings, tmp_path):
    """``ca init`` with the certificates naming a live server on 127.0.0.1 (the test's own)."""
    url = live_server.url.replace("//localhost:", "//127.0.0.1:")  # pkilint: "localhost:port" is no URI
    settings.CA_PUBLIC_URL = url
    signing.clear_caches()
    responder.clear_cache()
    root, issuing = services.ca_init(actor=None)
    if _names(issuing) != url:
        # the session's tokens already hold an issuing certificate naming another host: reissue it
        issuing = services.issuing_ca_reissue(actor=None)
    yield root, issuing
    signing.clear_caches()
    responder.clear_cache()


def _names(ca: CertificateAuthority) -> str:
    cert = x509.load_der_x509_certificate(bytes(ca.certificate_der))
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return dp[0].full_name[0].value.split("/ca/")[0]


def _write(tmp_path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize("profile", ["signature", "seal"])
def test_openssl_downloads_both_crls_and_checks_an_explicit_policy(live_cas, openssl, tmp_path, profile):
    root, issuing = live_cas
    assert CRL.objects.filter(ca=root).exists()  # the ARL, published by ca init
    _key, csr = make_csr()
    cert = services.certificate_issue(profile=profile, csr_pem=csr, subject=SUBJECTS[profile], actor=None)
    root_pem = _write(tmp_path, "root.pem", builder.pem(x509.load_der_x509_certificate(bytes(root.certificate_der))))
    iss_pem = _write(tmp_path, "issuing.pem",
                     builder.pem(x509.load_der_x509_certificate(bytes(issuing.certificate_der))))
    leaf = _write(tmp_path, "leaf.pem", builder.pem(x509.load_der_x509_certificate(bytes(cert.der))))
    policy = ["-x509_strict", "-explicit_policy", "-policy", NCP]
    # each CA certificate's CRL, downloaded by openssl from the URL the certificate below it names
    out = run(openssl, "verify", *policy, "-crl_check", "-crl_download", "-CAfile", root_pem, iss_pem, check=False)
    assert out.returncode == 0 and out.stdout.strip() == f"{iss_pem}: OK", out.stdout + out.stderr  # the ARL
    leaf_only = ["verify", *policy, "-crl_check", "-crl_download", "-CAfile", root_pem, "-untrusted", iss_pem, leaf]
    out = run(openssl, *leaf_only, check=False)
    assert out.returncode == 0 and out.stdout.strip() == f"{leaf}: OK", out.stdout + out.stderr
    # the whole chain: under -crl_check_all OpenSSL also checks the trust anchor itself, whose own
    # certificate names no CRL, so the ARL (fetched here from the URL the issuing CA names) is given
    (arl_url,) = [n.value for d in x509.load_der_x509_certificate(bytes(issuing.certificate_der)).extensions
                  .get_extension_for_class(x509.CRLDistributionPoints).value for n in d.full_name]
    with urllib.request.urlopen(arl_url, timeout=10) as resp:  # noqa: S310 - the test's own live server
        assert resp.headers["Content-Type"] == "application/pkix-crl"
        arl = _write(tmp_path, "root.crl", resp.read())
    arl_pem = _write(tmp_path, "root.crl.pem", x509.load_der_x509_crl(open(arl, "rb").read())
                     .public_bytes(serialization.Encoding.PEM))
    whole = ["verify", *policy, "-crl_check_all", "-crl_download", "-CRLfile", arl_pem,
             "-CAfile", root_pem, "-untrusted", iss_pem, leaf]
    out = run(openssl, *whole, check=False)
    assert out.returncode == 0 and out.stdout.strip() == f"{leaf}: OK", out.stdout + out.stderr

    services.certificate_revoke(serial=cert.serial_hex, reason="key_compromise", actor=None)
    for args in (leaf_only, whole):
        out = run(openssl, *args, check=False)
        assert out.returncode != 0 and "certificate revoked" in out.stdout + out.stderr


# -- ca reissue-issuing -------------------------------------------------------------------------------


@pytest.fixture
def cas(db):
    signing.clear_caches()
    responder.clear_cache()
    yield services.ca_init(actor=None)
    signing.clear_caches()
    responder.clear_cache()


def _install_bare_issuing(issuing: CertificateAuthority, monkeypatch) -> x509.Certificate:
    """Put back the issuing CA certificate of a deployment made before the policies were asserted."""
    root_signer = signing.signer(issuing.parent)
    token = signing.open_token(issuing.token_label, signing.ca_settings("issuing")["pin"])
    key = token.private_key(id=bytes.fromhex(issuing.key_id))
    with monkeypatch.context() as m:
        m.setattr(builder, "ca_policy_oids", lambda: [])
        bare = builder.build_issuing_ca(public_key=key.public_key(),
                                        subject=x509.load_der_x509_certificate(bytes(issuing.certificate_der)).subject,
                                        issuer=root_signer, urls=signing.urls("root"))
    token.import_certificate(bare, key.key_id, services.ISSUING_KEY_LABEL)
    CertificateAuthority.objects.filter(pk=issuing.pk).update(
        certificate_der=builder.der(bare), serial_hex=format(bare.serial_number, "x"), sha256=builder.fingerprint(bare))
    signing.clear_caches()
    return bare


def test_reissue_issuing_keeps_the_key_adds_the_policies_and_old_certificates_validate(cas, openssl, tmp_path,
                                                                                       monkeypatch):
    root, issuing = cas
    bare = _install_bare_issuing(issuing, monkeypatch)
    issuing.refresh_from_db()
    _key, csr = make_csr()
    before = services.certificate_issue(profile="signature", csr_pem=csr, subject=SIGNATURE_SUBJECT, actor=None)
    root_cert = x509.load_der_x509_certificate(bytes(root.certificate_der))
    root_pem = _write(tmp_path, "root.pem", builder.pem(root_cert))
    leaf = _write(tmp_path, "leaf.pem", builder.pem(x509.load_der_x509_certificate(bytes(before.der))))
    verify = ["verify", "-x509_strict", "-explicit_policy", "-policy", NCP, "-CAfile", root_pem, "-untrusted"]
    out = run(openssl, *verify, _write(tmp_path, "bare.pem", builder.pem(bare)), leaf, check=False)
    assert out.returncode != 0 and "error 43" in out.stdout + out.stderr

    ca = services.issuing_ca_reissue(actor=None)
    new = x509.load_der_x509_certificate(bytes(ca.certificate_der))
    assert new.serial_number != bare.serial_number and ca.serial_hex == format(new.serial_number, "x")
    assert new.subject == bare.subject and new.public_key() == bare.public_key()
    assert new.not_valid_after_utc == bare.not_valid_after_utc
    assert ca.sha256 == builder.fingerprint(new)
    new.verify_directly_issued_by(root_cert)
    assert [p.policy_identifier.dotted_string for p in
            new.extensions.get_extension_for_class(x509.CertificatePolicies).value][-1] == NCP
    token = signing.open_token(ca.token_label, signing.ca_settings("issuing")["pin"])
    assert token.certificate(bytes.fromhex(ca.key_id)) == new  # on the token too: ca init agrees again
    assert [c.pk for c in services.ca_init(actor=None)] == [root.pk, issuing.pk]
    entry = AuditEntry.objects.get(event="ca.reissued")
    assert entry.extra["replaces"] == builder.fingerprint(bare) and NCP in entry.extra["policies"]

    # the certificate issued under the old CA certificate validates under the new one
    out = run(openssl, *verify, _write(tmp_path, "new.pem", builder.pem(new)), leaf, check=False)
    assert out.returncode == 0 and out.stdout.strip() == f"{leaf}: OK", out.stdout + out.stderr
    pyhanko_validate(x509.load_der_x509_certificate(bytes(before.der)), new, root_cert, NCP)
    # and the CA issues under the new one
    after = services.certificate_issue(profile="seal", csr_pem=make_csr()[1], subject=SEAL_SUBJECT, actor=None)
    x509.load_der_x509_certificate(bytes(after.der)).verify_directly_issued_by(new)


def test_reissue_issuing_without_the_roots_pin_says_so(cas, settings):
    settings.CA_ROOT = {**settings.CA_ROOT, "pin": ""}
    before = bytes(CertificateAuthority.objects.get(slug="issuing").certificate_der)
    with pytest.raises(services.CAError, match="CA_ROOT_PIN"):
        services.issuing_ca_reissue(actor=None)
    assert bytes(CertificateAuthority.objects.get(slug="issuing").certificate_der) == before
    assert not AuditEntry.objects.filter(event="ca.reissued").exists()


def test_reissue_issuing_before_init_says_so(db):
    with pytest.raises(services.CAError, match="ca init"):
        services.issuing_ca_reissue(actor=None)


# -- subjectAltName: the confirmed e-mail address ----------------------------------------------------


def _issue_with_email(pki, profile: str, email: str):
    _key, csr = make_csr()
    return builder.issue_from_csr(profile=profiles.get_profile(profile), csr=csr,
                                  subject={**SUBJECTS[profile], "email": email}, issuer=pki.issuing, urls=pki.urls)


@pytest.mark.parametrize("profile", ["signature", "seal"])
def test_an_email_goes_into_the_subject_alt_name_and_strict_validators_accept_it(pki, openssl, profile):
    issued = _issue_with_email(pki, profile, "Ali.Rezaei@Example.IR")
    san = issued.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical  # the subject name is not empty
    assert san.value.get_values_for_type(x509.RFC822Name) == ["Ali.Rezaei@example.ir"]
    assert "email" not in issued.cert.subject.rfc4514_string().lower()  # not in the DN (RFC 5280 §4.1.2.6)
    assert [f for f in issued.findings if f.severity in ("ERROR", "FATAL")] == []

    # cryptography's strict (CA/B-style) verifier: a client certificate needs a subjectAltName
    verified = PolicyBuilder().store(Store([pki.root.cert])).build_client_verifier().verify(
        issued.cert, [pki.issuing.cert])
    assert verified.subjects == [x509.RFC822Name("Ali.Rezaei@example.ir")]
    assert verified.chain[-1] == pki.root.cert

    path = pki.write(f"trust-san-{profile}.pem", builder.pem(issued.cert))
    out = openssl_verify(openssl, pki, path, "-purpose", "smimesign", "-verify_email", "Ali.Rezaei@example.ir",
                         "-explicit_policy", "-policy", NCP)
    assert out.returncode == 0 and out.stdout.strip() == f"{path}: OK", out.stdout + out.stderr
    out = openssl_verify(openssl, pki, path, "-purpose", "smimesign", "-verify_email", "someone@else.ir")
    assert out.returncode != 0 and "email address mismatch" in out.stdout + out.stderr

    der_path = pki.write(f"trust-san-{profile}.der", builder.der(issued.cert))
    etsi = {"signature": "NCP-NATURAL-PERSON-CERTIFICATE", "seal": "NCP-LEGAL-PERSON-CERTIFICATE"}[profile]
    for cmd in (("lint_pkix_cert", "lint"), ("lint_etsi_cert", "lint", "--type", etsi)):
        out = run(*cmd, "-s", "ERROR", der_path, check=False)
        assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr


def test_without_an_email_the_strict_verifier_still_refuses(pki):
    """What the issue reported: no subjectAltName, no client certificate for cryptography's verifier."""
    _key, csr = make_csr()
    bare = builder.issue_from_csr(profile=profiles.get_profile("signature"), csr=csr, subject=SIGNATURE_SUBJECT,
                                  issuer=pki.issuing, urls=pki.urls).cert
    with pytest.raises(x509.ExtensionNotFound):
        bare.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    with pytest.raises(VerificationError, match="2.5.29.17"):
        PolicyBuilder().store(Store([pki.root.cert])).build_client_verifier().verify(bare, [pki.issuing.cert])


@pytest.mark.parametrize("email", ["ali", "ali@", "@example.ir", "ali@example", "علی@example.ir", "a..b@example.ir",
                                   ".a@example.ir", "a b@example.ir", "ali@-example.ir", "a@" + "x" * 250 + ".ir"])
def test_a_malformed_email_is_refused_before_the_token_signs(pki, email, monkeypatch):
    signed = []
    monkeypatch.setattr(builder, "lint_then_sign", lambda *a, **k: signed.append(1))
    with pytest.raises(builder.IssuanceError, match="email"):
        _issue_with_email(pki, "signature", email)
    assert signed == []
