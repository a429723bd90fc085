"""/enamad/ (namespace ``enamad``): each room's pages, in the rooms' order, then the portal's
(whose ``staff/business/<pk>/<name>/`` comes after the rooms' own ``staff/business/<pk>/…``)."""

from enamad.accounts import urls as accounts
from enamad.businesses import urls as businesses
from enamad.complaints import urls as complaints
from enamad.portal import urls as portal
from enamad.seals import urls as seals
from enamad.support import urls as support

app_name = "enamad"

urlpatterns = [
    *accounts.urlpatterns,
    *businesses.urlpatterns,
    *seals.urlpatterns,
    *support.urlpatterns,
    *complaints.urlpatterns,
    *portal.urlpatterns,
]
