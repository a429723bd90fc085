"""The portal's URLs plus ``/__bench__/bare/``: fixed bytes through the same middleware."""

from django.http import HttpResponse
from django.urls import path

from ramis.urls import urlpatterns as portal

BARE = b"<svg xmlns='http://www.w3.org/2000/svg' width='100' height='100'/>" * 8


def bare(request):
    return HttpResponse(BARE, content_type="image/svg+xml")


urlpatterns = [path("__bench__/bare/", bare), *portal]
handler500 = "ramis.common.outage.server_error"
