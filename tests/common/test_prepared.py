"""ramis/common/prepared.py: the rows and instances are the ORM's, on the database the suite runs on."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db.models import signals
from django.forms.models import model_to_dict
from django.utils import timezone

from ramis.ca.models import CertificateAuthority, IssuedCertificate, OCSPResponse
from ramis.common import prepared
from ramis.common.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entry(**kw) -> AuditEntry:
    fields = {"created_at": timezone.now().replace(microsecond=123456), "actor": None, "actor_repr": "system",
                  "target_type": "ca.issuedcertificate", "target_id": "7", "target_repr": "سریال ۷", "event": "certificate.issued",
                  "old": "", "new": "active", "reason": "", "extra": {"serial": "7f", "lint": ["W (WARNING) at x"]},
                  "ip": None, "user_agent": "Mozilla/5.0", "request_id": "r-1"}
    fields.update(kw)
    return AuditEntry(**fields)


def _row(model, pk) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


def test_an_inserted_row_is_the_one_save_writes():
    by_orm, by_prepared = _entry(), _entry()
    by_orm.save()
    prepared.insert([by_prepared])
    assert by_prepared.pk is not None and by_prepared.pk != by_orm.pk
    assert by_prepared._state.adding is False
    assert _row(AuditEntry, by_prepared.pk) == _row(AuditEntry, by_orm.pk)
    again = _entry(event="certificate.revoked", extra={})  # the second call reuses the SQL with new values
    prepared.insert([again])
    assert AuditEntry.objects.get(pk=again.pk).event == "certificate.revoked"
    assert AuditEntry.objects.get(pk=again.pk).extra == {}


def _ca() -> CertificateAuthority:
    return CertificateAuthority.objects.create(
        slug="issuing", subject="CN=آزمون", token_label="t", token_serial="1", key_id="ab", key_type="rsa2048",
        certificate_der=b"\x30\x03\x02\x01\x01", serial_hex="1", sha256="0" * 64,
        not_before=timezone.now(), not_after=timezone.now() + dt.timedelta(days=1),
        ocsp_key_id="cd", ocsp_certificate_der=b"\x30\x00")


def test_a_looked_up_instance_is_the_one_the_orm_builds():
    ca = _ca()
    got = prepared.get_or_none(CertificateAuthority, slug="issuing")
    want = CertificateAuthority.objects.filter(slug="issuing").first()
    assert got is not None and got.pk == ca.pk
    assert model_to_dict(got) == model_to_dict(want)
    assert bytes(got.certificate_der) == b"\x30\x03\x02\x01\x01"
    assert got.not_after == want.not_after and got.not_after.tzinfo is not None
    assert got.created_at == want.created_at
    assert prepared.get_or_none(CertificateAuthority, slug="root") is None


def _cert(ca, serial: str) -> IssuedCertificate:
    now = timezone.now()
    return IssuedCertificate(ca=ca, serial_hex=serial, profile="seal", subject="CN=x", subject_data={"common_name": "ایکس"},
                             der=b"\x30\x00", sha1="1" * 40, sha256="2" * 64, not_before=now,
                             not_after=now + dt.timedelta(days=365))


def test_a_certificate_and_its_answers_upserted():
    ca = _ca()
    cert = _cert(ca, "abc")
    prepared.insert([cert])
    assert IssuedCertificate.objects.get(pk=cert.pk).subject_data == {"common_name": "ایکس"}
    assert IssuedCertificate.objects.get(pk=cert.pk).created_at is not None  # auto_now_add, as save() sets it
    now = timezone.now().replace(microsecond=0)

    def answers(status: str, der: bytes) -> list[OCSPResponse]:
        return [OCSPResponse(ca=ca, certificate=cert, hash_algorithm=h, issuer_name_hash="aa", issuer_key_hash="bb",
                             serial_hex="abc", cert_status=status, der=der, this_update=now,
                             next_update=now + dt.timedelta(hours=1)) for h in ("sha1", "sha256")]

    conflict = (("hash_algorithm", "issuer_key_hash", "issuer_name_hash", "serial_hex"),
                ("der", "cert_status", "this_update", "next_update", "certificate"))
    prepared.insert(answers("good", b"\x01"), update_conflicts=conflict)
    prepared.insert(answers("revoked", b"\x02"), update_conflicts=conflict)
    rows = list(OCSPResponse.objects.filter(certificate=cert).values_list("hash_algorithm", "cert_status", "der"))
    assert sorted((h, s, bytes(d)) for h, s, d in rows) == [("sha1", "revoked", b"\x02"), ("sha256", "revoked", b"\x02")]


def test_a_model_with_save_receivers_goes_through_the_orm():
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.event, created))

    signals.post_save.connect(receiver, sender=AuditEntry)
    try:
        entry = _entry(event="listened")
        prepared.insert([entry])
    finally:
        signals.post_save.disconnect(receiver, sender=AuditEntry)
    assert heard == [("listened", True)]
    assert AuditEntry.objects.filter(pk=entry.pk, event="listened").exists()


# -- a row and the rows that point to it, in one statement (PostgreSQL) -------------------------------------


def _linked_rows(ca):
    cert = IssuedCertificate(ca=ca, serial_hex="abc123", profile="seal", subject="CN=مهر", subject_data={"cn": "مهر"},
                             der=b"\x30\x00", sha1="1" * 40, sha256="2" * 64, not_before=timezone.now(),
                             not_after=timezone.now() + dt.timedelta(days=1), request_ref="R-1")
    answers = [OCSPResponse(ca=ca, certificate=cert, hash_algorithm=h, issuer_name_hash="aa", issuer_key_hash="bb",
                            serial_hex="abc123", cert_status="good", der=b"\x30\x01" + h.encode(),
                            this_update=timezone.now(), next_update=timezone.now() + dt.timedelta(days=1))
               for h in ("sha1", "sha256")]
    entry = _entry(target_id="not yet")
    upsert = (("hash_algorithm", "issuer_key_hash", "issuer_name_hash", "serial_hex"), ("der", "certificate"))
    return cert, answers, entry, [prepared.Link(answers, "certificate", update_conflicts=upsert),
                                  prepared.Link([entry], "target_id", as_text=True)]


@pytest.mark.django_db(transaction=True)
def test_a_row_and_the_rows_pointing_to_it_in_one_statement(django_assert_num_queries):
    from django.db import connection

    ca = _ca()
    cert, answers, entry, links = _linked_rows(ca)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 0) as ctx:
        written = prepared.insert_linked(cert, links)
    if connection.vendor != "postgresql":  # no data-modifying WITH: nothing written, the caller writes them
        assert written is False and not IssuedCertificate.objects.exists()
        return
    assert written is True and ctx.captured_queries[0]["sql"].startswith('WITH "ramis_parent" AS (INSERT INTO')
    assert cert.pk == IssuedCertificate.objects.get(serial_hex="abc123").pk and cert._state.adding is False
    stored = OCSPResponse.objects.filter(certificate_id=cert.pk).order_by("hash_algorithm")
    assert [(a.hash_algorithm, bytes(a.der)) for a in stored] == [("sha1", b"\x30\x01sha1"), ("sha256", b"\x30\x01sha256")]
    assert all(a.certificate_id == cert.pk for a in answers) and entry.target_id == str(cert.pk)
    row = AuditEntry.objects.get(event="certificate.issued")
    assert row.target_id == str(cert.pk) and row.extra == entry.extra and row.target_repr == "سریال ۷"
    # the second time, the same SQL with new values; a clash on the certificate's serial writes nothing at all
    again, answers2, entry2, links2 = _linked_rows(ca)
    again.serial_hex = answers2[0].serial_hex = answers2[1].serial_hex = "def456"
    assert prepared.insert_linked(again, links2) and again.pk != cert.pk
    clash, answers3, _entry3, links3 = _linked_rows(ca)
    for answer in answers3:
        answer.serial_hex = "fresh"
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        prepared.insert_linked(clash, links3)  # serial abc123 again
    assert OCSPResponse.objects.filter(serial_hex="fresh").count() == 0
    assert AuditEntry.objects.count() == 2 and IssuedCertificate.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_linked_rows_go_through_the_orm_when_someone_listens(monkeypatch):
    ca = _ca()
    cert, _answers, _entry_, links = _linked_rows(ca)

    def receiver(**kwargs):
        pass

    signals.post_save.connect(receiver, sender=AuditEntry)
    try:
        assert prepared.insert_linked(cert, links) is False
    finally:
        signals.post_save.disconnect(receiver, sender=AuditEntry)
    assert not IssuedCertificate.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_write_linked_writes_the_rows_pointing_to_each_other_on_either_path():
    """Outside a transaction on PostgreSQL one statement; on SQLite, or inside a caller's
    transaction, one INSERT each in a savepoint — the same rows either way, and a clash in a
    linked row leaves none of them."""
    from django.db import IntegrityError, transaction

    ca = _ca()
    for inside in (False, True):
        cert, answers, entry, links = _linked_rows(ca)
        cert.serial_hex = answers[0].serial_hex = answers[1].serial_hex = f"{int(inside)}abc"
        with transaction.atomic() if inside else contextlib.nullcontext():
            prepared.write_linked(cert, links)
        stored = IssuedCertificate.objects.get(serial_hex=f"{int(inside)}abc")
        assert cert.pk == stored.pk and all(a.certificate_id == cert.pk and a.certificate is cert for a in answers)
        assert sorted(stored.ocsp_responses.values_list("hash_algorithm", flat=True)) == ["sha1", "sha256"]
        assert AuditEntry.objects.filter(target_id=str(cert.pk), event="certificate.issued").count() == 1
    before = (IssuedCertificate.objects.count(), OCSPResponse.objects.count(), AuditEntry.objects.count())
    clash, answers, _entry, links = _linked_rows(ca)
    clash.serial_hex = "2abc"
    for answer in answers:  # the answers of certificate 0abc again: the upsert's target, so made unique
        answer.serial_hex = "0abc"
    links[0] = prepared.Link(answers, "certificate")  # a plain INSERT: the answers clash
    with pytest.raises(IntegrityError):
        prepared.write_linked(clash, links)
    assert (IssuedCertificate.objects.count(), OCSPResponse.objects.count(), AuditEntry.objects.count()) == before
