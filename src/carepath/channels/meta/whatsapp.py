"""WhatsApp Cloud API webhooks → normalized inbound messages and delivery reports (pure).

One POST holds `entry[].changes[].value` objects; each `messages` change names the business
number it is for (`metadata.phone_number_id`) and may carry several customer messages and
several status updates of messages we sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carepath.channels.meta.shape import Json, as_object, obj, objects, text, timestamp, wrong
from carepath.channels.meta.shape import number as json_number
from carepath.domain.attachments import Attachment
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import DeliveryStatus, InboundMessage
from carepath.ids import TenantId

OBJECT = "whatsapp_business_account"
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
NOT_DOWNLOADED = "kept by WhatsApp (media id in the message properties); not downloaded"
# The Cloud API's status values → carepath's delivery states (None: nothing to record).
_STATUS: dict[str, DeliveryStatus | None] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,  # a voice message was played: it was read
    "failed": DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class WhatsAppInbound:
    phone_number_id: str
    message: InboundMessage


@dataclass(frozen=True)
class WhatsAppStatus:
    phone_number_id: str
    message_id: str  # the wamid the send returned
    status: DeliveryStatus | None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class WhatsAppBatch:
    messages: tuple[WhatsAppInbound, ...]
    statuses: tuple[WhatsAppStatus, ...]
    phone_number_ids: frozenset[str]  # every business number the webhook speaks for


def parse_whatsapp_webhook(tenant_id: TenantId, payload: Json, now: datetime) -> WhatsAppBatch:
    """Every customer message and status of one webhook, or InvalidInput naming the bad field.

    Changes other than `messages` (template and account updates) and reactions carry no
    conversation and are skipped.
    """
    if payload.get("object") != OBJECT:
        raise wrong("object", f'"{OBJECT}"')
    messages: list[WhatsAppInbound] = []
    statuses: list[WhatsAppStatus] = []
    numbers: set[str] = set()
    for entry, entry_path in objects(payload, "entry", "", required=True):
        for change, path in objects(entry, "changes", entry_path, required=True):
            if change.get("field") != "messages":
                continue
            value = obj(change, "value", path)
            path = f"{path}.value"
            number = text(obj(value, "metadata", path), "phone_number_id", f"{path}.metadata")
            numbers.add(number)
            names = _profile_names(value, path)
            for item, item_path in objects(value, "messages", path):
                inbound = _message(tenant_id, number, item, item_path, names, now)
                if inbound is not None:
                    messages.append(WhatsAppInbound(number, inbound))
            for item, item_path in objects(value, "statuses", path):
                statuses.append(_status(number, item, item_path))
    return WhatsAppBatch(tuple(messages), tuple(statuses), frozenset(numbers))


def _profile_names(value: Json, path: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact, contact_path in objects(value, "contacts", path):
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, Mapping) else None
        wa_id = text(contact, "wa_id", contact_path, required=False)
        if wa_id and isinstance(name, str):
            names[wa_id] = name
    return names


def _message(
    tenant_id: TenantId,
    number: str,
    item: Json,
    path: str,
    names: dict[str, str],
    now: datetime,
) -> InboundMessage | None:
    kind = text(item, "type", path)
    if kind == "reaction":
        return None
    sender = text(item, "from", path)
    body, attachments, properties = _content(kind, item, path)
    context = item.get("context")
    reply_to = (
        text(as_object(context, f"{path}.context"), "id", f"{path}.context", required=False)
        if context is not None
        else ""
    )
    return InboundMessage(
        tenant_id=tenant_id,
        channel=Channel.WHATSAPP,
        sender=IdentityRef.of(IdentityKind.WHATSAPP, sender),
        text=body,
        received_at=timestamp(item, "timestamp", path, now),
        external_id=text(item, "id", path),
        attachments=attachments,
        thread_refs=(reply_to,) if reply_to else (),
        sender_name=names.get(sender),
        properties={"phone_number_id": number, "type": kind, **properties},
    )


def _content(
    kind: str, item: Json, path: str
) -> tuple[str, tuple[Attachment, ...], dict[str, Any]]:
    """The text, attachments and extra properties of one message, by its type."""
    if kind == "text":
        return text(obj(item, "text", path), "body", f"{path}.text"), (), {}
    if kind in MEDIA_TYPES:
        return _media(kind, obj(item, kind, path), f"{path}.{kind}")
    if kind == "location":
        return _location(obj(item, "location", path), f"{path}.location")
    if kind == "interactive":
        return _interactive(obj(item, "interactive", path), f"{path}.interactive")
    if kind == "button":
        button = obj(item, "button", path)
        label = text(button, "text", f"{path}.button")
        payload = text(button, "payload", f"{path}.button", required=False)
        return label, (), {"reply": {"type": "button", "payload": payload}}
    if kind == "contacts":
        shared = [
            text(obj(card, "name", p), "formatted_name", f"{p}.name", required=False)
            for card, p in objects(item, "contacts", path)
        ]
        return f"[shared contact: {', '.join(n for n in shared if n) or 'no name'}]", (), {}
    # Types carepath does not read (orders, unsupported, system notices): the agent still sees
    # that something arrived rather than nothing.
    return f"[WhatsApp {kind} message]", (), {}


def _media(kind: str, media: Json, path: str) -> tuple[str, tuple[Attachment, ...], dict[str, Any]]:
    media_id = text(media, "id", path)
    mime_type = text(media, "mime_type", path)
    filename = text(media, "filename", path, required=False) or f"{kind}-{media_id}"
    caption = text(media, "caption", path, required=False)
    attachment = Attachment(
        filename=filename, content_type=mime_type, size=0, rejected_reason=NOT_DOWNLOADED
    )
    details = {"type": kind, "id": media_id, "mime_type": mime_type}
    sha256 = text(media, "sha256", path, required=False)
    if sha256:
        details["sha256"] = sha256
    return caption, (attachment,), {"media": [details]}


def _location(location: Json, path: str) -> tuple[str, tuple[Attachment, ...], dict[str, Any]]:
    latitude = json_number(location, "latitude", path)
    longitude = json_number(location, "longitude", path)
    name = text(location, "name", path, required=False)
    address = text(location, "address", path, required=False)
    place = ", ".join(part for part in (name, address) if part)
    coordinates = f"{latitude}, {longitude}"
    label = f"Location: {place} ({coordinates})" if place else f"Location: {coordinates}"
    details: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    details.update({k: v for k, v in (("name", name), ("address", address)) if v})
    return label, (), {"location": details}


def _interactive(
    interactive: Json, path: str
) -> tuple[str, tuple[Attachment, ...], dict[str, Any]]:
    kind = text(interactive, "type", path)
    if kind not in ("button_reply", "list_reply"):
        return f"[WhatsApp {kind} reply]", (), {"reply": {"type": kind}}
    reply = obj(interactive, kind, path)
    reply_path = f"{path}.{kind}"
    details = {"type": kind, "id": text(reply, "id", reply_path)}
    description = text(reply, "description", reply_path, required=False)
    if description:
        details["description"] = description
    return text(reply, "title", reply_path), (), {"reply": details}


def _status(number: str, item: Json, path: str) -> WhatsAppStatus:
    raw = text(item, "status", path).lower()
    errors = tuple(_error(error, p) for error, p in objects(item, "errors", path))
    # Statuses Meta adds later (deleted, warning…) are acknowledged and not recorded.
    return WhatsAppStatus(number, text(item, "id", path), _STATUS.get(raw), errors)


def _error(error: Json, path: str) -> str:
    code = text(error, "code", path, required=False)
    title = text(error, "title", path, required=False) or text(
        error, "message", path, required=False
    )
    return " ".join(part for part in (code, title) if part) or "unknown error"
