"""The Django admin (OTP-protected) for e-Namad staff: Django's autodiscovery loads this module,
which loads each room's own admin (the registrations are there)."""

from .accounts import admin as accounts_admin  # noqa: F401
from .businesses import admin as businesses_admin  # noqa: F401
from .complaints import admin as complaints_admin  # noqa: F401
from .seals import admin as seals_admin  # noqa: F401
from .support import admin as support_admin  # noqa: F401
