"""Demo data for the embedded setup: idempotent, prints the demo logins."""

from __future__ import annotations

import base64
import datetime as dt

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from certauth.models import User
from ramis.common.jalali import jalali_date
from ramis.offices.hours import DEFAULT_WEEK
from ramis.offices.models import Clerk, RegistrationOffice, Tariff, TokenModel, WorkingPeriod
from ramis.registry.models import Company, Person, Role, SEODepartment

DEMO_PASSWORD = "Ramis-demo-2026"  # noqa: S105 - published demo password, DEBUG only
# Fixed, published TOTP secrets: demo only, refused outside DEBUG.
DEMO_TOTP_KEYS = {
    "admin": "3132333435363738393031323334353637383930",
    "seo": "4a4b4c4d4e4f505152535455565758595a313233",
    "clerk": "6162636465666768696a6b6c6d6e6f7071727374",
    "clerk2": "7172737475767778797a30313233343536373839",
}
# An applicant's token to issue onto in the demo (SoftHSM, under var/softhsm): published PIN.
DEMO_TOKEN = {"label": "applicant-demo", "pin": "123456"}
APPLICANT = {
    "national_code": "0499370899", "first_name": "علی", "last_name": "رضایی", "father_name": "حسن",
    "birth_date": dt.date(1986, 7, 3), "birth_certificate_number": "12345", "mobile": "09121234567",
    "email": "ali.rezaei@example.com",
}


