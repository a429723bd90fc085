"""An e-mail's subject is a template beside its body (``notifications/<template>_subject.txt``,
the same context): services pass only the template and the context (issue 15). The subjects
read as they did when the services wrote them."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from enamad.businesses.services import business_send_email_link
from enamad.businesses.transitions import notify_holder
from enamad.support.services import ticket_answer, ticket_open
from ramis.common import notify
from ramis.common.models import OutboxMessage
from tests.enamad.conftest import DOMAIN, png_bytes

NOTIFICATIONS = Path(settings.BASE_DIR) / "templates" / "notifications"

# A sample context with every name a subject reads; the words carry quotes and an ampersand,
# which a plain-text subject keeps as they are (no HTML escaping).
BUSINESS = SimpleNamespace(domain="shop.test", reference="E-1405-0007")
SAMPLE = {
    "business": BUSINESS, "domain": "فروشگاه.ایران", "subject_words": 'رد "تمدید" & نماد',
    "ticket": SimpleNamespace(reference="T-1405-0042"), "complaint": SimpleNamespace(tracking_code="C-91"),
    "req": SimpleNamespace(reference="R-1405-0003"), "code": "123456", "url": "http://127.0.0.1/x",
}
EXPECTED = {
    "enamad_activation": "فعال‌سازی حساب اینماد",
    "enamad_password_reset": "بازیابی گذرواژه اینماد",
    "enamad_business_email": "اینماد: تأیید رایانامه shop.test",
    "enamad_domain_code": "اینماد: کد تأییدیه فنی فروشگاه.ایران",
    "enamad_domain_released": "اینماد: تأییدیه فنی shop.test برداشته شد",
    "enamad_domain_verified": "اینماد: تأییدیه فنی shop.test",
    "enamad_status": 'اینماد: shop.test — رد "تمدید" & نماد',
    "enamad_seal_expiring": "اینماد: اعتبار نماد shop.test رو به پایان است",
    "enamad_monitor": "اینماد: پایش نماد shop.test",
    "enamad_ticket_answered": "اینماد: پاسخ تیکت T-1405-0042",
    "enamad_ticket_closed": "اینماد: تیکت T-1405-0042 بسته شد",
    "enamad_complaint_buyer": "اینماد: شکایت C-91",
    "enamad_complaint_holder": "اینماد: شکایت درباره shop.test",
    "enamad_complaint_overdue": "اینماد: شکایت بی‌پاسخ C-91",
    "request_email_code": "رمیس: کد تأیید رایانامه درخواست R-1405-0003",
}


def _emailed_templates() -> set[str]:
    """The templates the rooms' code sends by e-mail (``send_email`` and the ticket helper)."""
    found = set()
    for room in ("enamad", "ramis"):
        for path in (Path(settings.BASE_DIR) / room).rglob("*.py"):
            text = path.read_text()
            for call in re.finditer(r"(?:send_email|_tell_holder)\((.*?)\)\n", text, re.S):
                found.update(re.findall(r'template="(\w+)"', call.group(1)))
    return found


def test_every_emailed_template_has_a_one_line_subject():
    subjects = {path.name.removesuffix("_subject.txt") for path in NOTIFICATIONS.glob("*_subject.txt")}
    assert _emailed_templates() == subjects == set(EXPECTED)
    for template, expected in EXPECTED.items():
        assert (NOTIFICATIONS / f"{template}.txt").exists()  # beside its body
        rendered = notify._subject(template, SAMPLE, ())
        assert rendered == expected and "\n" not in rendered and rendered.strip() == rendered


def _last_subject(to: str) -> str:
    return OutboxMessage.objects.filter(channel="email", to=to).latest("pk").subject


@pytest.mark.django_db
def test_sent_subjects_read_as_before(account, business, enamad_expert):
    email = account.user.email
    notify_holder(business, event="enamad.business.renewed", words="renewed")
    assert _last_subject(email) == f"اینماد: {DOMAIN} — تمدید نماد"
    notify_holder(business, event="enamad.business.submitted")
    assert _last_subject(email) == f"اینماد: {DOMAIN} — {business.get_status_display()}"

    business_send_email_link(business_id=business.pk, actor=account.user)
    assert _last_subject(business.email) == f"اینماد: تأیید رایانامه {DOMAIN}"

    upload = SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png")
    ticket = ticket_open(account_id=account.pk, actor=account.user, category="general", subject="پرسش",
                         body="متن", attachments=[("other", upload)])
    ticket_answer(ticket_id=ticket.pk, actor=enamad_expert, body="پاسخ")
    message = OutboxMessage.objects.filter(channel="email", to=email).latest("pk")
    assert message.subject == f"اینماد: پاسخ تیکت {ticket.reference}" and message.template == "enamad_ticket_answered"
