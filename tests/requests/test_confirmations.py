"""Issue 13 items 6 and 7, without a browser (so without JS): a click that commits first shows a
page saying what will happen (renewal, cancelling; booking in test_appointment.py); a revocation
that cancels an open renewal says so; each product's pages carry their own menu, one logout."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from ramis.requests import services
from ramis.requests.models import CertificateRequest
from tests.conftest import login_applicant, login_staff
from tests.enamad.conftest import PASSWORD, make_account

from .conftest import advance, make_draft


@pytest.fixture
def certificate(applicant_person, office, clerk, catalogue):
    return advance(make_draft(applicant_person, office, catalogue=catalogue), "issued", clerk=clerk)


def test_renew_asks_first_and_opening_the_page_starts_nothing(applicant_client, certificate, office):
    panel = applicant_client.get(reverse("requests:panel")).content.decode()
    renew = reverse("requests:renew", args=[certificate.pk])
    assert f'href="{renew}"' in panel  # a link to the question, no longer a form that renews at once
    page = applicant_client.get(renew).content.decode()
    assert "تمدید گواهی" in page and office.name in page and "معتبر می‌ماند" in page
    assert "بله، درخواست تمدید ساخته شود" in page
    assert not CertificateRequest.objects.filter(kind="renew").exists()
    response = applicant_client.post(renew, {"confirm": "1"})
    renewal = CertificateRequest.objects.get(kind="renew")
    assert response["Location"] == reverse("requests:step", args=[renewal.pk, "details"])


def test_cancel_asks_first(applicant_client, applicant_person, office, clerk, catalogue):
    req = advance(make_draft(applicant_person, office, catalogue=catalogue), "submitted", clerk=clerk)
    detail = applicant_client.get(reverse("requests:detail", args=[req.pk])).content.decode()
    cancel = reverse("requests:cancel", args=[req.pk])
    assert re.search(f'<a [^>]*href="{cancel}"', detail)
    page = applicant_client.get(reverse("requests:cancel", args=[req.pk])).content.decode()
    assert req.reference in page and "دیگر قابل ادامه نیست" in page
    assert CertificateRequest.objects.get(pk=req.pk).status == "submitted"
    response = applicant_client.post(reverse("requests:cancel", args=[req.pk]), {"confirm": "1"}, follow=True)
    assert "درخواست لغو شد" in response.content.decode()
    assert CertificateRequest.objects.get(pk=req.pk).status == "cancelled"
    # once cancelled, the page says so and offers no button
    page = applicant_client.get(reverse("requests:cancel", args=[req.pk])).content.decode()
    assert "دیگر لغو نمی‌شود" in page and "confirm-button" not in page


def test_a_revocation_that_cancels_the_renewal_says_so(applicant_client, applicant_person, certificate):
    renewal = services.renewal_start(certificate_id=certificate.pk, actor=applicant_person.user)
    page = applicant_client.get(reverse("requests:revoke", args=[certificate.pk])).content.decode()
    assert "revoke-cancels-renewal" in page and renewal.reference in page  # warned before
    response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                     {"reason": "key_compromise", "note": "", "confirm": "on"}, follow=True)
    text = response.content.decode()
    assert "گواهی همین حالا ابطال شد." in text
    assert f"درخواست تمدید {renewal.reference} هم لغو شد" in text
    assert CertificateRequest.objects.get(pk=renewal.pk).status == "cancelled"


def test_a_revocation_without_a_renewal_mentions_none(applicant_client, certificate):
    response = applicant_client.post(reverse("requests:revoke", args=[certificate.pk]),
                                     {"reason": "key_compromise", "note": "", "confirm": "on"}, follow=True)
    text = response.content.decode()
    assert "گواهی همین حالا ابطال شد." in text and "درخواست تمدید" not in text


def _nav(html: str) -> str:
    return re.search(r'<nav class="nav" id="site-nav"[^>]*>(.*?)</nav>', html, re.S).group(1)


@pytest.mark.django_db
def test_each_product_carries_its_own_menu_and_the_home_links_both(client):
    home = client.get("/").content.decode()
    assert 'id="to-enamad"' in home and 'href="/enamad/"' in home
    ramis_nav = _nav(client.get(reverse("public:faq")).content.decode())
    assert "ورود متقاضیان" in ramis_nav and "/enamad/" not in ramis_nav
    enamad_nav = _nav(client.get(reverse("enamad:home")).content.decode())
    assert "/enamad/login/" in enamad_nav and "/enamad/signup/" in enamad_nav
    assert "ورود متقاضیان" not in enamad_nav and reverse("certauth:login") not in enamad_nav
    assert enamad_nav.count("<nav") == 0 and 'class="enamad-nav"' not in client.get("/enamad/").content.decode()


@pytest.mark.django_db
def test_a_logged_in_owner_sees_one_logout(client):
    make_account("menu.owner")
    client.post(reverse("enamad:login"), {"username": "menu.owner", "password": PASSWORD})
    for url in (reverse("enamad:panel"), reverse("enamad:home"), reverse("enamad:registry")):
        html = client.get(url).content.decode()
        assert len(re.findall(r'type="submit">خروج', html)) == 1, url
        assert reverse("certauth:logout") not in html and reverse("enamad:logout") in html


def test_applicant_and_staff_see_one_logout_each(applicant_person, enamad_expert):
    ramis = login_applicant(Client(), applicant_person).get(reverse("requests:panel")).content.decode()
    assert len(re.findall(r'type="submit">خروج', ramis)) == 1
    staff = login_staff(Client(), enamad_expert)
    for url in (reverse("enamad:staff_dashboard"), reverse("enamad:home")):
        html = staff.get(url, follow=True).content.decode()
        assert len(re.findall(r'type="submit">خروج', html)) == 1, url
        assert "میز کار اینماد" in _nav(html)
