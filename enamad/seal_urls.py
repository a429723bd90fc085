"""``/trustseal/?id=N&Code=C`` (the seal page), ``/trustseal/logo/?id=N&Code=C`` (N22) and the
public complaint form and its follow-up (N23)."""

from django.urls import path

from . import seal_views

app_name = "seal"

urlpatterns = [
    path("", seal_views.page, name="page"),
    path("logo/", seal_views.logo, name="logo"),
    path("complaint/", seal_views.complaint, name="complaint"),
    path("complaint/filed/", seal_views.complaint_filed, name="complaint_filed"),
    path("complaint/status/", seal_views.complaint_status, name="complaint_status"),
]
