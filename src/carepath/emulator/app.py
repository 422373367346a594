"""The emulator's ASGI app: provider endpoints plus /_emulator/ controls."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carepath.channels.twilio.signature import SIGNATURE_HEADER, sign
from carepath.delivery.idempotency import IDEMPOTENCY_HEADER

# Status callbacks follow a send like the provider's do, a moment apart.
CALLBACK_DELAY_S = 0.05


@dataclass
class Recorded:
    kind: str
    path: str
    form: dict[str, str]
    json: Any
    auth_user: str | None
    at: str
    idempotency_key: str | None = None


@dataclass
class Emulator:
    """What the emulator saw and holds; shared by its routes."""

    requests: list[Recorded] = field(default_factory=list)
    # Repeats answered from `answers` instead of sent again (Idempotency-Key).
    replays: list[Recorded] = field(default_factory=list)
    # (path, Idempotency-Key) → (status, body) of the send that key first made.
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def record(self, kind: str, request: Request, form: dict[str, str], body: Any = None) -> None:
        self.requests.append(
            Recorded(
                kind=kind,
                path=request.url.path,
                form=form,
                json=body,
                auth_user=_basic_user(request),
                at=datetime.now(UTC).isoformat(),
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            )
        )

    def replay(self, kind: str, request: Request) -> JSONResponse | None:
        """The first answer again when this Idempotency-Key was already used on this path, the
        way idempotent provider APIs answer a client's retry: nothing is sent twice."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        answer = self.answers.get((request.url.path, key)) if key else None
        if answer is None:
            return None
        self.replays.append(
            Recorded(
                kind=kind,
                path=request.url.path,
                form={},
                json=None,
                auth_user=None,
                at=datetime.now(UTC).isoformat(),
                idempotency_key=key,
            )
        )
        return JSONResponse(answer[1], answer[0], headers={"Idempotent-Replayed": "true"})

    def answer(self, request: Request, body: Any, status: int = 200) -> JSONResponse:
        """Answer a send, remembering it under its Idempotency-Key (if any) for repeats.

        Callers do this with no `await` between `replay` and here, so two concurrent requests
        with one key cannot both send."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key:
            self.answers[(request.url.path, key)] = (status, body)
        return JSONResponse(body, status)

    def later(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def post_signed_form(
        self, url: str, auth_token: str, form: dict[str, str]
    ) -> httpx.Response:
        """POST a form to carepath signed the way Twilio signs it."""
        pairs = list(form.items())
        headers = {SIGNATURE_HEADER: sign(auth_token, url, pairs)}
        return await self.http.post(
            url,
            content=urlencode(pairs),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )


def _basic_user(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(header[6:]).decode().split(":", 1)[0]
    except (ValueError, UnicodeDecodeError):
        return None


def _basic_password(request: Request) -> str:
    header = request.headers.get("authorization", "")
    try:
        return base64.b64decode(header[6:]).decode().split(":", 1)[1]
    except (ValueError, UnicodeDecodeError, IndexError):
        return ""


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


async def twilio_messages(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    account_sid = request.path_params["account_sid"]
    if _basic_user(request) != account_sid:
        return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
    form = {k: str(v) for k, v in (await request.form()).items()}
    missing = [name for name in ("To", "From", "Body") if not form.get(name)]
    if missing:
        return JSONResponse(
            {"code": 21604, "message": f"missing {', '.join(missing)}", "status": 400}, 400
        )
    replayed = emulator.replay("twilio.message", request)
    if replayed is not None:
        return replayed
    emulator.record("twilio.message", request, form)
    sid = _sid("SM")
    callback = form.get("StatusCallback")
    if callback:
        emulator.later(_status_callbacks(emulator, callback, _basic_password(request), sid, form))
    return emulator.answer(
        request,
        {
            "sid": sid,
            "account_sid": account_sid,
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
            "status": "queued",
        },
        201,
    )


async def _status_callbacks(
    emulator: Emulator, url: str, token: str, sid: str, sent: dict[str, str]
) -> None:
    for status in ("sent", "delivered"):
        await asyncio.sleep(CALLBACK_DELAY_S)
        form = {"MessageSid": sid, "MessageStatus": status, "To": sent["To"], "From": sent["From"]}
        try:
            await emulator.post_signed_form(url, token, form)
        except httpx.HTTPError:
            return  # carepath is gone; a real provider would retry, the emulator need not


async def send_sms(request: Request) -> Response:
    """Control: act as a customer texting carepath. Body: url, auth_token, from, to, body."""
    emulator: Emulator = request.app.state.emulator
    spec = await request.json()
    form = {
        "MessageSid": spec.get("message_sid") or _sid("SM"),
        "AccountSid": spec.get("account_sid", "AC" + "0" * 32),
        "From": spec["from"],
        "To": spec["to"],
        "Body": spec.get("body", ""),
        "NumMedia": "0",
    }
    response = await emulator.post_signed_form(spec["url"], spec["auth_token"], form)
    return JSONResponse(
        {"status": response.status_code, "body": response.text, "message_sid": form["MessageSid"]}
    )


async def list_requests(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    kind = request.query_params.get("kind")
    return JSONResponse([r.__dict__ for r in emulator.requests if kind is None or r.kind == kind])


async def list_replays(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    return JSONResponse([r.__dict__ for r in emulator.replays])


async def clear_requests(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    emulator.requests.clear()
    emulator.replays.clear()
    return Response(status_code=204)


def create_emulator() -> Starlette:
    emulator = Emulator()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for task in list(emulator.tasks):
                task.cancel()
            await emulator.http.aclose()

    app = Starlette(
        routes=[
            Route(
                "/2010-04-01/Accounts/{account_sid}/Messages.json",
                twilio_messages,
                methods=["POST"],
            ),
            Route("/_emulator/twilio/sms", send_sms, methods=["POST"]),
            Route("/_emulator/requests", list_requests, methods=["GET"]),
            Route("/_emulator/requests", clear_requests, methods=["DELETE"]),
            Route("/_emulator/replays", list_replays, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    from carepath.emulator import graph, voice  # here: both build on this module's Emulator

    graph.install(app, emulator)
    voice.install(app, emulator)
    return app
