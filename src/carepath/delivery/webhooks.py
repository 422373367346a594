"""Outgoing webhooks: POST one event, signed, to an integrator's endpoint, and judge the answer."""

from __future__ import annotations

import json

import httpx

from carepath.delivery.base import HandlerContext
from carepath.domain.events import Event
from carepath.domain.outbox import OutboxItem
from carepath.domain.webhooks import SIGNATURE_HEADER, sign_webhook
from carepath.errors import DeliveryFailed
from carepath.webhook_targets import PinnedTarget, TargetRefused, TargetUnresolved, pin

EVENT_ID_HEADER = "X-Carepath-Event-Id"
EVENT_TYPE_HEADER = "X-Carepath-Event-Type"
# Enough of a refusal's body to say why in last_error, without reading whatever a receiver sends.
EXCERPT_BYTES = 500


def webhook_body(event: Event) -> bytes:
    """The exact bytes sent and signed: the event as the API shows it, plus its tenant."""
    wire = {**event.to_wire(), "tenant_id": event.tenant_id}
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()


def is_retryable_status(status: int) -> bool:
    """A timeout, rate limit or server error may pass; any other refusal will not."""
    return status in (408, 429) or status >= 500


class WebhookHandler:
    """Handles outbox items of kind "webhook" (payload `{"endpoint_id", "seq"}`).

    Receivers get each event at least once and must deduplicate on `X-Carepath-Event-Id` (the
    event's seq, unique per tenant; an endpoint belongs to one tenant). An endpoint deleted after
    the event was queued gets nothing: the item goes dead with that reason, so the delivery list
    shows it was never sent rather than passing for delivered.
    """

    def __init__(self, http: httpx.AsyncClient, *, allow_private: bool = False) -> None:
        self.http = http
        # settings.webhook_allow_private_targets: loopback receivers in development and tests.
        self.allow_private = allow_private

    async def __call__(self, item: OutboxItem, ctx: HandlerContext) -> None:
        endpoint_id = str(item.payload.get("endpoint_id", ""))
        seq = item.payload.get("seq")
        async with ctx.db.uow(write=False) as uow:
            endpoint = await uow.webhooks.get(item.tenant_id, endpoint_id)
            event = await uow.events.get(item.tenant_id, seq) if isinstance(seq, int) else None
        if endpoint is None or not endpoint.active:
            raise DeliveryFailed(
                "not sent: the webhook endpoint was deleted", retryable=False, endpoint=endpoint_id
            )
        if event is None:
            raise DeliveryFailed(f"not sent: event {seq!r} does not exist", retryable=False)
        body = webhook_body(event)
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: str(event.seq),
            EVENT_TYPE_HEADER: event.type,
            SIGNATURE_HEADER: sign_webhook(endpoint.secret, int(ctx.clock().timestamp()), body),
        }
        target = await _pinned(endpoint.url, allow_private=self.allow_private)
        if target.host_header:
            headers["Host"] = target.host_header
        extensions = {"sni_hostname": target.sni} if target.sni else None
        try:
            async with self.http.stream(
                "POST", target.url, content=body, headers=headers, extensions=extensions
            ) as response:
                if response.is_success:
                    return
                excerpt = await _excerpt(response)
        except httpx.UnsupportedProtocol as exc:
            raise DeliveryFailed(f"cannot POST to {endpoint.url}: {exc}", retryable=False) from exc
        except httpx.RequestError as exc:
            # Connection refused or reset, DNS failure, timeout: the receiver may be back later.
            raise DeliveryFailed(
                _say(f"POST failed: {type(exc).__name__}", str(exc)), retryable=True
            ) from exc
        status = response.status_code
        hint = " (redirects are not followed: register the final URL)" if status < 400 else ""
        raise DeliveryFailed(
            _say(f"the endpoint answered HTTP {status}{hint}", excerpt),
            retryable=is_retryable_status(status),
            status=status,
        )


async def _pinned(url: str, *, allow_private: bool) -> PinnedTarget:
    """The vetted address to POST to (SSRF guard, see carepath.webhook_targets)."""
    try:
        return await pin(url, allow_private=allow_private)
    except TargetRefused as exc:
        raise DeliveryFailed(f"not sent: {exc.message}", retryable=False) from exc
    except TargetUnresolved as exc:
        raise DeliveryFailed(f"POST failed: {exc}", retryable=True) from exc


def _say(what: str, detail: str) -> str:
    return f"{what}: {detail}" if detail else what


async def _excerpt(response: httpx.Response) -> str:
    received = bytearray()
    async for chunk in response.aiter_bytes():
        received += chunk
        if len(received) >= EXCERPT_BYTES:
            break
    return bytes(received[:EXCERPT_BYTES]).decode("utf-8", "replace").strip()
