"""Placing a call through Twilio's Calls API (or a compatible provider or the emulator)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from carepath.errors import DeliveryFailed

STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class OutboundCall:
    account_sid: str
    auth_token: str
    to: str
    from_: str
    url: str  # the TwiML to run when the callee answers
    status_callback: str


class TwilioCalls:
    """POST /2010-04-01/Accounts/{AccountSid}/Calls.json with basic auth; returns the CallSid."""

    def __init__(self, http: httpx.AsyncClient, *, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    async def place(self, call: OutboundCall) -> str | None:
        form: dict[str, str | list[str]] = {
            "To": call.to,
            "From": call.from_,
            "Url": call.url,
            "Method": "POST",
            "StatusCallback": call.status_callback,
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": list(STATUS_EVENTS),
        }
        try:
            response = await self.http.post(
                f"{self.base_url}/2010-04-01/Accounts/{call.account_sid}/Calls.json",
                data=form,
                auth=(call.account_sid, call.auth_token),
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"voice provider unreachable: {exc}", retryable=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryFailed(f"voice provider answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise DeliveryFailed(
                f"voice provider refused the call ({response.status_code}): {response.text[:300]}",
                retryable=False,
            )
        sid = response.json().get("sid")
        return str(sid) if sid else None
