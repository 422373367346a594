"""The ingest benchmark's ceiling: a bare ASGI endpoint that reads and parses an SMS webhook the
way the real one does, then answers 200 without storing anything. Mounted only with
CAREPATH_BENCH_CEILING (benchmarks/ingest.py); it shows what the server itself costs."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from carepath.channels.twilio.sms import parse_inbound_sms
from carepath.domain.clock import utcnow
from carepath.errors import InvalidInput
from carepath.ids import TenantId

PATH = "/bench/ceiling"
_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_TENANT = TenantId("ten_ceiling")


async def ceiling(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    status, answer = 200, _TWIML
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        parse_inbound_sms(_TENANT, dict(pairs), utcnow())
    except (UnicodeDecodeError, ValueError, InvalidInput):
        status, answer = 400, b"bad form"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/xml"), (b"content-length", b"%d" % len(answer))],
        }
    )
    await send({"type": "http.response.body", "body": answer})
