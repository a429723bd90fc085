from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [path("introductions/<int:pk>/letter/", views.introduction_letter, name="introduction_letter")]
