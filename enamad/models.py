"""The models Django loads for the ``enamad`` app: each room keeps its own in
``enamad/<room>/models.py`` (accounts, businesses, seals, support, complaints); this module only
imports them, in the rooms' order, so that the app label and every table stay ``enamad_*``.
New code imports from the room; the names below keep older imports (and the migrations,
which name ``enamad.models.random_*``) working.
"""

from enamad.accounts.models import (
    OPTIONAL_DOCUMENTS,
    REQUIRED_DOCUMENTS,
    Account,
    DocumentKind,
    IdentityDocument,
    Persona,
    PhoneChallenge,
)
from enamad.businesses.models import (
    CONTACT_VERIFICATION,
    EDITABLE_STATES,
    RENEWAL_FIELDS,
    RENEWAL_REVIEW_STATES,
    RENEWAL_SERVICE_FIELDS,
    SERVICE_LABELS,
    ActivityType,
    Business,
    BusinessQuerySet,
    BusinessService,
    BusinessStatus,
    ChecklistItem,
    DomainEmailCode,
    PostalLetter,
    Review,
    ReviewItem,
    ServiceCategory,
    SurveyResponse,
    VerificationMethod,
    seal_in_force_q,
    seal_vouches,
)
from enamad.common import random_code, random_reference, random_token
from enamad.complaints.models import (
    DECIDABLE_STATES,
    OPEN_COMPLAINT_STATES,
    Complaint,
    ComplaintAttachment,
    ComplaintQuerySet,
    ComplaintStatus,
    ComplaintType,
    random_tracking_code,
)
from enamad.seals.models import (
    Seal,
    SealQuerySet,
)
from enamad.support.models import (
    CHANGE_CATEGORIES,
    AttachmentKind,
    ChangeStatus,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketQuerySet,
    TicketStatus,
    random_ticket_reference,
    ticket_idle_cutoff,
)

__all__ = [
    "Account",
    "ActivityType",
    "AttachmentKind",
    "Business",
    "BusinessQuerySet",
    "BusinessService",
    "BusinessStatus",
    "CHANGE_CATEGORIES",
    "CONTACT_VERIFICATION",
    "ChangeStatus",
    "ChecklistItem",
    "Complaint",
    "ComplaintAttachment",
    "ComplaintQuerySet",
    "ComplaintStatus",
    "ComplaintType",
    "DECIDABLE_STATES",
    "DocumentKind",
    "DomainEmailCode",
    "EDITABLE_STATES",
    "IdentityDocument",
    "OPEN_COMPLAINT_STATES",
    "OPTIONAL_DOCUMENTS",
    "Persona",
    "PhoneChallenge",
    "PostalLetter",
    "RENEWAL_FIELDS",
    "RENEWAL_REVIEW_STATES",
    "RENEWAL_SERVICE_FIELDS",
    "REQUIRED_DOCUMENTS",
    "Review",
    "ReviewItem",
    "SERVICE_LABELS",
    "Seal",
    "SealQuerySet",
    "ServiceCategory",
    "SurveyResponse",
    "Ticket",
    "TicketAttachment",
    "TicketCategory",
    "TicketMessage",
    "TicketQuerySet",
    "TicketStatus",
    "VerificationMethod",
    "random_code",
    "random_reference",
    "random_ticket_reference",
    "random_token",
    "random_tracking_code",
    "seal_in_force_q",
    "seal_vouches",
    "ticket_idle_cutoff",
]

# The commitment letter signed with a RAMIS certificate (issue 14): its own module.
from .letter_models import CommitmentLetter, SignedLetter  # noqa: E402

__all__ += ["CommitmentLetter", "SignedLetter"]