class Command(BaseCommand):
    help = "Load the demo data (offices, a company, an approved applicant, staff with TOTP). Idempotent."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo publishes fixed passwords and TOTP secrets: DEBUG only")
        with transaction.atomic():
            self._seed()
        self._seed_office_desk()
        self._print()
        call_command("seed_enamad_demo", stdout=self.stdout)  # e-Namad's own demo data (idempotent)

    def _staff(self, username: str, *, first: str, last: str, superuser: bool = False, perms=()) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": True,
                                         "is_superuser": superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        for codename in perms:
            app_label, code = codename.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=code))
        TOTPDevice.objects.get_or_create(user=user, name="demo", defaults={"key": DEMO_TOTP_KEYS[username],
                                                                           "confirmed": True})
        return user

    def _seed(self) -> None:
        dept, _ = SEODepartment.objects.get_or_create(name="مدیریت نظارت بر ناشران بورسی")
        company, _ = Company.objects.get_or_create(
            national_id="10380284790",
            defaults={"name": "شرکت سرمایه‌گذاری نمونه پارس", "registration_number": "123456",
                      "seo_department": dept},
        )
        tehran, _ = RegistrationOffice.objects.get_or_create(
            code="TEH01", defaults={
                "name": "دفتر ثبت‌نام مرکزی تهران", "city": "تهران",
                "address": "تهران، خیابان ولیعصر، نبش کوچه نمونه، پلاک ۱۰", "phone": "02188776655",
                "offers_in_person": True, "offers_on_site": True,
            },
        )
        RegistrationOffice.objects.get_or_create(
            code="ISF01", defaults={
                "name": "دفتر ثبت‌نام اصفهان", "city": "اصفهان", "address": "اصفهان، خیابان چهارباغ بالا، پلاک ۲۰",
                "phone": "03132221100", "offers_in_person": True, "offers_on_site": False,
            },
        )
        person, _ = Person.objects.get_or_create(national_code=APPLICANT["national_code"], defaults=APPLICANT)
        Role.objects.get_or_create(
            person=person, company=company, position=Role.Position.CEO,
            defaults={"has_signing_authority": True, "status": Role.Status.APPROVED, "letter_number": "DEMO-1"},
        )
        self._staff("admin", first="مدیر", last="سامانه", superuser=True)
        self._staff("seo", first="کارشناس", last="سازمان بورس",
                    perms=["registry.review_role", "registry.view_role", "certrequests.revoke_certificate"])
        clerk = self._staff("clerk", first="کارشناس", last="دفتر تهران")
        Clerk.objects.get_or_create(user=clerk, defaults={"office": tehran})
        isfahan = RegistrationOffice.objects.get(code="ISF01")
        clerk2 = self._staff("clerk2", first="کارشناس", last="دفتر اصفهان")
        Clerk.objects.get_or_create(user=clerk2, defaults={"office": isfahan})
        self._seed_requests_catalogue(tehran, isfahan)

    def _seed_requests_catalogue(self, *offices) -> None:
        """Office hours, tariffs, token models and document requirements (RAMIS requests)."""
        from ramis.requests.models import DocumentRequirement

        for office in offices:
            if not office.working_periods.exists():
                WorkingPeriod.objects.bulk_create([
                    WorkingPeriod(office=office, weekday=day, start=start, end=end)
                    for day, periods in DEFAULT_WEEK.items() for start, end in periods
                ])
        since = dt.date(2025, 3, 21)  # 1404/01/01
        for item, years, treasury, office_share in [
            (Tariff.Item.SIGNATURE_CERTIFICATE, 2, 1_500_000, 500_000),
            (Tariff.Item.SIGNATURE_CERTIFICATE, 1, 900_000, 300_000),
            (Tariff.Item.SEAL_CERTIFICATE, 2, 3_000_000, 1_000_000),
            (Tariff.Item.SEAL_CERTIFICATE, 1, 1_800_000, 600_000),
            (Tariff.Item.ON_SITE_SERVICE, 0, 0, 2_500_000),
        ]:
            Tariff.objects.get_or_create(item=item, validity_years=years, valid_from=since,
                                         defaults={"treasury_rials": treasury, "office_rials": office_share})
        for name, maker, price in [("ePass 2003", "Feitian", 4_500_000), ("SafeNet eToken 5110", "Thales", 7_800_000)]:
            TokenModel.objects.get_or_create(name=name, defaults={"manufacturer": maker, "price_rials": price})
        for order, (code, title, applies, required, on_renewal, help_text) in enumerate([
            ("national-card", "تصویر کارت ملی (پشت و رو)", "both", True, True, ""),
            ("birth-certificate", "صفحه اول شناسنامه یا گذرنامه", "both", True, False, ""),
            ("introduction-letter", "معرفی‌نامه شرکت با امضای صاحبان امضای مجاز", "both", True, True, ""),
            ("gazette", "آگهی روزنامه رسمی آخرین تغییرات صاحبان امضا", "seal", True, True,
             "آگهی‌ای که اختیار امضای شما را نشان می‌دهد"),
            ("power-of-attorney", "وکالت‌نامه محضری (اگر وکیل گواهی را تحویل می‌گیرد)", "both", False, True,
             "وکالت ثبتی یا مالیاتی پذیرفته نیست"),
        ], start=1):
            DocumentRequirement.objects.get_or_create(code=code, defaults={
                "title": title, "applies_to": applies, "required": required, "on_renewal": on_renewal,
                "order": order, "help_text": help_text,
            })

    def _seed_office_desk(self) -> None:
        """The clerk desk's demo: the SEO reviewers group (seo in it) and an applicant's SoftHSM
        token to issue onto (docs/reference/desk.md)."""
        from django.core.management import call_command

        call_command("reviewer_group", "seo", stdout=self.stdout)
        from tokens import TokenError
        from tokens.conf import get_manager

        self.demo_token = None
        try:
            manager = get_manager()
            if not manager.config.is_softhsm:
                return
            if DEMO_TOKEN["label"] not in {t.label for t in manager.list_tokens()}:
                manager.init_token(DEMO_TOKEN["label"], settings.OFFICE_TOKEN_SO_PIN, DEMO_TOKEN["pin"])
            self.demo_token = DEMO_TOKEN
        except TokenError as exc:
            self.stderr.write(f"demo applicant token not created: {exc}")

    def _print(self) -> None:
        a = APPLICANT
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        base = settings.PUBLIC_BASE_URL  # `make run` sets it to the address it serves (HOST, PORT)
        self.stdout.write(
            f"Applicant login ({base}/auth/login/):\n"
            f"  national code {a['national_code']}, birth date {jalali_date(a['birth_date'], persian_digits=False)}, "
            f"birth certificate no. {a['birth_certificate_number']}, mobile {a['mobile']};\n"
            f"  the SMS code appears at {base}/dev/outbox/"
        )
        self.stdout.write(f"Staff login ({base}/auth/staff/login/), password " + DEMO_PASSWORD + ":")
        for username, key in DEMO_TOTP_KEYS.items():
            secret = base64.b32encode(bytes.fromhex(key)).decode()
            self.stdout.write(f"  {username:7} TOTP secret {secret}  (current code: manage.py totp_now {username})")
        if getattr(self, "demo_token", None):
            self.stdout.write(
                f"Applicant's demo token (SoftHSM) for issuance at the clerk desk (/office/): label "
                f"{DEMO_TOKEN['label']!r}, PIN {DEMO_TOKEN['pin']} (or let the clerk initialise a new token)"
            )
