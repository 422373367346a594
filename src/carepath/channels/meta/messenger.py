"""Messenger (`object: page`) and Instagram (`object: instagram`) webhooks → normalized inbound
messages and delivery receipts (pure).

Both carry `entry[].messaging[]` events between a page-scoped sender id (PSID / IGSID) and the
page or Instagram account (`recipient.id`). Our own messages come back as echoes and are
skipped; so are events with no conversation in them (reactions, referrals, opt-ins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carepath.channels.meta.shape import Json, as_object, obj, objects, text, timestamp, wrong
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.messages import DeliveryStatus, InboundMessage
from carepath.ids import TenantId

CHANNELS = {"page": Channel.MESSENGER, "instagram": Channel.INSTAGRAM}
_IDENTITY = {Channel.MESSENGER: IdentityKind.MESSENGER, Channel.INSTAGRAM: IdentityKind.INSTAGRAM}
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class MetaInbound:
    account_id: str  # the page id (Messenger) or Instagram account id that was written to
    message: InboundMessage


@dataclass(frozen=True)
class MetaReceipt:
    account_id: str
    message_ids: tuple[str, ...]  # mids of messages we sent
    status: DeliveryStatus


@dataclass(frozen=True)
class MessagingBatch:
    channel: Channel
    messages: tuple[MetaInbound, ...]
    receipts: tuple[MetaReceipt, ...]
    account_ids: frozenset[str]


def parse_messaging_webhook(tenant_id: TenantId, payload: Json, now: datetime) -> MessagingBatch:
    """Every customer message and receipt of one webhook, or InvalidInput naming the bad field."""
    channel = CHANNELS.get(str(payload.get("object")))
    if channel is None:
        raise wrong("object", '"page" or "instagram"')
    messages: list[MetaInbound] = []
    receipts: list[MetaReceipt] = []
    accounts: set[str] = set()
    for entry, entry_path in objects(payload, "entry", "", required=True):
        for event, path in objects(entry, "messaging", entry_path):
            sender = text(obj(event, "sender", path), "id", f"{path}.sender")
            account = text(obj(event, "recipient", path), "id", f"{path}.recipient")
            message = event.get("message")
            if message is not None and as_object(message, f"{path}.message").get("is_echo"):
                continue  # our own message (or the page's from Meta's inbox) coming back
            if message is not None or event.get("postback") is not None:
                inbound = _inbound(tenant_id, channel, sender, account, event, path, now)
                if inbound is not None:
                    messages.append(MetaInbound(account, inbound))
                    accounts.add(account)
                continue
            receipt = _receipt(account, event, path)
            if receipt is not None:
                receipts.append(receipt)
                accounts.add(account)
    return MessagingBatch(channel, tuple(messages), tuple(receipts), frozenset(accounts))


def _inbound(
    tenant_id: TenantId,
    channel: Channel,
    sender: str,
    account: str,
    event: Json,
    path: str,
    now: datetime,
) -> InboundMessage | None:
    if "message" in event:
        message_path = f"{path}.message"
        message = as_object(event["message"], message_path)
        if message.get("is_deleted"):
            return None  # Instagram: the customer unsent a message; nothing new to show
        mid = text(message, "mid", message_path)
        body, properties = _message_content(message, message_path)
    else:
        postback_path = f"{path}.postback"
        postback = as_object(event["postback"], postback_path)
        title = text(postback, "title", postback_path, required=False)
        payload = text(postback, "payload", postback_path, required=False)
        body = title or payload
        if not body:
            raise wrong(postback_path, "an object with a title or a payload")
        # Older postbacks carry no mid; the sender and time identify a retry just as well.
        mid = text(postback, "mid", postback_path, required=False) or (
            f"postback:{sender}:{text(event, 'timestamp', path, required=False)}"
        )
        properties = {"postback": {"payload": payload}}
    return InboundMessage(
        tenant_id=tenant_id,
        channel=channel,
        sender=IdentityRef.of(_IDENTITY[channel], sender),
        text=body,
        received_at=timestamp(event, "timestamp", path, now, millis=True),
        external_id=mid,
        properties={"account_id": account, **properties},
    )


def _message_content(message: Json, path: str) -> tuple[str, dict[str, Any]]:
    """The text and properties of a message event; attachments stay links at Meta (like SMS
    media), listed in the properties."""
    properties: dict[str, Any] = {}
    media = []
    for attachment, attachment_path in objects(message, "attachments", path)[:MAX_ATTACHMENTS]:
        kind = text(attachment, "type", attachment_path)
        payload = attachment.get("payload")
        url = payload.get("url") if isinstance(payload, Mapping) else None
        media.append({"type": kind, "url": url} if isinstance(url, str) else {"type": kind})
    if media:
        properties["media"] = media
    quick_reply = message.get("quick_reply")
    if quick_reply is not None:
        reply_path = f"{path}.quick_reply"
        payload = text(as_object(quick_reply, reply_path), "payload", reply_path)
        properties["quick_reply"] = {"payload": payload}
    body = text(message, "text", path, required=False)
    if not body and media:
        body = f"[{', '.join(str(item['type']) for item in media)}]"
    if not body:
        body = "[unsupported message]" if message.get("is_unsupported") else "[empty message]"
    return body, properties


def _receipt(account: str, event: Json, path: str) -> MetaReceipt | None:
    if event.get("delivery") is not None:
        delivery = as_object(event["delivery"], f"{path}.delivery")
        mids = tuple(str(mid) for mid in delivery.get("mids") or () if isinstance(mid, str) and mid)
        return MetaReceipt(account, mids, DeliveryStatus.DELIVERED) if mids else None
    if event.get("read") is not None:
        read = as_object(event["read"], f"{path}.read")
        mid = text(read, "mid", f"{path}.read", required=False)
        # Messenger reports reads as a watermark time only; without a mid there is nothing
        # exact to mark, and "read" is a nicety, not a state anything depends on.
        return MetaReceipt(account, (mid,), DeliveryStatus.READ) if mid else None
    return None
