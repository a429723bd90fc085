from django.urls import path

from . import certificate_views, views

app_name = "requests"

urlpatterns = [
    path("", views.panel, name="panel"),
    path("messages/", views.messages_page, name="messages"),
    path("roles/<int:role_id>/new/", views.request_new, name="new"),
    path("requests/<int:pk>/", views.request_detail, name="detail"),
    path("requests/<int:pk>/step/<slug:step>/", views.request_step, name="step"),
    path("requests/<int:pk>/submit/", views.request_submit, name="submit"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="cancel"),
    path("requests/<int:pk>/pay/", views.payment_start, name="pay"),
    path("requests/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt"),
    path("requests/<int:pk>/appointment/", views.appointment, name="appointment"),
    path("requests/<int:pk>/appointment/slip/", views.appointment_slip, name="appointment_slip"),
    path("requests/<int:pk>/appointment.ics", views.appointment_calendar, name="appointment_ics"),
    path("documents/<int:pk>/", views.document_view, name="document"),
    path("certificates/<int:pk>/", certificate_views.certificate_page, name="certificate"),
    path("certificates/<int:pk>/certificate.<slug:fmt>", certificate_views.certificate_download,
         name="certificate_download"),
    path("certificates/<int:pk>/details.pdf", certificate_views.certificate_details_pdf, name="certificate_pdf"),
    path("certificates/<int:pk>/request-summary.pdf", certificate_views.request_summary_pdf,
         name="request_summary_pdf"),
    path("certificates/<int:pk>/renew/", views.certificate_renew, name="renew"),
    path("certificates/<int:pk>/revoke/", views.certificate_revoke, name="revoke"),
]
