"""One received email → stored messages: parse, keep the files, ingest once per tenant addressed.

The SMTP listener and the IMAP poller both hand their mail to an `EmailInbox`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from carepath.actions.delivery import do_record_delivery
from carepath.actions.ingest import IngestResult, do_ingest_inbound
from carepath.channels.email.attachments import AttachmentPolicy
from carepath.channels.email.loops import LoopKind
from carepath.channels.email.parse import MalformedEmail, ParsedEmail, parse_email
from carepath.domain.attachments import Attachment
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.masking import mask_card_numbers
from carepath.domain.messages import DeliveryStatus, InboundMessage
from carepath.domain.properties import json_size
from carepath.ids import TenantId
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.files import AttachmentStore, digest

log = logging.getLogger("carepath.email")

# Message properties are bounded (MAX_PROPERTIES_BYTES); longer bodies live in the file store
# and the properties point at them.
INLINE_HTML_BYTES = 12 * 1024
INLINE_TEXT_BYTES = 6 * 1024
MAX_LISTED_ADDRESSES = 10
MAX_HEADER_CHARS = 998


class Outcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    AUTO_REPLY = LoopKind.AUTO_REPLY.value
    BOUNCE = LoopKind.BOUNCE.value
    BULK = LoopKind.BULK.value
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"


class EmailCounters:
    """`carepath_email_inbound_total{outcome}`: what became of each received email."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._inbound = Counter(
            "carepath_email_inbound_total",
            "Received emails by outcome (stored, duplicate, auto_reply, bounce, bulk, ...).",
            ["outcome"],
            registry=self.registry,
        )

    def count(self, outcome: Outcome) -> None:
        self._inbound.labels(outcome.value).inc()

    def value(self, outcome: Outcome) -> float:
        sample = self.registry.get_sample_value(
            "carepath_email_inbound_total", {"outcome": outcome.value}
        )
        return sample or 0.0


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    parsed: ParsedEmail
    results: tuple[IngestResult, ...] = ()


class EmailInbox:
    def __init__(
        self,
        db: Database,
        store: AttachmentStore,
        policy: AttachmentPolicy,
        *,
        max_message_bytes: int,
        counters: EmailCounters | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.policy = policy
        self.max_message_bytes = max_message_bytes
        self.counters = counters or EmailCounters()

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, *, counters: EmailCounters | None = None
    ) -> EmailInbox:
        return cls(
            db,
            AttachmentStore(settings.data_dir / "attachments"),
            AttachmentPolicy.from_settings(settings),
            max_message_bytes=settings.email_max_message_bytes,
            counters=counters,
        )

    async def parse(self, raw: bytes, *, envelope_sender: str | None = None) -> ParsedEmail:
        """MalformedEmail (counted) for bytes that are no storable email."""
        try:
            # Off the event loop: a large HTML mail takes a while to read.
            return await asyncio.to_thread(
                parse_email, raw, self.policy, envelope_sender=envelope_sender
            )
        except MalformedEmail:
            self.counters.count(Outcome.MALFORMED)
            raise

    async def deliver(
        self,
        raw: bytes,
        accounts: Sequence[ChannelAccount],
        *,
        source: str,
        envelope_sender: str | None = None,
    ) -> Delivery:
        """Store the email for each tenant whose address it was sent to; automatic mail is
        dropped (counted and logged); a bounce marks our returned message as failed."""
        parsed = await self.parse(raw, envelope_sender=envelope_sender)
        if parsed.loop is not None:
            outcome = Outcome(parsed.loop.kind.value)
            self.counters.count(outcome)
            log.info(
                "email %s ignored (%s: %s)", parsed.message_id, outcome.value, parsed.loop.reason
            )
            if parsed.loop.kind is LoopKind.BOUNCE:
                await self._record_bounce(parsed, accounts)
            return Delivery(outcome, parsed)
        files = await asyncio.to_thread(_files_of, parsed)  # hashing and sizing take a while
        # Built, and so checked, before any file is written: a mail refused here (InvalidInput,
        # a permanent 5xx) leaves nothing on disk. A failure later, in ingest, is a temporary
        # one the sender retries, and the retry finds its files already there.
        inbounds = [
            _inbound(parsed, account, files.attachments, {**files.extra, "source": source})
            for account in _one_per_tenant(accounts)
        ]
        await asyncio.to_thread(files.write, self.store)
        results = [await do_ingest_inbound(self.db, inbound) for inbound in inbounds]
        outcome = Outcome.DUPLICATE if all(r.duplicate for r in results) else Outcome.STORED
        self.counters.count(outcome)
        return Delivery(outcome, parsed, tuple(results))

    async def _record_bounce(self, parsed: ParsedEmail, accounts: Sequence[ChannelAccount]) -> None:
        if not parsed.bounced_ids:
            return
        for account in _one_per_tenant(accounts):
            async with self.db.uow(write=False) as uow:
                returned = await uow.messages.referenced(account.tenant_id, parsed.bounced_ids)
            if returned is not None and returned.is_sendable:
                log.info("email %s bounced: message %s failed", parsed.message_id, returned.id)
                await do_record_delivery(
                    self.db, TenantId(account.tenant_id), returned.id, DeliveryStatus.FAILED
                )


