from django.shortcuts import render

from .models import RegistrationOffice


def office_list(request):
    offices = RegistrationOffice.objects.active().prefetch_related("working_periods")
    return render(request, "offices/office_list.html", {"offices": offices})
