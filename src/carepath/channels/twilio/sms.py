"""Twilio's SMS webhook forms → normalized inbound messages and delivery reports (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import DeliveryStatus, InboundMessage
from carepath.errors import InvalidInput
from carepath.ids import TenantId

# Twilio's MessageStatus values → carepath's delivery states (None: nothing to record yet).
_STATUS: dict[str, DeliveryStatus | None] = {
    "accepted": None,
    "scheduled": None,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
MAX_MEDIA = 10


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InvalidInput(f"the form has no {name}", field=name)
    return value


def parse_inbound_sms(
    tenant_id: TenantId, form: Mapping[str, str], received_at: datetime
) -> InboundMessage:
    """An incoming SMS/MMS. Media are kept as links in the properties (Twilio hosts them)."""
    sid = _required(form, "MessageSid")
    sender = IdentityRef.of(IdentityKind.PHONE, _required(form, "From"))
    try:
        media_count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError as exc:
        raise InvalidInput("NumMedia is not a number", field="NumMedia") from exc
    media = [
        {"url": form.get(f"MediaUrl{i}", ""), "content_type": form.get(f"MediaContentType{i}", "")}
        for i in range(media_count)
    ]
    body = form.get("Body", "")
    if not body.strip() and media:
        body = f"[{len(media)} attachment{'s' if len(media) > 1 else ''}]"
    properties: dict[str, object] = {"to": form.get("To", "")}
    if media:
        properties["media"] = media
    return InboundMessage(
        tenant_id=tenant_id,
        channel=Channel.SMS,
        sender=sender,
        text=body,
        received_at=received_at,
        external_id=sid,
        properties=properties,
    )


@dataclass(frozen=True)
class StatusReport:
    message_sid: str
    status: DeliveryStatus | None
    error_code: str | None


def parse_status_callback(form: Mapping[str, str]) -> StatusReport:
    sid = _required(form, "MessageSid")
    raw = _required(form, "MessageStatus").lower()
    if raw not in _STATUS:
        raise InvalidInput(f"unknown MessageStatus {raw!r}", field="MessageStatus")
    return StatusReport(sid, _STATUS[raw], form.get("ErrorCode") or None)
