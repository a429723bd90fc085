"""Issue 16: issuance's database round trips, pinned — the certificate row, its pre-signed OCSP
answers in one bulk INSERT and the audit entry, in one transaction — and the same for the 1st and
the 21st certificate of a CA. Every certificate is still linted: a bad field is still refused."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ramis.ca import profiles, responder, services
from ramis.ca.lint import LintError
from ramis.ca.models import IssuedCertificate

from .conftest import SIGNATURE_SUBJECT, make_csr


@pytest.fixture
def issuing(db):
    responder.clear_cache()
    yield services.ca_init(actor=None)[1]
    responder.clear_cache()


def _issue():
    _key, csr = make_csr()
    return services.certificate_issue(profile="signature", csr_pem=csr, subject=SIGNATURE_SUBJECT, actor=None)


def _statements(ctx) -> list[str]:
    return [q["sql"].split()[0].upper() for q in ctx.captured_queries]


def test_issuance_costs_a_fixed_number_of_round_trips(issuing, django_assert_num_queries):
    _issue()
    with CaptureQueriesContext(connection) as first:
        _issue()
    for _ in range(19):
        _issue()
    with django_assert_num_queries(len(first.captured_queries)):
        _issue()
    kinds = _statements(first)
    assert kinds.count("INSERT") == 3, kinds  # the certificate, its OCSP answers (one bulk INSERT), the audit entry
    assert len(kinds) <= ROUND_TRIPS, kinds


def test_a_certificate_with_a_bad_field_is_still_refused_and_nothing_is_stored(issuing, monkeypatch):
    broken = dataclasses.replace(profiles.get_profile("signature"),
                                 key_usage=frozenset({"digital_signature", "key_cert_sign"}))
    monkeypatch.setattr(profiles, "get_profile", lambda name: broken)
    before = IssuedCertificate.objects.count()
    with pytest.raises(LintError, match="keyUsage"):
        _issue()
    assert IssuedCertificate.objects.count() == before


# The CA row, the transaction's start and end (a savepoint here, BEGIN/COMMIT in production) and the
# three INSERTs. The audit trail's sealing after commit is not counted (it runs on_commit, which a
# test's transaction never reaches; docs/operator/audit.md).
ROUND_TRIPS = 6


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_on_postgresql_the_rows_are_one_statement(settings):
    """The signing worker calls the service outside any transaction: on PostgreSQL the certificate,
    its two answers and its audit entry are one statement (atomic by itself), after the CA's row;
    on SQLite one INSERT each in a transaction. Either way the rows point to each other and the
    audit entry is sealed after commit."""
    from ramis.common import audit
    from ramis.common.models import AuditEntry

    responder.clear_cache()
    services.ca_init(actor=None)  # its entries sealed at each commit (the suite's delay: none)
    # From here sealed by the sealer thread on its own connection, as in production; each issuance's
    # entry before the next begins. The suite's SQLite database is in memory with a shared cache,
    # where the sealer's write lock fails a BEGIN at once ("database table is locked") instead of
    # making it wait as a file database does (20 s).
    settings.AUDIT_SEAL_DELAY_MS = 20
    _issue()
    audit.stop_delayed_sealer()
    with CaptureQueriesContext(connection) as ctx:
        cert = _issue()
    kinds = _statements(ctx)
    if connection.vendor == "postgresql":
        assert kinds == ["SELECT", "WITH"], kinds
    else:
        assert kinds.count("INSERT") == 3, kinds
    assert sorted(cert.ocsp_responses.values_list("hash_algorithm", flat=True)) == ["sha1", "sha256"]
    audit.stop_delayed_sealer()
    entry = AuditEntry.objects.get(target_type="ca.issuedcertificate", target_id=str(cert.pk))
    assert entry.event == "certificate.issued" and entry.seq is not None and entry.entry_hash
    responder.clear_cache()
