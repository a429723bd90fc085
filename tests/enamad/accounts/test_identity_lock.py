"""N3, N4, N20: once a business has been sent, the identity it was reviewed with is fixed — the
profile and the documents refuse changes (they go by ticket); before that a replaced document
keeps its old file and each replacement is audited."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from enamad.accounts.services import account_update_profile, account_upload_document
from enamad.models import Account, Business, BusinessStatus, IdentityDocument
from ramis.common.errors import InvalidTransition
from ramis.common.models import AuditEntry
from tests.enamad.conftest import PDF_BYTES, make_account, png_bytes
from tests.enamad.seals.test_seal import issue_seal

pytestmark = pytest.mark.django_db

PROFILE = {"first_name": "مهدی", "last_name": "جعلی", "father_name": "علی", "birth_date": "1370/01/01",
           "landline": "03132221100", "address": "اصفهان", "postal_code": "8174673111"}


def seal_page(seal) -> str:
    """What a buyer sees (a fresh, anonymous browser)."""
    return Client().get(f"/trustseal/?id={seal.number}&Code={seal.code}").content.decode()


def identity(account) -> dict:
    return Account.objects.filter(pk=account.pk).values().get()


def test_profile_post_after_approval_is_refused_and_the_seal_page_is_unchanged(owner_client, account, business):
    seal = issue_seal(business)
    before_page, before = seal_page(seal), identity(account)
    assert account.full_name in before_page

    response = owner_client.post("/enamad/panel/profile/", PROFILE, follow=True)
    assert seal_page(seal) == before_page
    assert identity(account) == before
    assert "تیکت «تغییر اطلاعات هویتی»" in response.content.decode()
    with pytest.raises(InvalidTransition) as info:
        account_update_profile(account_id=account.pk, actor=account.user, data={"first_name": "مهدی"})
    assert "تیکت" in info.value.message
    assert not AuditEntry.objects.filter(event="enamad.account.profile_updated").exists()

    # The page still shows the profile, read-only, and says why.
    page = owner_client.get("/enamad/panel/profile/").content.decode()
    assert 'id="identity-locked"' in page and "disabled" in page and ">ذخیره</button>" not in page


@pytest.mark.parametrize("status", [BusinessStatus.UNDER_REVIEW, BusinessStatus.PHYSICAL_DOCUMENTS,
                                    BusinessStatus.APPROVED, BusinessStatus.EXPIRED, BusinessStatus.REVOKED])
def test_documents_are_locked_once_a_business_is_past_draft(owner_client, account, business, status):
    Business.objects.filter(pk=business.pk).update(status=status)
    document = IdentityDocument.objects.get(account=account, kind="national_card")
    name = document.file.name
    upload = SimpleUploadedFile("card.pdf", PDF_BYTES)
    response = owner_client.post("/enamad/panel/documents/", {"kind": "national_card", "file": upload}, follow=True)
    assert "تیکت" in response.content.decode()
    document.refresh_from_db()
    assert document.file.name == name
    with pytest.raises(InvalidTransition):
        account_upload_document(account_id=account.pk, actor=account.user, kind="national_card",
                                upload=SimpleUploadedFile("card.pdf", PDF_BYTES))
    assert 'id="identity-locked"' in owner_client.get("/enamad/panel/documents/").content.decode()


@pytest.mark.parametrize("status", [BusinessStatus.DRAFT, BusinessStatus.DEFICIENT])
def test_identity_can_change_while_every_business_is_draft_or_deficient(owner_client, account, business, status):
    Business.objects.filter(pk=business.pk).update(status=status)
    response = owner_client.post("/enamad/panel/profile/", PROFILE, follow=True)
    assert "ثبت اطلاعات با موفقیت انجام شد" in response.content.decode()
    assert Account.objects.get(pk=account.pk).first_name == "مهدی"


def test_a_replaced_document_keeps_its_old_file_and_is_audited(owner_client, db):
    account = make_account("newshop", verified=False)
    owner_client.force_login(account.user)
    owner_client.post("/enamad/panel/documents/",
                      {"kind": "national_card", "file": SimpleUploadedFile("card.png", png_bytes())})
    first = IdentityDocument.objects.get(account=account).file.name
    owner_client.post("/enamad/panel/documents/",
                      {"kind": "national_card", "file": SimpleUploadedFile("card.pdf", PDF_BYTES)})
    document = IdentityDocument.objects.get(account=account)
    assert document.file.name != first and document.file.name.endswith(".pdf")
    assert document.file.storage.exists(first)  # the reviewed version is not deleted
    entry = AuditEntry.objects.get(event="enamad.account.document_replaced")
    assert (entry.new, entry.extra["previous_file"], entry.extra["file"]) == ("national_card", first,
                                                                              document.file.name)
    assert AuditEntry.objects.filter(event="enamad.account.document_uploaded").count() == 1
