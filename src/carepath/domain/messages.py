"""Messages on a case, and the normalized inbound message that every channel adapter produces.

Card numbers are masked when either is built, so no unmasked text can be stored or shown.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.attachments import Attachment
from carepath.domain.clock import ensure_aware, utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.masking import mask_card_numbers
from carepath.domain.properties import clean_properties
from carepath.errors import InvalidInput
from carepath.ids import CaseId, ContactId, CustomerId, MessageId, TenantId, new_id

MAX_TEXT_LENGTH = 20_000
MAX_PROPERTIES_BYTES = 32 * 1024
# Both match the storage columns, so an over-long value fails here, clearly, not in the database.
MAX_EXTERNAL_ID_LENGTH = 255
MAX_AUTHOR_ID_LENGTH = 40
MAX_SENDER_NAME_LENGTH = 200
# RFC 5322 caps a header line at 998 characters; a longer reference is not one.
MAX_THREAD_REF_LENGTH = 998
MAX_THREAD_REFS = 100

# Channels whose sender can only be one kind of identity.
_SENDER_KINDS: Mapping[Channel, IdentityKind] = {
    Channel.EMAIL: IdentityKind.EMAIL,
    Channel.SMS: IdentityKind.PHONE,
    Channel.VOICE: IdentityKind.PHONE,
    Channel.WHATSAPP: IdentityKind.WHATSAPP,
    Channel.MESSENGER: IdentityKind.MESSENGER,
    Channel.INSTAGRAM: IdentityKind.INSTAGRAM,
}


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class AuthorKind(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class DeliveryStatus(enum.StrEnum):
    """How far an outbound message got, as the provider reports it."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        return _DELIVERY_RANK[self]


# A failure after delivery is not believable; one before it is final.
_DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


