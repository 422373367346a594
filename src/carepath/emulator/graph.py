"""The Graph API subset carepath calls (WhatsApp Cloud API and Messenger / Instagram Send API),
and controls that play the customer by sending signed Meta webhooks to carepath."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from carepath.channels.meta.signature import SIGNATURE_HEADER, sign
from carepath.delivery.idempotency import IDEMPOTENCY_HEADER
from carepath.emulator.app import Emulator, Recorded

# Statuses follow a send like WhatsApp's do, a moment apart (after carepath recorded the wamid).
STATUS_DELAY_S = 0.2
STATUSES = ("sent", "delivered", "read")
BUSINESS_ACCOUNT_ID = "102290129340398"


@dataclass(frozen=True)
class Target:
    """Where and how to sign webhooks for one WhatsApp number."""

    url: str
    app_secret: str


@dataclass
class GraphEmulator:
    emulator: Emulator
    status_targets: dict[str, Target] = field(default_factory=dict)

    def record(self, kind: str, request: Request, body: Any, token: str) -> None:
        # `auth_user` holds the bearer token, so tests can check which account sent.
        self.emulator.requests.append(
            Recorded(
                kind=kind,
                path=request.url.path,
                form={},
                json=body,
                auth_user=token,
                at=datetime.now(UTC).isoformat(),
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            )
        )

    async def post_signed(self, url: str, app_secret: str, payload: Any) -> httpx.Response:
        """POST JSON to carepath signed the way Meta signs it (X-Hub-Signature-256)."""
        body = json.dumps(payload).encode()
        return await self.emulator.http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(app_secret, body)},
        )


def _graph(request: Request) -> GraphEmulator:
    graph: GraphEmulator = request.app.state.graph
    return graph


def _graph_error(status: int, code: int, message: str) -> JSONResponse:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "emulator"}
    return JSONResponse({"error": error}, status)


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("access_token", "")


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def whatsapp_value(phone_number_id: str, **content: Any) -> dict[str, Any]:
    """A Cloud API webhook with one `messages` change: `content` is `contacts` and `messages`,
    or `statuses`."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        **content,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": BUSINESS_ACCOUNT_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


async def whatsapp_messages(request: Request) -> Response:
    graph = _graph(request)
    if not request.path_params["version"].startswith("v"):
        return _graph_error(400, 2500, "Unknown path components")
    token = _token(request)
    if not token:
        return _graph_error(401, 190, "An access token is required")
    body = await _json_body(request)
    problem = _whatsapp_problem(body)
    if body is None or problem:
        return _graph_error(400, 100, problem or "Invalid parameter")
    phone_number_id = request.path_params["phone_number_id"]
    replayed = graph.emulator.replay("whatsapp.message", request)
    if replayed is not None:
        return replayed
    graph.record("whatsapp.message", request, body, token)
    wamid = "wamid." + secrets.token_urlsafe(24)
    target = graph.status_targets.get(phone_number_id)
    if target is not None:
        graph.emulator.later(_statuses(graph, target, phone_number_id, wamid, str(body["to"])))
    message: dict[str, str] = {"id": wamid}
    if body.get("type") == "template":
        message["message_status"] = "accepted"
    recipient = str(body["to"])
    return graph.emulator.answer(
        request,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": recipient.removeprefix("+")}],
            "messages": [message],
        },
    )


def _whatsapp_problem(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return "The body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not body.get("to"):
        return "The parameter to is required"
    kind = body.get("type", "text")
    if kind == "text" and not (body.get("text") or {}).get("body"):
        return "The parameter text['body'] is required"
    if kind == "template":
        template = body.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return "The parameter template['name'] and template['language']['code'] are required"
    return None


async def _statuses(
    graph: GraphEmulator, target: Target, phone_number_id: str, wamid: str, recipient: str
) -> None:
    for status in STATUSES:
        await asyncio.sleep(STATUS_DELAY_S)
        item = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": recipient.removeprefix("+"),
        }
        try:
            await graph.post_signed(
                target.url, target.app_secret, whatsapp_value(phone_number_id, statuses=[item])
            )
        except httpx.HTTPError:
            return  # carepath is gone; Meta would retry, the emulator need not


