from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from ramis import metrics, views
from ramis.common.views import dev_outbox

# The Django admin asks for a verified OTP device (staff TOTP) as well as a password.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "مدیریت سامانه رمیس و نماد اعتماد"
admin.site.site_title = "مدیریت"
_admin_password_login = admin.site.login


def _admin_login(request, extra_context=None):
    """With CERTAUTH_REQUIRED_FOR_STAFF the admin's own password form is no way around it: its
    login is the staff login (password + TOTP, or the certificate), back to the admin after."""
    if settings.CERTAUTH_REQUIRED_FOR_STAFF:
        return redirect_to_login(request.GET.get("next") or "/admin/", "certauth:staff_login")
    return _admin_password_login(request, extra_context)


admin.site.login = _admin_login

# A database or Redis outage raised outside a view gets the Persian 503 page too (ramis/common/outage.py).
handler500 = "ramis.common.outage.server_error"

public_patterns = (
    [
        path("", views.home, name="home"),
        path("faq/", views.faq, name="faq"),
        path("guide.pdf", views.guide_pdf, name="guide"),
    ],
    "public",
)

urlpatterns = [
    path("trustseal/", include("enamad.seal_urls")),
    path("", include(public_patterns)),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("auth/", include("certauth.urls")),
    path("panel/support/", include("enamad.applicant_urls")),  # e-Namad's tickets, for RAMIS applicants
    path("panel/", include("ramis.requests.urls")),
    path("pay/", include("ramis.requests.payment_urls")),
    path("offices/", include("ramis.offices.urls")),
    path("office/", include("ramis.desk.urls")),
    path("registry/", include("ramis.registry.urls")),
    path("captcha/", include("captcha.urls")),
    path("ca/", include("ramis.ca.urls")),
    path("enamad/", include("enamad.urls")),
    path("dev/outbox/", dev_outbox, name="dev_outbox"),
    path("admin/", admin.site.urls),
]
# The bank backend (ramis.requests.payments) mounts none of az-iranian-bank-gateways' URLs: the page
# that posts the payer on to the bank is the Pay button's answer (its go-to-bank view would post a
# form to whatever address its query string names), the bank returns to our payments:bank_return.