@dataclass(eq=False)
class Message:
    """One message of a case. Inbound ones are the customer's; internal notes are never sent.

    `attachments` holds `Attachment.to_dict()` dicts so that it maps onto a plain JSON column;
    read them as values with `attachment_values`.
    """

    tenant_id: TenantId
    case_id: CaseId
    customer_id: CustomerId
    channel: Channel
    direction: Direction
    author_kind: AuthorKind
    text: str
    contact_id: ContactId | None = None
    author_id: str | None = None
    is_internal_note: bool = False
    external_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    delivery_status: DeliveryStatus | None = None
    id: MessageId = field(default_factory=lambda: MessageId(new_id("message")))
    created_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        # Here rather than in create(): whichever way a Message is built, its text is masked.
        self.channel = _conversational(self.channel)
        self.direction = Direction(self.direction)
        self.author_kind = AuthorKind(self.author_kind)
        self.attachments = [_attachment(item).to_dict() for item in self.attachments]
        self.text = _clean_text(self.text, has_attachments=bool(self.attachments))
        self.external_id = _clean_external_id(self.external_id)
        self.properties = clean_properties(
            self.properties, field="properties", max_bytes=MAX_PROPERTIES_BYTES
        )
        self._check_author()

    @classmethod
    def create(
        cls,
        *,
        tenant_id: TenantId,
        case_id: CaseId,
        customer_id: CustomerId,
        channel: Channel,
        direction: Direction,
        author_kind: AuthorKind,
        text: str,
        contact_id: ContactId | None = None,
        author_id: str | None = None,
        is_internal_note: bool = False,
        external_id: str | None = None,
        attachments: Iterable[Attachment] = (),
        properties: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Message:
        return cls(
            tenant_id=tenant_id,
            case_id=case_id,
            customer_id=customer_id,
            channel=channel,
            direction=direction,
            author_kind=author_kind,
            text=text,
            contact_id=contact_id,
            author_id=author_id,
            is_internal_note=is_internal_note,
            external_id=external_id,
            attachments=[item.to_dict() for item in attachments],
            properties=dict(properties or {}),
            created_at=now or utcnow(),
        )

    @property
    def attachment_values(self) -> tuple[Attachment, ...]:
        return tuple(Attachment.from_dict(item) for item in self.attachments)

    @property
    def is_sendable(self) -> bool:
        return self.direction is Direction.OUTBOUND and not self.is_internal_note

    def record_delivery(self, status: DeliveryStatus) -> bool:
        """Apply a provider's delivery report; False when it is stale (callbacks reorder)."""
        if not self.is_sendable:
            raise InvalidInput("only sent messages have a delivery status", field="status")
        status = DeliveryStatus(status)
        if self.delivery_status is not None and status.rank <= self.delivery_status.rank:
            return False
        self.delivery_status = status
        return True

    def _check_author(self) -> None:
        if (self.direction is Direction.INBOUND) != (self.author_kind is AuthorKind.CUSTOMER):
            raise InvalidInput(
                "inbound messages are the customer's, and the customer's are inbound",
                field="direction",
            )
        if self.author_kind is AuthorKind.AGENT and not self.author_id:
            raise InvalidInput("an agent's message names its author", field="author_id")
        if self.author_id is not None and len(self.author_id) > MAX_AUTHOR_ID_LENGTH:
            raise InvalidInput(
                f"an author id is at most {MAX_AUTHOR_ID_LENGTH} characters", field="author_id"
            )
        if self.is_internal_note and self.direction is not Direction.OUTBOUND:
            raise InvalidInput("an internal note is never from the customer", field="direction")


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as every channel adapter hands it over, before identity resolution.

    `thread_refs` are the provider's references to earlier messages' external ids (email
    In-Reply-To / References, newest last); `case_id` is set when the client knows its case
    (the widget). `other_identities` are further identities the channel vouches for on this
    message, such as a signed-in visitor's app user id.
    """

    tenant_id: TenantId
    channel: Channel
    sender: IdentityRef
    text: str
    received_at: datetime
    external_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread_refs: tuple[str, ...] = ()
    case_id: CaseId | None = None
    sender_name: str | None = None
    sender_verified: bool = False
    other_identities: tuple[IdentityRef, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        channel = _conversational(self.channel)
        expected = _SENDER_KINDS.get(channel)
        if expected is not None and self.sender.kind is not expected:
            raise InvalidInput(
                f"a {channel} sender is identified by {expected}, not {self.sender.kind}",
                field="sender",
            )
        attachments = tuple(_attachment(item) for item in self.attachments)
        values = {
            "channel": channel,
            "attachments": attachments,
            "text": _clean_text(self.text, has_attachments=bool(attachments)),
            "received_at": ensure_aware(self.received_at, field="received_at"),
            "external_id": _clean_external_id(self.external_id),
            "thread_refs": _clean_thread_refs(self.thread_refs),
            "sender_name": _clean_sender_name(self.sender_name),
            "other_identities": tuple(self.other_identities),
            "properties": clean_properties(
                self.properties, field="properties", max_bytes=MAX_PROPERTIES_BYTES
            ),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def identities(self) -> tuple[IdentityRef, ...]:
        """Every identity this message claims, the sender's first."""
        return (self.sender, *self.other_identities)


def _conversational(channel: Channel | str) -> Channel:
    value = Channel(channel)
    if not value.is_conversational:
        raise InvalidInput(f"the {value} channel carries no messages", field="channel")
    return value


def _attachment(item: Attachment | Mapping[str, Any]) -> Attachment:
    return item if isinstance(item, Attachment) else Attachment.from_dict(item)


def _clean_text(text: str, *, has_attachments: bool) -> str:
    # PostgreSQL text cannot hold NUL, and providers do send it.
    cleaned = text.replace("\x00", "").strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise InvalidInput(
            f"a message is at most {MAX_TEXT_LENGTH} characters; this one has {len(cleaned)}",
            field="text",
            limit=MAX_TEXT_LENGTH,
        )
    if not cleaned and not has_attachments:
        raise InvalidInput("a message needs text or an attachment", field="text")
    return mask_card_numbers(cleaned)


def _clean_external_id(external_id: str | None) -> str | None:
    if external_id is None:
        return None
    value = external_id.strip()
    if len(value) > MAX_EXTERNAL_ID_LENGTH or not value.isprintable():
        raise InvalidInput(
            f"an external id is at most {MAX_EXTERNAL_ID_LENGTH} printable characters",
            field="external_id",
        )
    return value or None


def _clean_thread_refs(refs: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for ref in refs:
        value = ref.strip()
        if value and len(value) <= MAX_THREAD_REF_LENGTH:
            seen[value] = None
    # Long email threads carry long References headers; the newest references are what match.
    return tuple(seen)[-MAX_THREAD_REFS:]


def _clean_sender_name(name: str | None) -> str | None:
    if name is None:
        return None
    value = " ".join(mask_card_numbers(name).split())
    value = "".join(char for char in value if char.isprintable())
    # A display name comes from the provider and is only shown: cut it rather than refuse it.
    return value[:MAX_SENDER_NAME_LENGTH] or None
