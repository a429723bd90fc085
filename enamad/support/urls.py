"""The support room's pages: the holder's tickets and the staff desk's under /enamad/
(``urlpatterns``, namespace ``enamad``, joined in ``enamad/urls.py``), and RAMIS applicants'
tickets under /panel/support/ (``applicant_urlpatterns``, namespace ``applicant_support``,
joined in ``enamad/applicant_urls.py``)."""

from django.urls import path

from . import applicant_views, staff_views, views

urlpatterns = [
    # support tickets and change requests (N19, N20)
    path("panel/tickets/", views.tickets, name="tickets"),
    path("panel/tickets/new/", views.ticket_new, name="ticket_new"),
    path("panel/tickets/new/<str:category>/", views.ticket_new, name="ticket_new_category"),
    path("panel/tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("panel/tickets/<int:pk>/close/", views.ticket_close, name="ticket_close"),
    path("panel/tickets/attachments/<int:pk>/", views.ticket_attachment, name="ticket_attachment"),
    # staff
    path("staff/tickets/", staff_views.tickets, name="staff_tickets"),
    path("staff/tickets/<int:pk>/", staff_views.ticket, name="staff_ticket"),
    path("staff/tickets/<int:pk>/answer/", staff_views.ticket_answer, name="staff_ticket_answer"),
    path("staff/tickets/<int:pk>/<str:name>/", staff_views.ticket_action, name="staff_ticket_action"),
    path("staff/tickets/attachments/<int:pk>/", staff_views.ticket_attachment, name="staff_ticket_attachment"),
]

applicant_urlpatterns = [
    path("", applicant_views.tickets, name="tickets"),
    path("new/", applicant_views.ticket_new, name="new"),
    path("<int:pk>/", applicant_views.ticket_detail, name="ticket"),
    path("<int:pk>/close/", applicant_views.ticket_close, name="close"),
    path("attachments/<int:pk>/", applicant_views.attachment, name="attachment"),
]
