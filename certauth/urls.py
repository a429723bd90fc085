from django.urls import path

from . import views

app_name = "certauth"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.verify_view, name="verify"),
    path("login/resend/", views.resend_view, name="resend"),
    path("logout/", views.logout_view, name="logout"),
    path("staff/login/", views.staff_login_view, name="staff_login"),
    path("staff/", views.staff_home, name="staff_home"),
]
