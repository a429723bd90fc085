from django.shortcuts import render

from .models import RegistrationOffice


def office_list(request):
    offices = RegistrationOffice.objects.active()
    return render(request, "offices/office_list.html", {"offices": offices})
