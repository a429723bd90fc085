from django.urls import path

from . import hooks, staff_views, views

app_name = "enamad"

urlpatterns = [
    path("", views.home, name="home"),
    path("registry/", views.registry, name="registry"),
    path("rules/", views.rules, name="rules"),
    path("requirements/", views.requirements, name="requirements"),
    # account
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    path("activate/<str:token>/", views.activate, name="activate"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("panel/", views.panel, name="panel"),
    path("panel/profile/", views.profile, name="profile"),
    path("panel/documents/", views.documents, name="documents"),
    path("panel/documents/<int:pk>/", views.document_file, name="document_file"),
    path("panel/identity/", views.identity, name="identity"),
    # businesses
    path("panel/business/new/", views.business_new, name="business_new"),
    path("panel/business/<int:pk>/", views.business_detail, name="business"),
    path("panel/business/<int:pk>/edit/", views.business_edit, name="business_edit"),
    path("panel/business/<int:pk>/technical/", views.technical, name="technical"),
    path("panel/business/<int:pk>/services/", views.business_services, name="services"),
    path("panel/business/<int:pk>/survey/", views.survey, name="survey"),
    path("panel/business/<int:pk>/contacts/", views.contacts, name="contacts"),
    path("panel/business/<int:pk>/send/", views.send, name="send"),
    path("panel/business/<int:pk>/activity/", views.activity, name="activity"),
    path("panel/business/<int:pk>/commitment.pdf", views.commitment_pdf, name="commitment"),
    path("panel/business/<int:pk>/documents-resent/", views.resend_documents, name="resend_documents"),
    path("panel/business/<int:pk>/seal/", views.seal_code, name="seal_code"),
    path("panel/business/<int:pk>/renew/", views.renew, name="renew"),
    path("confirm-email/<str:token>/", views.confirm_email, name="confirm_email"),
    # staff
    path("staff/", staff_views.queue, name="staff_queue"),
    path("staff/business/<int:pk>/", staff_views.business, name="staff_business"),
    path("staff/business/<int:pk>/review/", staff_views.review, name="staff_review"),
    path("staff/business/<int:pk>/licence/", staff_views.licence, name="staff_licence"),
    path("staff/business/<int:pk>/<str:name>/", staff_views.action, name="staff_action"),
    path("staff/documents/<int:pk>/", staff_views.document, name="staff_document"),
    # callbacks of the SMS gateway and the IVR, and the development operator
    path("hooks/sms/", hooks.inbound_sms, name="hook_sms"),
    path("hooks/ivr/", hooks.inbound_ivr, name="hook_ivr"),
    path("dev/operator/", hooks.dev_operator, name="dev_operator"),
]
