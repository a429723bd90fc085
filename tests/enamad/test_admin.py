"""The Django admin for e-Namad: nothing there changes a verified identity without a service
and its audit entry."""

import pytest

from enamad.models import Account
from tests.conftest import make_staff
from tests.enamad.conftest import make_account, staff_client

pytestmark = pytest.mark.django_db

IDENTITY = {"persona": "legal", "first_name": "مریم", "last_name": "احمدی", "national_code": "0013542419",
            "mobile": "09351112233", "landline": "03132221100", "father_name": "حسن", "birth_date": "1980-01-01",
            "company_name": "شرکت دیگر", "legal_national_id": "10380284790", "registration_number": "99",
            "organisation_name": "", "letter_number": "", "address": "اصفهان", "postal_code": "8174673111"}


@pytest.fixture
def admin_client(client):
    return staff_client(client, make_staff("boss", superuser=True))


def test_account_change_form_does_not_change_the_identity(admin_client):
    account = make_account(verified=False)
    before = Account.objects.filter(pk=account.pk).values().get()
    url = f"/admin/enamad/account/{account.pk}/change/"
    response = admin_client.post(url, {**IDENTITY, "user": account.user_id, "documents-TOTAL_FORMS": "0",
                                       "documents-INITIAL_FORMS": "0", "documents-MIN_NUM_FORMS": "0",
                                       "documents-MAX_NUM_FORMS": "1000", "_save": "ذخیره"})
    assert response.status_code in {200, 302}
    assert Account.objects.filter(pk=account.pk).values().get() == before
    page = admin_client.get(url).content.decode()
    assert 'name="mobile"' not in page and 'name="national_code"' not in page


def test_accounts_are_not_added_in_the_admin(admin_client):
    assert admin_client.get("/admin/enamad/account/add/").status_code == 403
