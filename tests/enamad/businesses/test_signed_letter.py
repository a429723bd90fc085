"""The commitment letter signed with a RAMIS certificate (issue 14).

Real components: the holder's key is generated on a SoftHSM token and certified by our CA (its
own tokens, `ca init`), the letter is signed through pyHanko's PKCS#11 signer (tokens.pdfsign, the
code `python -m tokens.agent sign-pdf` runs) with a timestamp from our TSA and OCSP answers from
our responder, both served by a live server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import urllib.request
import uuid

import pytest
import time_machine
from asn1crypto import crl as a_crl
from asn1crypto import ocsp as a_ocsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.validation.dss import DocumentSecurityStore

from enamad.businesses import signed_letter
from enamad.businesses.models import SignedLetter
from enamad.models import Business, BusinessStatus
from ramis.ca import builder, profiles, responder, services
from ramis.common.models import AuditEntry
from tests.enamad.conftest import make_account, make_business
from tokens.conf import get_manager, token_config
from tokens.pdfsign import sign_pdf

pytestmark = pytest.mark.django_db(transaction=True)

SO_PIN, PIN = "87654321", "123456"
OWNER_CODE = "0499370899"  # make_account's national code


class Holder:
    """A token with a key on it and a certificate for that key (ours or another CA's)."""

    def __init__(self, token, label, cert: x509.Certificate, row=None):
        self.token, self.label, self.cert, self.row = token, label, cert, row


def _token_with_key(key_type: str = "ec-p256"):
    manager = get_manager()
    label = f"holder-{uuid.uuid4().hex[:10]}"
    manager.init_token(label, SO_PIN, PIN)
    token = manager.open(label=label, pin=PIN)
    key = token.generate_keypair(key_type, "letter-key")
    return token, label, key


def _csr(key) -> bytes:
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM)


def holder(profile: str = "signature", validity_days: int | None = None, key_type: str = "ec-p256",
           **subject) -> Holder:
    """A key generated on a fresh SoftHSM token and certified by our issuing CA."""
    token, label, key = _token_with_key(key_type)
    data = ({"common_name": "سارا کریمی", "given_name": "سارا", "surname": "کریمی", "national_code": OWNER_CODE,
             "organization": "فروشگاه نمونه", "title": "مدیر"}
            if profile == "signature" else
            {"common_name": "شرکت نمونه پارس", "organization": "شرکت نمونه پارس", "legal_national_id": "10380284790"})
    data.update(subject)
    row = services.certificate_issue(profile=profile, csr_pem=_csr(key), subject=data, actor=None,
                                     validity_days=validity_days)
    cert = x509.load_der_x509_certificate(bytes(row.der))
    token.import_certificate(cert, key.key_id, "letter-key")
    return Holder(token, label, cert, row)


