"""The e-Namad staff home (issue 13): the desk opened on the part that is the user's own (the
expert's review, the manager's final review, the document officer's documents, tickets,
complaints), with the waiting work of each of their parts counted."""

from __future__ import annotations

from django.urls import reverse

from enamad.accounts import selectors as account_selectors
from enamad.businesses import selectors as business_selectors
from enamad.complaints import selectors as complaint_selectors
from enamad.complaints.models import Complaint
from enamad.support import selectors as support_selectors
from enamad.support.models import Ticket
from ramis.common.homes import Count, Home, register

QUEUE_TITLES = {"review": "بررسی کارشناس", "documents": "مدارک فیزیکی", "manager": "بررسی مدیر"}
# The file tabs each permission works on.
QUEUES_BY_PERM = {"enamad.review_business": "review", "enamad.review_documents": "documents",
                  "enamad.approve_business": "manager"}


@register
def enamad_home(user) -> Home | None:
    if not user.is_staff:
        return None
    roles = account_selectors.desk_roles(user)
    if not any(roles.values()):
        return None
    counts: list[Count] = []
    first = ""
    if roles["files"]:
        queue = reverse("enamad:staff_queue")
        first = f"{queue}?q={business_selectors.default_queue(user)}"
        waiting = business_selectors.staff_queue_counts()
        mine = [name for perm, name in QUEUES_BY_PERM.items() if user.has_perm(perm)]
        mine.sort(key=lambda name: name != business_selectors.default_queue(user))
        counts += [Count(QUEUE_TITLES[name], waiting[name], f"{queue}?q={name}") for name in mine]
    if roles["tickets"]:
        tickets = reverse("enamad:staff_tickets")
        first = first or tickets
        for key in ("open", "changes"):
            label, condition = support_selectors.STAFF_TICKET_QUEUES[key]
            counts.append(Count(f"تیکت‌ها: {label}", Ticket.objects.filter(condition).count(), f"{tickets}?q={key}"))
    if roles["complaints"]:
        complaints = reverse("enamad:staff_complaints")
        first = first or complaints
        for key in ("overdue", "awaiting"):
            label, condition = complaint_selectors.STAFF_COMPLAINT_QUEUES[key]
            counts.append(Count(f"شکایت‌ها: {label}", Complaint.objects.filter(condition).count(),
                                f"{complaints}?q={key}"))
    return Home(title="میز کار اینماد", url=first, counts=tuple(counts))
