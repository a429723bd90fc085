from django.shortcuts import render

from certauth.decorators import applicant_required
from ramis.offices.models import RegistrationOffice
from ramis.registry.models import Role


@applicant_required
def panel(request):
    """The applicant's panel (R5): a short guide and their approved roles."""
    person = request.user.person
    roles = Role.objects.approved().with_parties().filter(person=person)
    offices = RegistrationOffice.objects.active()
    return render(request, "requests/panel.html", {"person": person, "roles": roles, "offices": offices})
