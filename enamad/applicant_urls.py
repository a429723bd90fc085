"""The RAMIS panel's support pages (/panel/support/): e-Namad's ticket room for RAMIS applicants."""

from enamad.support import urls as support

app_name = "applicant_support"

urlpatterns = support.applicant_urlpatterns
