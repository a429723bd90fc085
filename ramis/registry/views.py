from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from certauth.decorators import staff_required
from ramis.common.uploads import serve_private

from .models import Role


@staff_required
def introduction_letter(request, pk: int):
    """The company's introduction letter, for SEO reviewers only."""
    if not request.user.has_perm("registry.view_role"):
        raise PermissionDenied
    role = get_object_or_404(Role, pk=pk)
    if not role.introduction_letter:
        raise PermissionDenied
    return serve_private(role.introduction_letter)
