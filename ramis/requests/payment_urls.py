from django.urls import path

from . import payment_views

app_name = "payments"

urlpatterns = [
    path("sandbox/<str:token>/", payment_views.sandbox, name="sandbox"),
    path("callback/", payment_views.callback, name="callback"),
    path("bank/return/", payment_views.bank_return, name="bank_return"),
]
