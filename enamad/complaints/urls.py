"""The complaints room's pages: the holder's and the staff desk's under /enamad/ (``urlpatterns``,
namespace ``enamad``, joined in ``enamad/urls.py``), and the buyer's from a seal's page under
/trustseal/ (``public_urlpatterns``, namespace ``seal``, joined in ``enamad/seal_urls.py``)."""

from django.urls import path

from . import staff_views, views

urlpatterns = [
    # complaints against the holder's businesses (N23)
    path("panel/complaints/", views.complaints, name="complaints"),
    path("panel/complaints/<int:pk>/", views.complaint_detail, name="complaint"),
    path("panel/complaints/attachments/<int:pk>/", views.complaint_attachment, name="complaint_attachment"),
    # staff
    path("staff/complaints/", staff_views.complaints, name="staff_complaints"),
    path("staff/complaints/<int:pk>/", staff_views.complaint, name="staff_complaint"),
    path("staff/complaints/attachments/<int:pk>/", staff_views.complaint_attachment,
         name="staff_complaint_attachment"),
]

public_urlpatterns = [
    path("complaint/", views.complaint, name="complaint"),
    path("complaint/filed/", views.complaint_filed, name="complaint_filed"),
    path("complaint/status/", views.complaint_status, name="complaint_status"),
]
