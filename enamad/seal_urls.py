"""``/trustseal/?id=N&Code=C`` (the seal page), ``/trustseal/logo/?id=N&Code=C`` (N22) and the
public complaint form and its follow-up (N23): the seals and complaints rooms' public pages."""

from enamad.complaints import urls as complaints
from enamad.seals import urls as seals

app_name = "seal"

urlpatterns = [*seals.public_urlpatterns, *complaints.public_urlpatterns]
