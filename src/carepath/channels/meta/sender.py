"""Sending through Meta's Graph API: WhatsApp Cloud API messages, and Messenger / Instagram
Send API messages. The base URL and version are settings, so tests talk to the emulator."""

from __future__ import annotations

from typing import Any

import httpx

from carepath.delivery.idempotency import idempotency_header
from carepath.delivery.messages import Outbound
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.errors import DeliveryFailed

# Graph error codes that mean "not now" (throttling, temporary outages), not "never".
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 1200, 80007, 130429, 131016, 131056})


class GraphClient:
    """POSTs JSON to `{base_url}/{version}/{path}` with the account's access token."""

    def __init__(self, http: httpx.AsyncClient, *, base_url: str, version: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.version = version

    async def post(
        self, path: str, token: str, body: dict[str, Any], what: str, *, idempotency_key: str = ""
    ) -> dict[str, Any]:
        try:
            response = await self.http.post(
                f"{self.base_url}/{self.version}/{path}",
                json=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    **idempotency_header(idempotency_key),
                },
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{what} unreachable: {exc}", retryable=True) from exc
        data = _json(response)
        if response.is_success:
            return data
        error = data.get("error")
        if not isinstance(error, dict):
            error = {}
        code = error.get("code")
        retryable = (
            response.status_code >= 500
            or response.status_code == 429
            or (isinstance(code, int) and code in RETRYABLE_CODES)
        )
        detail = error.get("message") or response.text[:300]
        raise DeliveryFailed(
            f"{what} refused the message ({response.status_code}, code {code}): {detail}",
            retryable=retryable,
            provider_code=code,
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _credentials(outbound: Outbound, channel: Channel) -> tuple[ChannelAccount, str]:
    if outbound.account is None:
        raise DeliveryFailed(f"the tenant has no active {channel} account", retryable=True)
    token = str(outbound.secrets.get("access_token", ""))
    if not token:
        raise DeliveryFailed(f"the {channel} account needs secrets.access_token", retryable=False)
    return outbound.account, token


class WhatsAppSender:
    """POST /{version}/{phone_number_id}/messages: text, or the approved template that
    `do_reply` put in the message's properties (the only thing allowed outside the window)."""

    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    async def send(self, outbound: Outbound) -> str | None:
        account, token = _credentials(outbound, Channel.WHATSAPP)
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            # A wa_id is the number without "+"; carepath stores E.164.
            "to": outbound.to.removeprefix("+"),
        }
        template = outbound.message.properties.get("template")
        if isinstance(template, dict):
            body.update(type="template", template=template)
        else:
            body.update(type="text", text={"preview_url": False, "body": outbound.message.text})
        data = await self.graph.post(
            f"{account.address}/messages",
            token,
            body,
            "WhatsApp",
            idempotency_key=outbound.idempotency_key,
        )
        messages = data.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else {}
        wamid = first.get("id") if isinstance(first, dict) else None
        return str(wamid) if wamid else None


class MetaMessagingSender:
    """POST /{version}/me/messages with the page's access token: a Messenger reply to a PSID, or
    an Instagram reply to an IGSID (the token of the page linked to the Instagram account)."""

    def __init__(self, graph: GraphClient, channel: Channel) -> None:
        self.graph = graph
        self.channel = channel

    async def send(self, outbound: Outbound) -> str | None:
        _account, token = _credentials(outbound, self.channel)
        body = {
            "recipient": {"id": outbound.to},
            # A reply to a customer's message, inside Meta's standard messaging window.
            "messaging_type": "RESPONSE",
            "message": {"text": outbound.message.text},
        }
        data = await self.graph.post(
            "me/messages",
            token,
            body,
            self.channel.value.title(),
            idempotency_key=outbound.idempotency_key,
        )
        mid = data.get("message_id")
        return str(mid) if mid else None
