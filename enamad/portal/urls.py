"""The portal's pages under /enamad/ (namespace ``enamad``, joined in ``enamad/urls.py``): the
public home, registry, rules and requirements, the holder's panel and messages, and the staff
desk's file page and dashboard."""

from django.urls import path

from . import staff_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("registry/", views.registry, name="registry"),
    path("rules/", views.rules, name="rules"),
    path("requirements/", views.requirements, name="requirements"),
    path("panel/", views.panel, name="panel"),
    path("panel/messages/", views.messages_page, name="messages"),
    # staff: a file's page and its actions (after the rooms' own staff/business/<pk>/… pages), the dashboard
    path("staff/business/<int:pk>/", staff_views.business, name="staff_business"),
    path("staff/business/<int:pk>/review/", staff_views.review, name="staff_review"),
    path("staff/business/<int:pk>/<str:name>/", staff_views.action, name="staff_action"),
    path("staff/dashboard/", staff_views.dashboard, name="staff_dashboard"),
]