def foreign_holder() -> Holder:
    """Another CA (a root of its own, software key) certifying a token key with the owner's code."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Other"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Other CA")])
    root_cert = builder.build_root_ca(key=root_key, subject=name)
    token, label, key = _token_with_key()
    issued = builder.issue_from_csr(
        profile=profiles.get_profile("signature"), csr=_csr(key),
        subject={"common_name": "سارا کریمی", "given_name": "سارا", "surname": "کریمی", "national_code": OWNER_CODE,
             "organization": "فروشگاه نمونه", "title": "مدیر"},
        issuer=builder.Signer(root_cert, root_key, "other"), urls=builder.CAUrls("http://other.example.ir", "other"))
    token.import_certificate(issued.cert, key.key_id, "letter-key")
    h = Holder(token, label, issued.cert)
    h.root = a_x509.Certificate.load(root_cert.public_bytes(serialization.Encoding.DER))
    return h


def letter_bytes(business) -> bytes:
    letter = signed_letter.issue_letter(business)
    with letter.file.open("rb") as fh:
        return fh.read()


def sign(h: Holder, data: bytes, live, *, lt=True, tsa=True, chain=None) -> bytes:
    root, issuing, _tsa_cert, url = live
    return sign_pdf(h.token.session(), data, chain=chain or [issuing, root], tsa_url=url if tsa else None,
                    key_label="letter-key", lt=lt)


def _ocsp_der(cert: a_x509.Certificate, issuer: a_x509.Certificate) -> a_ocsp.OCSPResponse:
    """Ask our responder (the URL in the certificate) as any relying party would."""
    c, i = (x509.load_der_x509_certificate(x.dump()) for x in (cert, issuer))
    req = ocsp.OCSPRequestBuilder().add_certificate(c, i, hashes.SHA256()).build()
    url = c.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value[0].access_location.value
    http = urllib.request.Request(url, data=req.public_bytes(serialization.Encoding.DER),
                                  headers={"Content-Type": "application/ocsp-request"})
    with urllib.request.urlopen(http, timeout=10) as answer:  # noqa: S310 - our live server on 127.0.0.1
        return a_ocsp.OCSPResponse.load(answer.read())


def _root_crl(leaf: a_x509.Certificate) -> a_crl.CertificateList:
    """The root's CRL (the issuing CA's status), from the URL the certificates name."""
    url = leaf.crl_distribution_points[0]["distribution_point"].native[0].replace("/issuing.crl", "/root.crl")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our live server on 127.0.0.1
        return a_crl.CertificateList.load(answer.read())


def sign_then_add_status(h: Holder, data: bytes, live) -> bytes:
    """B-T signed, then the DSS added by hand with the OCSP answers as they are now: what a
    program does that does not refuse to embed a bad status (pyHanko's own B-LT refuses)."""
    root, issuing, tsa_cert, _url = live
    signed = sign(h, data, live, lt=False)
    from pyhanko.pdf_utils.reader import PdfFileReader

    (sig,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    leaf = a_x509.Certificate.load(h.cert.public_bytes(serialization.Encoding.DER))
    out = io.BytesIO(signed)
    DocumentSecurityStore.add_dss(out, sig.pkcs7_content, certs=[leaf, issuing, root, tsa_cert],
                                  ocsps=[_ocsp_der(leaf, issuing), _ocsp_der(tsa_cert, issuing)],
                                  crls=[_root_crl(leaf)])
    return out.getvalue()


@pytest.fixture
def shop(live_pki):
    account = make_account()
    business = make_business(account)
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.PHYSICAL_DOCUMENTS)
    business.refresh_from_db()
    return business


def upload(business, data):
    return signed_letter.signed_letter_upload(business_id=business.pk, actor=business.account.user, data=data)


def refused(business, data) -> signed_letter.LetterRefused:
    """Upload ``data``; the refusal (its ``code`` for the test to check), after making sure that
    nothing changed and that the refusal was audited with its reason."""
    before = (business.status, business.documents_received_at)
    with pytest.raises(signed_letter.LetterRefused) as info:
        upload(business, data)
    code = info.value.code
    business.refresh_from_db()
    assert (business.status, business.documents_received_at) == before  # nothing changed
    assert not SignedLetter.objects.filter(business=business).exists()
    entry = AuditEntry.objects.filter(event="enamad.letter.refused", target_id=str(business.pk)).latest("id")
    assert entry.extra["code"] == code and entry.reason == signed_letter.REASONS[code]
    return info.value


# --- the cases of issue 14 ---------------------------------------------------------------------


def test_good_letter_moves_the_file_past_the_postal_step(shop, live_pki):
    h = holder()
    data = sign(h, letter_bytes(shop), live_pki)
    signed = upload(shop, data)
    shop.refresh_from_db()
    assert shop.documents_received_at is not None
    assert shop.status == BusinessStatus.PHYSICAL_DOCUMENTS  # the documents officer still decides
    assert signed.signer_kind == SignedLetter.SignerKind.OWNER
    assert signed.certificate_serial == h.row.serial_hex
    assert signed.report["letter_sha256"] == shop.commitment_letters.get().sha256
    assert signed.report["modification_level"] == "LTA_UPDATES"  # the DSS came after the signature
    assert AuditEntry.objects.filter(event="enamad.letter.signed", target_id=str(shop.pk)).exists()
    assert signed.file.read() == data


def test_good_letter_with_an_rsa_key(shop, live_pki):
    """RSA keys sign with the token's own SHA-256 PKCS#1 v1.5 (EC ones with raw CKM_ECDSA, above)."""
    h = holder(key_type="rsa2048")
    assert upload(shop, sign(h, letter_bytes(shop), live_pki)).certificate_serial == h.row.serial_hex


def test_revoked_certificate(shop, live_pki):
    h = holder()
    services.certificate_revoke(serial=h.row.serial_hex, reason="key_compromise", actor=None)
    assert refused(shop, sign_then_add_status(h, letter_bytes(shop), live_pki)).code == "revoked"


def test_held_certificate(shop, live_pki):
    h = holder()
    services.certificate_hold(serial=h.row.serial_hex, actor=None)
    assert refused(shop, sign_then_add_status(h, letter_bytes(shop), live_pki)).code == "held"


def test_revoked_after_signing_still_validates(shop, live_pki):
    """B-LT: the status at the timestamp counts, not today's."""
    h = holder()
    data = sign(h, letter_bytes(shop), live_pki)
    services.certificate_revoke(serial=h.row.serial_hex, reason="superseded", actor=None)
    assert upload(shop, data).signer_kind == SignedLetter.SignerKind.OWNER


def test_wrong_person(shop, live_pki):
    h = holder(national_code="0013542419")
    assert refused(shop, sign(h, letter_bytes(shop), live_pki)).code == "wrong_person"


def test_tampered_file(shop, live_pki):
    data = bytearray(sign(holder(), letter_bytes(shop), live_pki))
    at = data.index(b"/Producer")  # inside the letter, under the signature's byte range
    data[at + 1] ^= 0x20
    assert refused(shop, bytes(data)).code == "tampered"


def test_appended_change_after_signing(shop, live_pki):
    from pyhanko.pdf_utils import generic

    data = sign(holder(), letter_bytes(shop), live_pki)
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    assert refused(shop, out.getvalue()).code == "not_covered"


def test_another_business_letter(shop, live_pki):
    other = make_business(shop.account, domain="other-shop.ir")
    Business.objects.filter(pk=other.pk).update(status=BusinessStatus.PHYSICAL_DOCUMENTS)
    other.refresh_from_db()
    data = sign(holder(), letter_bytes(other), live_pki)
    letter_bytes(shop)
    assert refused(shop, data).code == "not_our_letter"


def test_expired_certificate(shop, live_pki):
    h = holder(validity_days=1)
    data = letter_bytes(shop)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=3)):
        # three days on, the CA has kept publishing (as its periodic tasks do)
        for slug in ("root", "issuing"):
            services.crl_publish(ca_slug=slug)
        services.ocsp_refresh()
        responder.clear_cache()
        signed = sign_then_add_status(h, data, live_pki)
        assert refused(shop, signed).code == "expired"


