"""The seals room's pages: the holder's under /enamad/ (``urlpatterns``, namespace ``enamad``,
joined in ``enamad/urls.py``) and the seal's public face under /trustseal/ (``public_urlpatterns``,
namespace ``seal``, joined in ``enamad/seal_urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("panel/business/<int:pk>/", views.business_detail, name="business"),
    path("panel/business/<int:pk>/technical/", views.technical, name="technical"),
    path("panel/business/<int:pk>/seal/", views.seal_code, name="seal_code"),
    path("panel/business/<int:pk>/renew/", views.renew, name="renew"),
]

public_urlpatterns = [
    path("", views.page, name="page"),
    path("logo/", views.logo, name="logo"),
]
