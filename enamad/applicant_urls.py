"""The RAMIS panel's support pages (/panel/support/): e-Namad's ticket room for RAMIS applicants."""

from django.urls import path

from . import applicant_views

app_name = "applicant_support"

urlpatterns = [
    path("", applicant_views.tickets, name="tickets"),
    path("new/", applicant_views.ticket_new, name="new"),
    path("<int:pk>/", applicant_views.ticket_detail, name="ticket"),
    path("<int:pk>/close/", applicant_views.ticket_close, name="close"),
    path("attachments/<int:pk>/", applicant_views.attachment, name="attachment"),
]
