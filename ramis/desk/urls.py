from django.urls import path

from . import station_views, views

app_name = "desk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("day/", views.day, name="day"),
    path("requests/<int:pk>/", views.review, name="review"),
    path("requests/<int:pk>/approve/", views.approve, name="approve"),
    path("requests/<int:pk>/return/", views.return_for_correction, name="return"),
    path("requests/<int:pk>/reject/", views.reject, name="reject"),
    path("requests/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("requests/<int:pk>/visit/", views.visit, name="visit"),
    path("requests/<int:pk>/identity/", views.identity, name="identity"),
    path("requests/<int:pk>/issue/", views.issue, name="issue"),
    path("requests/<int:pk>/handover.pdf", views.handover_pdf, name="handover"),
    path("requests/<int:pk>/handed-over/", views.handover_record, name="handover_record"),
    path("handovers/<int:pk>/sheet/", views.handover_sheet, name="handover_sheet"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("documents/<int:pk>/preview/", views.document_preview, name="document_preview"),
    path("identity/<int:pk>/power-of-attorney/", views.power_of_attorney, name="power_of_attorney"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate"),
    path("office-revocations/<int:pk>/form/", views.revocation_form, name="revocation_form"),
    path("revocations/", views.revocations, name="revocations"),
    path("workstation/", station_views.choose, name="workstation"),
    path("revocations/<int:pk>/confirm/", views.revocation_confirm, name="revocation_confirm"),
    path("revocations/<int:pk>/reject/", views.revocation_reject, name="revocation_reject"),
]
