"""The businesses room's pages under /enamad/ (namespace ``enamad``, joined in ``enamad/urls.py``):
the holder's file, the commitment letter, the staff desk's file lists and files, and the
callbacks of the SMS gateway and the IVR (with the development operator)."""

from django.urls import path

from . import hooks, staff_views, views

urlpatterns = [
    path("panel/business/new/", views.business_new, name="business_new"),
    path("panel/business/<int:pk>/edit/", views.business_edit, name="business_edit"),
    path("panel/business/<int:pk>/services/", views.service_details, name="services"),
    path("panel/business/<int:pk>/survey/", views.survey, name="survey"),
    path("panel/business/<int:pk>/contacts/", views.contacts, name="contacts"),
    path("panel/business/<int:pk>/send/", views.send, name="send"),
    path("panel/business/<int:pk>/activity/", views.activity, name="activity"),
    path("panel/business/<int:pk>/commitment.pdf", views.commitment_pdf, name="commitment"),
    path("panel/business/<int:pk>/signed-letter/", views.sign_letter, name="sign_letter"),
    path("panel/business/<int:pk>/documents-resent/", views.resend_documents, name="resend_documents"),
    path("confirm-email/<str:token>/", views.confirm_email, name="confirm_email"),
    # staff: the file lists and files (the file's page is the portal's)
    path("staff/", staff_views.queue, name="staff_queue"),
    path("staff/business/<int:pk>/licence/", staff_views.licence, name="staff_licence"),
    path("staff/documents/<int:pk>/", staff_views.document, name="staff_document"),
    path("staff/signed-letters/<int:pk>/", staff_views.staff_signed_letter, name="staff_signed_letter"),
    # callbacks of the SMS gateway and the IVR, and the development operator
    path("hooks/sms/", hooks.inbound_sms, name="hook_sms"),
    path("hooks/ivr/", hooks.inbound_ivr, name="hook_ivr"),
    path("dev/operator/", hooks.dev_operator, name="dev_operator"),
]
