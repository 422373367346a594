"""The pure model of carepath: entities, value objects and their rules. No I/O, no frameworks."""

from carepath.domain.attachments import Attachment
from carepath.domain.audit import AuditEntry
from carepath.domain.cases import (
    Case,
    CaseStatus,
    Priority,
    can_transition,
    validate_intent,
)
from carepath.domain.contacts import Channel, Contact, Handler
from carepath.domain.customers import (
    Customer,
    CustomerMerge,
    merge_customers,
    unmerge_customers,
    validate_segment,
)
from carepath.domain.identities import Identity, IdentityKind, IdentityRef, normalize_identity
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.masking import mask_card_numbers, mask_in
from carepath.domain.messages import (
    AuthorKind,
    DeliveryStatus,
    Direction,
    InboundMessage,
    Message,
)
from carepath.domain.properties import clean_properties
from carepath.domain.tenants import Tenant, validate_slug
from carepath.domain.users import ApiToken, LoginSession, User, normalize_email

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AuthorKind",
    "Case",
    "CaseStatus",
    "Channel",
    "Contact",
    "Customer",
    "CustomerMerge",
    "DeliveryStatus",
    "Direction",
    "Handler",
    "Identity",
    "IdentityKind",
    "IdentityRef",
    "InboundMessage",
    "JourneyEvent",
    "JourneyEventType",
    "LoginSession",
    "Message",
    "Priority",
    "Tenant",
    "User",
    "can_transition",
    "clean_properties",
    "mask_card_numbers",
    "mask_in",
    "merge_customers",
    "normalize_email",
    "normalize_identity",
    "unmerge_customers",
    "validate_intent",
    "validate_segment",
    "validate_slug",
]