def test_no_timestamp(shop, live_pki):
    data = sign(holder(), letter_bytes(shop), live_pki, lt=False, tsa=False)
    assert refused(shop, data).code == "no_timestamp"


def test_no_revocation_data(shop, live_pki):
    data = sign(holder(), letter_bytes(shop), live_pki, lt=False)
    assert refused(shop, data).code == "no_revocation_info"


def test_certificate_from_another_ca(shop, live_pki):
    h = foreign_holder()
    assert refused(shop, sign(h, letter_bytes(shop), live_pki, lt=False, chain=[h.root])).code == "foreign_ca"


# --- legal persons ------------------------------------------------------------------------------


@pytest.fixture
def company_shop(live_pki):
    account = make_account("companyshop", persona="legal")
    account.company_name, account.legal_national_id = "شرکت نمونه پارس", "10380284790"
    account.save()
    business = make_business(account, domain="company-shop.ir")
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.PHYSICAL_DOCUMENTS)
    business.refresh_from_db()
    return business


def test_legal_person_with_the_company_seal(company_shop, live_pki):
    h = holder("seal")
    assert upload(company_shop, sign(h, letter_bytes(company_shop), live_pki)).signer_kind == "seal"


def test_legal_person_signatory_in_the_registry(company_shop, live_pki, company):
    from tests.conftest import make_person, make_role

    person = make_person("0013542419", "09351112233")
    h = holder(national_code=person.national_code)
    data = sign(h, letter_bytes(company_shop), live_pki)
    make_role(person, company, has_signing_authority=False)
    assert refused(company_shop, data).code == "wrong_person_legal"
    person.roles.update(has_signing_authority=True)
    assert upload(company_shop, data).signer_kind == "signatory"


