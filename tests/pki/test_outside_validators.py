"""Validators nobody here wrote, on certificates made the production way (`ca init` and the CA's
issuance service): GnuTLS's `certtool --verify` (with and without the CRL) and pkilint's
signer/signee chain linter on every issuer/subject pair of the hierarchy."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ramis.ca import builder, responder, services
from ramis.ca.models import CRL, CertificateAuthority, IssuedCertificate

from .conftest import SEAL_SUBJECT, SIGNATURE_SUBJECT, make_csr, run

EMAIL = {"email": "ali.rezaei@example.ir"}


@pytest.fixture
def hierarchy(db, tmp_path):
    """root.pem, issuing.pem, and PEMs of a signature, a seal, the OCSP responder's and the TSA's certificate."""
    responder.clear_cache()
    root, issuing = services.ca_init(actor=None)
    files = {}

    def write(name: str, cert: x509.Certificate):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_bytes(builder.pem(cert))
        return files[name]

    def load(der) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(der))

    write("root", load(root.certificate_der))
    write("issuing", load(issuing.certificate_der))
    for profile, subject in (("signature", {**SIGNATURE_SUBJECT, **EMAIL}), ("seal", {**SEAL_SUBJECT, **EMAIL})):
        _key, csr = make_csr()
        row = services.certificate_issue(profile=profile, csr_pem=csr, subject=subject, actor=None)
        write(profile, load(row.der))
    write("tsa", load(IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA).der))
    responder_row = IssuedCertificate.objects.filter(profile="ocsp").order_by("-pk").first()
    if responder_row is not None:
        write("responder", load(responder_row.der))
    files["dir"] = tmp_path
    yield files
    responder.clear_cache()


def certtool(*args: str):
    path = shutil.which("certtool")
    assert path, "GnuTLS certtool is required (apt: gnutls-bin, installed by `make test`)"
    return run(path, *args, check=False)


@pytest.mark.parametrize("leaf", ["signature", "seal", "tsa"])
def test_gnutls_certtool_verifies_each_chain_to_our_root(hierarchy, leaf):
    d = hierarchy["dir"]
    chain = d / f"{leaf}-chain.pem"
    chain.write_bytes(hierarchy[leaf].read_bytes() + hierarchy["issuing"].read_bytes())
    out = certtool("--verify", "--load-ca-certificate", str(hierarchy["root"]), "--infile", str(chain))
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "Chain verification output: Verified." in text, text
    # the same chain against a root that is not ours (same name, another key): refused
    stranger = d / "stranger.pem"
    stranger.write_bytes(builder.pem(_stranger_root(x509.load_pem_x509_certificate(hierarchy["root"].read_bytes()))))
    refused = certtool("--verify", "--load-ca-certificate", str(stranger), "--infile", str(chain))
    assert refused.returncode != 0 and "Not verified" in refused.stdout + refused.stderr, refused.stdout


def _stranger_root(ours: x509.Certificate) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(ours.subject).issuer_name(ours.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def test_gnutls_certtool_sees_a_revocation_in_our_crl(hierarchy, db):
    d = hierarchy["dir"]
    _key, csr = make_csr()
    row = services.certificate_issue(profile="signature", csr_pem=csr, subject={**SIGNATURE_SUBJECT, **EMAIL},
                                     actor=None)
    services.certificate_revoke(serial=row.serial, reason="key_compromise", actor=None)
    services.crl_publish(ca_slug="issuing", actor=None)
    crl = CRL.objects.filter(ca=CertificateAuthority.objects.get(slug="issuing")).order_by("-number").first()
    crl_pem = d / "issuing.crl.pem"
    crl_pem.write_bytes(x509.load_der_x509_crl(bytes(crl.der)).public_bytes(serialization.Encoding.PEM))
    chain = d / "revoked-chain.pem"
    chain.write_bytes(builder.pem(x509.load_der_x509_certificate(bytes(row.der))) + hierarchy["issuing"].read_bytes())
    out = certtool("--verify", "--load-ca-certificate", str(hierarchy["root"]), "--load-crl", str(crl_pem),
                   "--infile", str(chain))
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "revoked" in text.lower(), text
    # a certificate that is not on the CRL still verifies with the CRL loaded
    good = d / "good-chain.pem"
    good.write_bytes(hierarchy["signature"].read_bytes() + hierarchy["issuing"].read_bytes())
    ok = certtool("--verify", "--load-ca-certificate", str(hierarchy["root"]), "--load-crl", str(crl_pem),
                  "--infile", str(good))
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_pkilint_chain_linter_finds_no_error_on_any_pair(hierarchy):
    pairs = [("root", "issuing"), ("issuing", "signature"), ("issuing", "seal"), ("issuing", "tsa")]
    if "responder" in hierarchy:
        pairs.append(("issuing", "responder"))
    for issuer, subject in pairs:
        out = run("lint_pkix_signer_signee_cert_chain", "lint", "-s", "ERROR",
                  str(hierarchy[issuer]), str(hierarchy[subject]), check=False)
        assert out.returncode == 0, f"{issuer} → {subject}: {out.stdout}{out.stderr}"
    # and it does catch a pair that is not one: the seal certificate did not sign the signature certificate
    wrong = run("lint_pkix_signer_signee_cert_chain", "lint", "-s", "ERROR",
                str(hierarchy["seal"]), str(hierarchy["signature"]), check=False)
    assert wrong.returncode != 0, wrong.stdout
