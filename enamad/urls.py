from django.urls import path

from . import hooks, letter_views, staff_views, support_views, views

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
    path("panel/messages/", views.messages_page, name="messages"),
    path("panel/profile/", views.profile, name="profile"),
    path("panel/documents/", views.documents, name="documents"),
    path("panel/documents/<int:pk>/", views.document_file, name="document_file"),
    path("panel/identity/", views.identity, name="identity"),
    # businesses
    path("panel/business/new/", views.business_new, name="business_new"),
    path("panel/business/<int:pk>/", views.business_detail, name="business"),
    path("panel/business/<int:pk>/edit/", views.business_edit, name="business_edit"),
    path("panel/business/<int:pk>/technical/", views.technical, name="technical"),
    path("panel/business/<int:pk>/services/", views.service_details, name="services"),
    path("panel/business/<int:pk>/survey/", views.survey, name="survey"),
    path("panel/business/<int:pk>/contacts/", views.contacts, name="contacts"),
    path("panel/business/<int:pk>/send/", views.send, name="send"),
    path("panel/business/<int:pk>/activity/", views.activity, name="activity"),
    path("panel/business/<int:pk>/commitment.pdf", letter_views.commitment_pdf, name="commitment"),
    path("panel/business/<int:pk>/signed-letter/", letter_views.sign_letter, name="sign_letter"),
    path("panel/business/<int:pk>/documents-resent/", views.resend_documents, name="resend_documents"),
    path("panel/business/<int:pk>/seal/", views.seal_code, name="seal_code"),
    path("panel/business/<int:pk>/renew/", support_views.renew, name="renew"),
    # support tickets and change requests (N19, N20)
    path("panel/tickets/", support_views.tickets, name="tickets"),
    path("panel/tickets/new/", support_views.ticket_new, name="ticket_new"),
    path("panel/tickets/new/<str:category>/", support_views.ticket_new, name="ticket_new_category"),
    path("panel/tickets/<int:pk>/", support_views.ticket_detail, name="ticket"),
    path("panel/tickets/<int:pk>/close/", support_views.ticket_close, name="ticket_close"),
    path("panel/tickets/attachments/<int:pk>/", support_views.ticket_attachment, name="ticket_attachment"),
    # complaints against the holder's businesses (N23)
    path("panel/complaints/", support_views.complaints, name="complaints"),
    path("panel/complaints/<int:pk>/", support_views.complaint_detail, name="complaint"),
    path("panel/complaints/attachments/<int:pk>/", support_views.complaint_attachment,
         name="complaint_attachment"),
    path("confirm-email/<str:token>/", views.confirm_email, name="confirm_email"),
    # staff
    path("staff/", staff_views.queue, name="staff_queue"),
    path("staff/business/<int:pk>/", staff_views.business, name="staff_business"),
    path("staff/business/<int:pk>/review/", staff_views.review, name="staff_review"),
    path("staff/business/<int:pk>/licence/", staff_views.licence, name="staff_licence"),
    path("staff/business/<int:pk>/<str:name>/", staff_views.action, name="staff_action"),
    path("staff/documents/<int:pk>/", staff_views.document, name="staff_document"),
    path("staff/signed-letters/<int:pk>/", letter_views.staff_signed_letter, name="staff_signed_letter"),
    path("staff/dashboard/", staff_views.dashboard, name="staff_dashboard"),
    path("staff/tickets/", staff_views.tickets, name="staff_tickets"),
    path("staff/tickets/<int:pk>/", staff_views.ticket, name="staff_ticket"),
    path("staff/tickets/<int:pk>/answer/", staff_views.ticket_answer, name="staff_ticket_answer"),
    path("staff/tickets/<int:pk>/<str:name>/", staff_views.ticket_action, name="staff_ticket_action"),
    path("staff/tickets/attachments/<int:pk>/", staff_views.ticket_attachment, name="staff_ticket_attachment"),
    path("staff/complaints/", staff_views.complaints, name="staff_complaints"),
    path("staff/complaints/<int:pk>/", staff_views.complaint, name="staff_complaint"),
    path("staff/complaints/attachments/<int:pk>/", staff_views.complaint_attachment,
         name="staff_complaint_attachment"),
    # callbacks of the SMS gateway and the IVR, and the development operator
    path("hooks/sms/", hooks.inbound_sms, name="hook_sms"),
    path("hooks/ivr/", hooks.inbound_ivr, name="hook_ivr"),
    path("dev/operator/", hooks.dev_operator, name="dev_operator"),
]
