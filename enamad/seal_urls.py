"""``/trustseal/?id=N&Code=C`` (the seal page) and ``/trustseal/logo/?id=N&Code=C`` (N22)."""

from django.urls import path

from . import seal_views

app_name = "seal"

urlpatterns = [
    path("", seal_views.page, name="page"),
    path("logo/", seal_views.logo, name="logo"),
]
