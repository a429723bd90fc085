from django.urls import path, re_path

from . import views

app_name = "ca"

urlpatterns = [
    path("crl/<slug:slug>.crl", views.crl, name="crl"),
    path("certs/<slug:slug>.crt", views.ca_certificate, name="certificate"),
    path("ocsp/<slug:slug>/", views.ocsp_responder, name="ocsp"),
    path("tsa/", views.tsa_endpoint, name="tsa"),
    # GET: base64 of the DER request, URL-encoded (it may contain "/" when a client does not encode it)
    re_path(r"^ocsp/(?P<slug>[-\w]+)/(?P<encoded>.+)$", views.ocsp_responder, name="ocsp-get"),
]
