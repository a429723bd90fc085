"""The signed commitment letter and certificate login as deployed (issue 14), in Chromium through
nginx, on the topology's PostgreSQL, web tier, workers, CA and timestamp authority.

A shop owner at the physical-documents step (made as an operator's console would: the steps
before it are tests/prod/test_enamad_journey.py's) logs in to e-Namad with a certificate our CA
issued, presented by Chromium on nginx's certificate-login port (Playwright's
``client_certificates``); a revoked one is refused in Persian. On the letter page the owner
downloads the letter, signs it on their own machine with `python -m tokens.agent sign-pdf`
(a key on a SoftHSM token of their own, certified by our CA; PAdES B-LT with the TSA URL the page
gives), uploads a tampered copy (refused in Persian, nothing changes), then the signed one: the
file moves past the postal step.

The holder's token lives in child processes (tests/prod/holder_token.py) with their own
``SOFTHSM2_CONF`` exported: SoftHSM reads it once per process, and this one has the topology's.
Playwright's client certificates go through its own TLS proxy, which resolves names itself: the
browser contexts here use 127.0.0.1 (in the portal's ALLOWED_HOSTS and CSRF origins) rather than
the public host name the other prod tests map with --host-resolver-rules.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.prod.conftest import db_fresh
from tests.prod.test_certificate_login import issue, manage

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
HOLDER = Path(__file__).resolve().parent / "holder_token.py"
CODE = "0081234562"  # the shop owner's national code (no other account, person or staff has it)
USERNAME = "letter.owner"
DOMAIN = "emza-nameh.ir"
TOKEN, PIN = "owner-token", "246813"


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"prod-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def holder_run(topology, d: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """holder_token.py in a process of its own, with the holder's SoftHSM configuration exported."""
    env = {**topology.app_env(), "SOFTHSM2_CONF": str(d / "softhsm2.conf")}
    return subprocess.run([sys.executable, str(HOLDER), *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def shop(topology):
    """A natural-person account with a business at the physical-documents step."""
    from django.utils import timezone

    from certauth.models import User
    from enamad.businesses import services as business_services
    from enamad.models import Account, Business, BusinessStatus

    db_fresh()
    now = timezone.now()
    user = User.objects.create_user(username=USERNAME, password="Letter-owner-pass-2026",  # noqa: S106
                                    email="letter.owner@example.com", first_name="نرگس", last_name="امینی")
    account = Account.objects.create(
        user=user, persona="natural", first_name="نرگس", last_name="امینی", national_code=CODE,
        mobile="09124445566", landline="02144556677", address="تهران، خیابان ولیعصر، پلاک ۱۲",
        postal_code="1316943115", profile_completed_at=now, mobile_verified_at=now, landline_verified_at=now)
    business = business_services.business_create(account_id=account.pk, actor=user, data={
        "domain": DOMAIN, "name": "فروشگاه امضانامه", "address": account.address, "postal_code": account.postal_code,
        "phone": account.landline, "email": f"info@{DOMAIN}", "answering_hours": "شنبه تا چهارشنبه ۹ تا ۱۷"})
    Business.objects.filter(pk=business.pk).update(status=BusinessStatus.PHYSICAL_DOCUMENTS)
    return Business.objects.get(pk=business.pk)


@pytest.fixture(scope="module")
def login_certs(topology, tmp_path_factory):
    """Two signature certificates for the owner's code, software keys (what Chromium presents)."""
    d = tmp_path_factory.mktemp("letter-login")
    return {"good": issue(topology, d, CODE, "good"), "revoked": issue(topology, d, CODE, "revoked")}


@pytest.fixture(scope="module")
def holder(topology, tmp_path_factory):
    """The owner's token: a key generated on it, our CA's certificate for it stored next to it."""
    d = tmp_path_factory.mktemp("holder")
    made = holder_run(topology, d, "new", str(d), TOKEN, PIN, str(d / "owner.csr"))
    assert made.returncode == 0, made.stderr
    (d / "owner.json").write_text(json.dumps({
        "common_name": "نرگس امینی", "given_name": "نرگس", "surname": "امینی", "national_code": CODE,
        "organization": "فروشگاه امضانامه", "title": "مدیر"}, ensure_ascii=False))
    manage(topology, "ca", "issue", "--profile", "signature", "--csr", str(d / "owner.csr"),
           "--subject-json", str(d / "owner.json"), "--out", str(d / "owner.pem"))
    stored = holder_run(topology, d, "import", str(d), TOKEN, PIN, str(d / "owner.pem"))
    assert stored.returncode == 0, stored.stderr
    return d


def owner_context(browser, topology, cert: tuple[Path, Path]):
    """Chromium presenting ``cert`` on the certificate-login port (only there), on 127.0.0.1."""
    context = browser.new_context(
        locale="fa-IR", timezone_id="Asia/Tehran", viewport={"width": 1280, "height": 900},
        base_url=f"https://127.0.0.1:{topology.https_port}",
        # Playwright's proxy, not Chromium, makes the TLS connection when a client certificate is
        # set; it checks the server's certificate against Node's CAs, not the start-up one
        ignore_https_errors=True,
        client_certificates=[{"origin": f"https://127.0.0.1:{topology.cert_port}",
                              "certPath": str(cert[0]), "keyPath": str(cert[1])}])
    context.set_default_timeout(60_000)
    return context


def certificate_login(browser, topology, cert):
    context = owner_context(browser, topology, cert)
    page = context.new_page()
    page.goto(f"https://127.0.0.1:{topology.cert_port}/auth/certificate/?for=enamad")
    return context, page


def last_certificate_event():
    from ramis.common.models import AuditEntry

    db_fresh()
    return AuditEntry.objects.filter(event__startswith="certauth.certificate_").order_by("-id").values_list(
        "event", "reason", "extra").first()


def test_a_revoked_certificate_is_refused_in_chromium(browser, topology, login_certs, shop):
    cert_path, key_path, cert = login_certs["revoked"]
    manage(topology, "ca", "revoke", "--serial", format(cert.serial_number, "x"), "--reason", "key_compromise")
    context, page = certificate_login(browser, topology, (cert_path, key_path))
    try:
        page.wait_for_url("**/enamad/login/")
        assert "گواهی شما باطل شده است" in page.locator("body").inner_text()
        shot(page, "certificate-login-revoked")
        event, reason, extra = last_certificate_event()
        assert (event, reason) == ("certauth.certificate_refused", "revoked")
        page.goto("/enamad/panel/")
        page.wait_for_url("**/enamad/login/**")  # no session
    finally:
        context.close()


def test_owner_logs_in_with_a_certificate_and_uploads_the_signed_letter(browser, topology, login_certs, shop,
                                                                        holder, tmp_path):
    from asn1crypto import x509 as a_x509

    from enamad.businesses import signed_letter
    from enamad.businesses.models import CommitmentLetter, SignedLetter
    from enamad.models import Business, BusinessStatus
    from ramis.ca.models import CertificateAuthority, IssuedCertificate
    from ramis.common.models import AuditEntry

    cert_path, key_path, login_cert = login_certs["good"]
    context, page = certificate_login(browser, topology, (cert_path, key_path))
    try:
        page.wait_for_url("**/enamad/panel/")
        event, _reason, extra = last_certificate_event()
        assert event == "certauth.certificate_login" and extra["serial"] == format(login_cert.serial_number, "x")
        shot(page, "certificate-login-enamad")

        # the letter page on the main HTTPS port: the same session (cookies are per host)
        page.goto(f"/enamad/panel/business/{shop.pk}/signed-letter/")
        command = page.locator("#agent-command").inner_text()
        tsa_url = command.split("--tsa", 1)[1].split()[0]
        assert tsa_url == f"http://{topology.host}:{topology.http_port}/ca/tsa/", command
        with page.expect_download() as download:
            page.get_by_role("link", name="دریافت تعهدنامه (PDF)").click()
        letter = Path(download.value.path()).read_bytes()
        db_fresh()
        issued = CommitmentLetter.objects.get(business=shop)
        assert issued.size == len(letter)

        # signed on the owner's machine: the token agent, the PIN typed there
        (tmp_path / "letter.pdf").write_bytes(letter)
        chain = b"".join(_pem(ca) for ca in CertificateAuthority.objects.order_by("-pk"))  # issuing, root
        (tmp_path / "chain.pem").write_bytes(chain)
        signed = holder_run(topology, holder, "sign", topology.host, "--", "--module", "/usr/lib/softhsm/libsofthsm2.so",
                            "--softhsm-dir", str(holder), "--token", TOKEN, "--chain", str(tmp_path / "chain.pem"),
                            "--tsa", tsa_url, "--in", str(tmp_path / "letter.pdf"),
                            "--out", str(tmp_path / "signed.pdf"), stdin=f"{PIN}\n")
        assert signed.returncode == 0, signed.stderr
        assert PIN not in signed.stdout + signed.stderr
        data = (tmp_path / "signed.pdf").read_bytes()
        assert_pades_b_lt(data, holder / "owner.pem")

        # a tampered copy: refused next to the field, in Persian; nothing changes
        tampered = bytearray(data)
        at = tampered.index(b"/Producer")  # inside the letter, under the signature's byte range
        tampered[at + 1] ^= 0x20
        (tmp_path / "tampered.pdf").write_bytes(bytes(tampered))
        upload(page, tmp_path / "tampered.pdf")
        page.locator("#signed-letter-upload .error, #signed-letter-upload .errorlist").first.wait_for()
        assert signed_letter.REASONS["tampered"] in page.locator("#signed-letter-upload").inner_text()
        shot(page, "signed-letter-tampered")
        db_fresh()
        assert Business.objects.get(pk=shop.pk).documents_received_at is None
        assert not SignedLetter.objects.filter(business=shop).exists()
        refusal = AuditEntry.objects.filter(event="enamad.letter.refused", target_id=str(shop.pk)).latest("id")
        assert refusal.extra["code"] == "tampered"

        # the signed letter: accepted, the postal step done, the officer still decides
        upload(page, tmp_path / "signed.pdf")
        page.wait_for_url(f"**/enamad/panel/business/{shop.pk}/")
        assert "تعهدنامه امضاشده پذیرفته شد" in page.locator("body").inner_text()
        assert page.locator("#documents-received").is_visible()  # nothing left to post
        assert "مدارک شما دریافت شد" in page.locator("body").inner_text()
        shot(page, "signed-letter-accepted")
        db_fresh()
        business = Business.objects.get(pk=shop.pk)
        assert business.documents_received_at is not None
        assert business.status == BusinessStatus.PHYSICAL_DOCUMENTS
        row = SignedLetter.objects.get(business=shop)
        owner = IssuedCertificate.objects.get(serial_hex=row.certificate_serial)
        assert owner.subject_data["national_code"] == CODE and row.signer_kind == SignedLetter.SignerKind.OWNER
        assert row.report["letter_sha256"] == issued.sha256 and row.sha256 == _sha256(data)
        assert row.report["modification_level"] == "LTA_UPDATES"  # the DSS came after the signature
        tsa = IssuedCertificate.objects.get(profile=IssuedCertificate.Profile.TSA)  # the prod TSA's
        assert row.report["tsa"] == a_x509.Certificate.load(bytes(tsa.der)).subject.human_friendly
        assert AuditEntry.objects.filter(event="enamad.letter.signed", target_id=str(shop.pk)).exists()
        page.goto(f"/enamad/panel/business/{shop.pk}/signed-letter/")
        assert page.locator("#signed-letter-accepted").is_visible()
    finally:
        context.close()


def upload(page, path: Path) -> None:
    form = page.locator("#signed-letter-upload")
    form.locator("input[type=file]").set_input_files(str(path))
    form.get_by_role("button", name="بارگذاری و بررسی امضا").click()


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _pem(ca) -> bytes:
    from cryptography import x509

    from ramis.ca import builder

    return builder.pem(x509.load_der_x509_certificate(bytes(ca.certificate_der)))


def assert_pades_b_lt(data: bytes, owner_pem: Path) -> None:
    """One PAdES signature by the owner's certificate, a signature timestamp, OCSP answers in the DSS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(data))
    (sig,) = reader.embedded_regular_signatures
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    owner = x509.load_pem_x509_certificate(owner_pem.read_bytes())
    assert sig.signer_cert.dump() == owner.public_bytes(serialization.Encoding.DER)
    assert "signature_time_stamp_token" in [a["type"].native for a in sig.signer_info["unsigned_attrs"]]  # B-T
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.ocsps  # the status answers (B-LT)
