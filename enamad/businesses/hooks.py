"""Inbound callbacks of the outside world (N5): the SMS gateway's received-message webhook and
the IVR's "caller keyed digits" callback, both signed with HMAC-SHA256 over the send time and the raw
body (headers ``X-Enamad-Timestamp``, ``X-Enamad-Signature``; older than five minutes is refused);
plus, in development, a page that plays the operator (and shows the postal letters of the
business address check, which is why these pages sit in the businesses room)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from enamad.accounts import services as account_services
from enamad.accounts.forms import OperatorForm
from enamad.accounts.models import PhoneChallenge
from ramis.common.context import audit_context

from .models import PostalLetter


def _hook(request, *, channel: str, sender_field: str, text_field: str):
    if not account_services.inbound_signature_valid(request.body, request.headers.get("X-Enamad-Signature", ""),
                                            request.headers.get("X-Enamad-Timestamp", "")):
        return HttpResponseForbidden("bad signature")
    challenge = account_services.phone_inbound(channel=channel, sender=request.POST.get(sender_field, ""),
                                       text=request.POST.get(text_field, ""), ctx=audit_context(request))
    return JsonResponse({"ok": True, "matched": challenge is not None})


@csrf_exempt
@require_POST
def inbound_sms(request):
    return _hook(request, channel=PhoneChallenge.Channel.SMS, sender_field="from", text_field="message")


@csrf_exempt
@require_POST
def inbound_ivr(request):
    return _hook(request, channel=PhoneChallenge.Channel.IVR, sender_field="caller", text_field="digits")


def dev_operator(request):
    """Development only: send a text (or key digits into the IVR) as if from a phone, and read
    the postal letters the address check would post."""
    if not settings.DEV_OUTBOX:
        raise Http404
    form = OperatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        challenge = account_services.phone_inbound(channel=data["channel"], sender=data["sender"], text=data["text"],
                                           ctx=audit_context(request))
        if challenge:
            messages.success(request, f"پیام تحویل شد: {challenge.get_purpose_display()} {challenge.phone} احراز شد.")
        else:
            messages.warning(request, "پیام تحویل شد اما با هیچ کد فعالی برای این شماره مطابقت نداشت.")
        return redirect("enamad:dev_operator")
    letters = PostalLetter.objects.select_related("business")[:20]
    return render(request, "enamad/dev_operator.html", {
        "form": form, "letters": letters, "sms_number": settings.ENAMAD_REVERSE_SMS_NUMBER,
        "ivr_number": settings.ENAMAD_IVR_NUMBER,
    })
