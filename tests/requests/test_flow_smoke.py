from ramis.requests.models import CertificateRequest

from .conftest import advance, make_draft


def test_walk_to_issued(applicant_person, office, clerk, catalogue):
    req = make_draft(applicant_person, office, catalogue=catalogue)
    cert = advance(req, "issued", clerk=clerk)
    assert CertificateRequest.objects.get(pk=req.pk).status == "issued"
    assert cert.status == "active"
