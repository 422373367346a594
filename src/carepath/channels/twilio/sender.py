"""Sending SMS through the Messages API of Twilio (or a compatible provider or emulator)."""

from __future__ import annotations

import httpx

from carepath.delivery.idempotency import idempotency_header
from carepath.delivery.messages import Outbound
from carepath.errors import DeliveryFailed


class TwilioSmsSender:
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json with basic auth.

    The account's config holds `account_sid`; its secrets hold `auth_token`. The base URL is a
    setting so tests and the demo talk to the local emulator.
    """

    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, status_callback: str | None
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.status_callback = status_callback

    async def send(self, outbound: Outbound) -> str | None:
        account = outbound.account
        if account is None:
            raise DeliveryFailed("the tenant has no active SMS account", retryable=True)
        sid = str(account.config.get("account_sid", ""))
        token = str(outbound.secrets.get("auth_token", ""))
        if not sid or not token:
            raise DeliveryFailed(
                "the SMS account needs config.account_sid and secrets.auth_token", retryable=False
            )
        form = {"To": outbound.to, "From": account.address, "Body": outbound.message.text}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback.format(tenant=account.tenant_id)
        try:
            response = await self.http.post(
                f"{self.base_url}/2010-04-01/Accounts/{sid}/Messages.json",
                data=form,
                auth=(sid, token),
                headers=idempotency_header(outbound.idempotency_key),
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"SMS provider unreachable: {exc}", retryable=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryFailed(f"SMS provider answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise DeliveryFailed(
                f"SMS provider refused the message ({response.status_code}): {response.text[:300]}",
                retryable=False,
            )
        message_sid = response.json().get("sid")
        return str(message_sid) if message_sid else None