@dataclass(frozen=True)
class _Files:
    """What an email keeps in the file store, named by digest before anything is written:
    the accepted attachments, and bodies too long for the message's properties."""

    attachments: tuple[Attachment, ...]
    extra: dict[str, Any]
    contents: tuple[bytes, ...]

    def write(self, store: AttachmentStore) -> None:
        for data in self.contents:
            store.put(data)


def _files_of(parsed: ParsedEmail) -> _Files:
    contents: list[bytes] = []

    def named(data: bytes) -> str:
        contents.append(data)
        return digest(data)

    attachments = tuple(
        item.metadata(None if item.rejected_reason else named(item.data))
        for item in parsed.attachments
    )
    extra: dict[str, Any] = {}
    original = mask_card_numbers(parsed.original_text)
    if parsed.original_text != parsed.text:
        extra["original_text"] = original
        if json_size(original, field="original_text") > INLINE_TEXT_BYTES:
            extra["original_text"] = _prefix(original, INLINE_TEXT_BYTES)
            extra["original_text_sha256"] = named(original.encode())
    if parsed.html:
        html = mask_card_numbers(parsed.html)
        if json_size(html, field="html") > INLINE_HTML_BYTES:
            extra["html_sha256"] = named(html.encode())
        else:
            extra["html"] = html
    return _Files(attachments, extra, tuple(contents))


def _one_per_tenant(accounts: Sequence[ChannelAccount]) -> list[ChannelAccount]:
    # One email to two addresses of one tenant is one message for that tenant.
    first: dict[str, ChannelAccount] = {}
    for account in accounts:
        first.setdefault(account.tenant_id, account)
    return list(first.values())


def _inbound(
    parsed: ParsedEmail,
    account: ChannelAccount,
    attachments: tuple[Attachment, ...],
    extra: dict[str, Any],
) -> InboundMessage:
    assert parsed.sender is not None  # only automatic mail has none, and it is never ingested
    properties: dict[str, Any] = {
        "subject": _cap(parsed.subject, MAX_HEADER_CHARS),
        "message_id": _cap(parsed.message_id, MAX_HEADER_CHARS),
        "account": account.address,
        "to": list(parsed.to[:MAX_LISTED_ADDRESSES]),
        "cc": list(parsed.cc[:MAX_LISTED_ADDRESSES]),
        "date": _cap(parsed.date, 100),
        **extra,
    }
    return InboundMessage(
        tenant_id=account.tenant_id,
        channel=Channel.EMAIL,
        sender=parsed.sender,
        sender_name=parsed.sender_name,
        text=parsed.text,
        received_at=utcnow(),
        external_id=parsed.external_id,
        thread_refs=parsed.thread_refs,
        attachments=attachments,
        properties={key: value for key, value in properties.items() if value not in (None, [])},
    )


def _cap(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


def _prefix(text: str, max_bytes: int) -> str:
    cut = text.encode()[:max_bytes].decode("utf-8", "ignore")
    while cut and json_size(cut, field="text") > max_bytes:
        cut = cut[: len(cut) * 3 // 4]
    return cut


__all__ = ["Delivery", "EmailCounters", "EmailInbox", "Outcome"]
