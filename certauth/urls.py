from django.urls import path

from . import certificate_views, oidc, views

app_name = "certauth"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.verify_view, name="verify"),
    path("login/resend/", views.resend_view, name="resend"),
    path("certificate/", certificate_views.certificate_login, name="certificate_login"),
    path("logout/", views.logout_view, name="logout"),
    path("sso/", oidc.SSOStartView.as_view(), name="sso_start"),
    path("sso/callback/", oidc.SSOCallbackView.as_view(), name="sso_callback"),
    path("staff/login/", views.staff_login_view, name="staff_login"),
    path("staff/", views.staff_home, name="staff_home"),
]
