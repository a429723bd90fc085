from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from .models import OutboxMessage


def dev_outbox(request):
    """Development only: the SMS and e-mail the console backends "sent"."""
    if not settings.DEV_OUTBOX:
        raise Http404
    messages = OutboxMessage.objects.all()[:50]
    return render(request, "common/dev_outbox.html", {"outbox": messages})
