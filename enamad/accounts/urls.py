"""The accounts room's pages under /enamad/ (namespace ``enamad``, joined in ``enamad/urls.py``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    path("activate/<str:token>/", views.activate, name="activate"),
    path("login/", views.login_view, name="login"),
    # getting back in: password reset by e-mail and resend activation (issue 13, item 8)
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("activation/resend/", views.resend_activation, name="resend_activation"),
    path("logout/", views.logout_view, name="logout"),
    path("panel/profile/", views.profile, name="profile"),
    path("panel/documents/", views.documents, name="documents"),
    path("panel/documents/<int:pk>/", views.document_file, name="document_file"),
    path("panel/identity/", views.identity, name="identity"),
]
