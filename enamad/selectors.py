"""Reads that several e-Namad pages share (STYLE 4–5). Each room keeps its own in
``enamad/<room>/selectors.py``; this module holds the staff desk's roles, which span the rooms,
and hands the rooms' names on to older callers.
"""

from __future__ import annotations

from enamad.accounts.selectors import (  # noqa: F401 (handed on)
    account_for_user,
)
from enamad.businesses.selectors import (  # noqa: F401 (handed on)
    STAFF_QUEUES,
    default_queue,
    get_business_for_account,
    staff_queue,
    staff_queue_counts,
)
from enamad.complaints.selectors import (  # noqa: F401 (handed on)
    STAFF_COMPLAINT_QUEUES,
    complaint_counts,
    complaints_for_account,
    get_complaint_for_account,
    staff_complaints,
)
from enamad.seals.selectors import (  # noqa: F401 (handed on)
    SEAL_CACHE_SECONDS,
    SealFacts,
    registry_search,
    seal_cache_key,
    seal_facts,
    seal_for_page,
)
from enamad.support.selectors import (  # noqa: F401 (handed on)
    STAFF_TICKET_QUEUES,
    get_ticket_for_account,
    staff_tickets,
    ticket_thread,
    tickets_for_account,
)

# The parts of the staff desk and who opens them: the business files (queue, file page,
# identity documents, licences) to those who review files, tickets to ticket staff, complaints
# (with the complainant's contact details) to those who handle complaints. Any of these opens
# the dashboard.
DESK_ROLES = {
    "files": ("enamad.review_business", "enamad.review_documents", "enamad.approve_business"),
    "tickets": ("enamad.answer_ticket", "enamad.approve_change"),
    "complaints": ("enamad.handle_complaint",),
}


def desk_roles(user) -> dict[str, bool]:
    return {role: any(user.has_perm(perm) for perm in perms) for role, perms in DESK_ROLES.items()}
