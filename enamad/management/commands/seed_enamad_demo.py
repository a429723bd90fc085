"""e-Namad demo data for the embedded setup: idempotent; DEBUG only (published passwords)."""

from __future__ import annotations

import base64
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from certauth.models import User
from enamad.businesses import services as business_services
from enamad.catalogue import ensure_defaults
from enamad.complaints import services as complaint_services
from enamad.models import (
    Account,
    Business,
    BusinessService,
    BusinessStatus,
    ChecklistItem,
    ServiceCategory,
    SurveyResponse,
)
from enamad.seals import services as seal_services
from enamad.support import services as support_services

from .enamad_groups import ensure_groups

DEMO_PASSWORD = "Enamad-demo-2026"  # noqa: S105 - published demo password, DEBUG only
DEMO_TOTP_KEYS = {
    "enamad_expert": "656e616d61642d6578706572742d6b65792d3031",
    "enamad_manager": "656e616d61642d6d616e616765722d6b65792d31",
}
APPLICANT = "demo.shop"
SEALED_DOMAIN = "ketab-nemouneh.ir"
DRAFT_DOMAIN = "shop.localhost"


class Command(BaseCommand):
    help = "Load e-Namad demo data: staff groups, expert and manager with TOTP, a shop owner with a sealed shop and a draft."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_enamad_demo publishes fixed passwords and TOTP secrets: DEBUG only")
        with transaction.atomic():
            self._seed()
        self._print()

    def _staff(self, username: str, first: str, last: str, group) -> User:
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(group)
        TOTPDevice.objects.get_or_create(user=user, name="demo", defaults={"key": DEMO_TOTP_KEYS[username],
                                                                           "confirmed": True})
        return user

    def _seed(self) -> None:
        ensure_defaults(ChecklistItem, ServiceCategory)
        groups = ensure_groups()
        expert = self._staff("enamad_expert", "کارشناس", "اینماد", groups["کارشناسان اینماد"])
        manager = self._staff("enamad_manager", "مدیر", "اینماد", groups["مدیران اینماد"])
        if Account.objects.filter(user__username=APPLICANT).exists():
            return
        now = timezone.now()
        user = User.objects.create_user(username=APPLICANT, password=DEMO_PASSWORD, email="demo.shop@example.com",
                                        first_name="مینا", last_name="احمدی")
        account = Account.objects.create(
            user=user, persona="natural", first_name="مینا", last_name="احمدی", national_code="0013542419",
            mobile="09351112233", father_name="محمد", birth_date=dt.date(1988, 5, 1), landline="02166554433",
            address="تهران، خیابان انقلاب، پلاک ۲۰", postal_code="1316943115", profile_completed_at=now,
            mobile_verified_at=now, landline_verified_at=now,
        )
        for kind in account.required_documents():
            from django.core.files.base import ContentFile

            from enamad.models import IdentityDocument

            doc = IdentityDocument(account=account, kind=kind)
            doc.file.save("demo.pdf", ContentFile(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), save=True)
        category = ServiceCategory.objects.filter(requires_licence=False).first()
        for domain, name in ((SEALED_DOMAIN, "کتاب‌فروشی نمونه"), (DRAFT_DOMAIN, "فروشگاه آزمایشی محلی")):
            business = business_services.business_create(account_id=account.pk, actor=user, data={
                "domain": domain, "name": name, "address": account.address, "postal_code": account.postal_code,
                "phone": account.landline, "email": f"info@{domain}", "answering_hours": "شنبه تا چهارشنبه ۹ تا ۱۷"})
            if domain != SEALED_DOMAIN:
                continue
            Business.objects.filter(pk=business.pk).update(
                domain_verified_at=now, domain_verified_method="meta", survey_done_at=now, email_verified_at=now,
                phone_verified_at=now, address_verified_at=now, tls_valid=True, tls_checked_at=now)
            BusinessService.objects.create(business=business, category=category, offerings="کتاب",
                                           delivery_methods="پست", payment_methods="درگاه بانکی",
                                           licence_reference="ندارد")
            SurveyResponse.objects.create(business=business, heard_from="search", platform="cms", monthly_orders=50)
            business_services.business_send(business_id=business.pk, actor=user)
            business_services.business_review(business_id=business.pk, actor=expert,
                                     results={i.pk: (True, "") for i in ChecklistItem.objects.filter(active=True)})
            business_services.business_accept_documents(business_id=business.pk, actor=expert)
            seal_services.business_final_approve(business_id=business.pk, actor=manager)
        assert Business.objects.get(domain=SEALED_DOMAIN).status == BusinessStatus.APPROVED
        self._after_the_seal(account, user, expert)

    def _after_the_seal(self, account, user, expert) -> None:
        """An answered ticket and a complaint waiting for the owner's answer (issue 7 pages)."""
        from django.core.files.base import ContentFile

        from enamad.models import Seal

        pdf = ContentFile(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", name="screenshot.pdf")
        ticket = support_services.ticket_open(account_id=account.pk, actor=user, category="seal",
                                      subject="نماد روی سایت «نامعتبر» نشان داده می‌شود",
                                      body="کد نماد را در صفحه اول گذاشتم ولی تصویر نامعتبر می‌آید.",
                                      attachments=[("other", pdf)])
        support_services.ticket_answer(ticket_id=ticket.pk, actor=expert,
                               body="referrerpolicy را از کد نماد حذف نکنید و صفحه را از دامنه ثبت‌شده باز کنید.")
        seal = Seal.objects.get(business__domain=SEALED_DOMAIN)
        complaint_services.complaint_file(seal_id=seal.pk, data={
            "complaint_type": "delay", "payment_reference": "1403123456", "contact_name": "علی خریدار",
            "description": "سفارش دو هفته پیش پرداخت شد و هنوز ارسال نشده است.", "contact_mobile": "09131234567"})

    def _print(self) -> None:
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(self.style.SUCCESS("e-Namad demo data ready."))
        self.stdout.write(f"Shop owner login ({base}/enamad/login/): {APPLICANT} / {DEMO_PASSWORD}")
        self.stdout.write(f"  sealed shop {SEALED_DOMAIN}; draft {DRAFT_DOMAIN}; reverse SMS and IVR at {base}/enamad/dev/operator/")
        self.stdout.write(f"e-Namad staff ({base}/auth/staff/login/ then {base}/enamad/staff/), password {DEMO_PASSWORD}:")
        for username, key in DEMO_TOTP_KEYS.items():
            secret = base64.b32encode(bytes.fromhex(key)).decode()
            self.stdout.write(f"  {username:15} TOTP secret {secret}  (current code: manage.py totp_now {username})")
