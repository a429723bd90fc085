"""A decompression bomb on the applicant's document step: the form's Persian error, nothing saved."""

from django.urls import reverse

from tests.common.test_upload_bombs import PIXELS_ERROR, bomb


def test_applicant_document_upload(applicant_client, applicant_person, office, catalogue):
    from ramis.requests.models import RequestDocument
    from tests.requests.conftest import make_draft

    req = make_draft(applicant_person, office, catalogue=catalogue, upload=False)
    card = catalogue["requirements"]["national-card"]
    response = applicant_client.post(reverse("requests:step", args=[req.pk, "documents"]),
                                     {f"doc_{card.pk}": bomb()})
    assert response.status_code == 200
    assert PIXELS_ERROR in response.content.decode()
    assert not RequestDocument.objects.filter(request=req).exists()