async def register_status_webhook(request: Request) -> Response:
    """Control: send the statuses of messages from `phone_number_id` to `url`, signed."""
    spec = await request.json()
    _graph(request).status_targets[str(spec["phone_number_id"])] = Target(
        url=spec["url"], app_secret=spec["app_secret"]
    )
    return Response(status_code=204)


async def send_whatsapp(request: Request) -> Response:
    """Control: act as a customer writing on WhatsApp. Body: url, app_secret, phone_number_id,
    from, and text or message (a Cloud API message object such as {"type": "image", …});
    optional: name, message_id, timestamp."""
    spec = await request.json()
    sender = str(spec["from"]).removeprefix("+")
    message_id = spec.get("message_id") or "wamid." + secrets.token_urlsafe(24)
    content = spec.get("message") or {"type": "text", "text": {"body": spec.get("text", "")}}
    message = {
        "from": sender,
        "id": message_id,
        "timestamp": str(spec.get("timestamp") or int(time.time())),
        **content,
    }
    payload = whatsapp_value(
        str(spec["phone_number_id"]),
        contacts=[{"profile": {"name": spec.get("name", "Customer")}, "wa_id": sender}],
        messages=[message],
    )
    response = await _graph(request).post_signed(spec["url"], spec["app_secret"], payload)
    return JSONResponse(
        {"status": response.status_code, "body": response.text, "message_id": message_id}
    )


async def me_messages(request: Request) -> Response:
    """The Send API of Messenger and Instagram (with the linked page's token)."""
    graph = _graph(request)
    token = _token(request)
    if not token:
        return _graph_error(401, 190, "An access token is required")
    body = await _json_body(request) or {}
    recipient = body.get("recipient") or {}
    message = body.get("message") or {}
    if not recipient.get("id") or not (message.get("text") or message.get("attachment")):
        return _graph_error(400, 100, "recipient.id and message.text are required")
    replayed = graph.emulator.replay("messenger.message", request)
    if replayed is not None:
        return replayed
    graph.record("messenger.message", request, body, token)
    return graph.emulator.answer(
        request,
        {"recipient_id": str(recipient["id"]), "message_id": "m_" + secrets.token_urlsafe(32)},
    )


async def send_messenger(request: Request) -> Response:
    """Control: act as a customer writing to a page (object "page") or an Instagram account
    (object "instagram"). Body: url, app_secret, recipient (page or IG id), sender (PSID or
    IGSID), and text or attachments; optional: object, mid."""
    spec = await request.json()
    mid = spec.get("mid") or "m_" + secrets.token_urlsafe(32)
    message: dict[str, Any] = {"mid": mid}
    if spec.get("text"):
        message["text"] = spec["text"]
    if spec.get("attachments"):
        message["attachments"] = spec["attachments"]
    now_ms = int(time.time() * 1000)
    recipient = str(spec["recipient"])
    event = {
        "sender": {"id": str(spec["sender"])},
        "recipient": {"id": recipient},
        "timestamp": now_ms,
        "message": message,
    }
    payload = {
        "object": spec.get("object", "page"),
        "entry": [{"id": recipient, "time": now_ms, "messaging": [event]}],
    }
    response = await _graph(request).post_signed(spec["url"], spec["app_secret"], payload)
    return JSONResponse({"status": response.status_code, "body": response.text, "mid": mid})


def routes() -> list[BaseRoute]:
    return [
        Route("/_emulator/whatsapp/message", send_whatsapp, methods=["POST"]),
        Route("/_emulator/whatsapp/status_webhook", register_status_webhook, methods=["POST"]),
        Route("/_emulator/messenger/message", send_messenger, methods=["POST"]),
        Route("/{version}/me/messages", me_messages, methods=["POST"]),
        Route("/{version}/{phone_number_id}/messages", whatsapp_messages, methods=["POST"]),
    ]


def install(app: Starlette, emulator: Emulator) -> None:
    """Add the Graph API routes and their state to the emulator's app."""
    app.router.routes.extend(routes())
    app.state.graph = GraphEmulator(emulator)