def test_only_at_the_physical_documents_step(shop, live_pki):
    data = sign(holder(), letter_bytes(shop), live_pki)
    Business.objects.filter(pk=shop.pk).update(status=BusinessStatus.MANAGER_REVIEW)
    shop.refresh_from_db()
    assert refused(shop, data).code == "wrong_state"


def test_the_letter_is_issued_once(shop):
    first = letter_bytes(shop)
    assert letter_bytes(shop) == first
    assert shop.commitment_letters.count() == 1


# --- signing on the holder's machine: python -m tokens.agent sign-pdf ---------------------------


def test_agent_sign_pdf_on_softhsm(shop, live_pki, tmp_path):
    root, issuing, _t, url = live_pki
    h = holder()
    (tmp_path / "letter.pdf").write_bytes(letter_bytes(shop))
    (tmp_path / "chain.pem").write_bytes(b"".join(
        x509.load_der_x509_certificate(c.dump()).public_bytes(serialization.Encoding.PEM) for c in (issuing, root)))
    cmd = [sys.executable, "-m", "tokens.agent", "sign-pdf", "--module", token_config().module,
           "--softhsm-dir", str(django_settings.SOFTHSM_DIR), "--token", h.label, "--chain", str(tmp_path / "chain.pem"),
           "--tsa", url, "--in", str(tmp_path / "letter.pdf"), "--out", str(tmp_path / "signed.pdf")]
    wrong = subprocess.run(cmd, input="000000\n", capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0 and "PIN" in wrong.stderr and "000000" not in wrong.stderr + wrong.stdout
    done = subprocess.run(cmd, input=f"{PIN}\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert PIN not in done.stdout + done.stderr
    signed = upload(shop, (tmp_path / "signed.pdf").read_bytes())
    assert signed.signer_kind == SignedLetter.SignerKind.OWNER


# --- the pages ----------------------------------------------------------------------------------


def test_pages_upload_refusal_next_to_the_field_then_the_officer_sees_the_report(shop, live_pki, client,
                                                                                 other_account):
    from tests.conftest import make_staff
    from tests.enamad.conftest import staff_client

    client.force_login(shop.account.user)
    page = client.get(f"/enamad/panel/business/{shop.pk}/")
    assert f"/enamad/panel/business/{shop.pk}/signed-letter/" in page.content.decode()
    letter = client.get(f"/enamad/panel/business/{shop.pk}/commitment.pdf")
    assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
    pdf = letter.content
    assert pdf == client.get(f"/enamad/panel/business/{shop.pk}/commitment.pdf").content  # the same bytes
    how = client.get(f"/enamad/panel/business/{shop.pk}/signed-letter/")
    assert how.status_code == 200
    html = how.content.decode()
    assert "/ca/tsa/" in html and "tokens.agent sign-pdf" in html and 'data-agent-url="http://127.0.0.1:' in html
    assert "connect-src 'self' http://127.0.0.1:" in how["Content-Security-Policy"]

    unsigned = io.BytesIO(pdf)
    unsigned.name = "letter.pdf"
    answer = client.post(f"/enamad/panel/business/{shop.pk}/signed-letter/", {"file": unsigned})
    assert answer.status_code == 400
    assert signed_letter.REASONS["unsigned"] in answer.content.decode()  # next to the field
    shop.refresh_from_db()
    assert shop.documents_received_at is None

    signed = io.BytesIO(sign(holder(), pdf, live_pki))
    signed.name = "signed.pdf"
    done = client.post(f"/enamad/panel/business/{shop.pk}/signed-letter/", {"file": signed})
    assert done.status_code == 302
    shop.refresh_from_db()
    assert shop.documents_received_at is not None
    # the file's page no longer asks for the letter by post
    business_page = client.get(f"/enamad/panel/business/{shop.pk}/").content.decode()
    assert 'id="documents-received"' in business_page and "نیازی به ارسال دوباره" in business_page
    assert "صندوق پستی" not in business_page and 'id="sign-letter-link"' not in business_page

    client.force_login(other_account.user)  # someone else's file: not found
    assert client.get(f"/enamad/panel/business/{shop.pk}/signed-letter/").status_code == 404
    assert client.get(f"/enamad/panel/business/{shop.pk}/commitment.pdf").status_code == 404

    client.logout()
    officer = make_staff("letter_officer", perms=["enamad.review_documents"])
    staff_client(client, officer)
    desk = client.get(f"/enamad/staff/business/{shop.pk}/").content.decode()
    row = shop.signed_letters.get()
    assert f"signed-letter-{row.pk}" in desk and row.report["letter_sha256"] in desk
    assert b"".join(client.get(f"/enamad/staff/signed-letters/{row.pk}/").streaming_content) == signed.getvalue()
    accept = client.post(f"/enamad/staff/business/{shop.pk}/accept_documents/")  # the officer still decides
    assert accept.status_code == 302
    shop.refresh_from_db()
    assert shop.status == BusinessStatus.MANAGER_REVIEW


def test_an_unexpected_failure_is_a_persian_refusal(shop, live_pki, monkeypatch):
    data = sign(holder(), letter_bytes(shop), live_pki)

    def broken(*args, **kwargs):
        raise RuntimeError("the validator broke")

    monkeypatch.setattr(signed_letter, "_own_letter", broken)
    assert refused(shop, data).code == "internal"


def test_garbage_is_refused(shop, live_pki):
    letter_bytes(shop)
    assert refused(shop, b"%PDF-1.7\nnot really a pdf\n%%EOF\n").code == "unreadable"


def test_uploads_are_throttled_per_business(shop, settings):
    settings.ENAMAD_SIGNED_LETTER_PER_HOUR = 2
    letter_bytes(shop)
    for _ in range(2):
        with pytest.raises(signed_letter.LetterRefused) as info:
            upload(shop, b"%PDF-1.7\n%%EOF\n")
        assert info.value.code == "unreadable"
    with pytest.raises(signed_letter.LetterRefused) as info:
        upload(shop, b"%PDF-1.7\n%%EOF\n")
    assert info.value.code == "throttled"


def test_redis_down_the_upload_is_refused_in_persian(shop, redis_cache, client):
    """The throttle's counters unreachable: the page answers with the portal's Persian message
    next to the field (never a 500), and nothing changes."""
    letter = io.BytesIO(letter_bytes(shop))
    letter.name = "letter.pdf"
    client.force_login(shop.account.user)
    redis_cache.stop()
    answer = client.post(f"/enamad/panel/business/{shop.pk}/signed-letter/", {"file": letter})
    assert answer.status_code == 400
    assert signed_letter.REASONS["unavailable"] in answer.content.decode()
    shop.refresh_from_db()
    assert shop.documents_received_at is None
