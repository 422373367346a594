"""The visitor protocol of the web chat widget and in-app messaging: a session handshake with the
tenant's public key, then the visitor's own stream (WebSocket) and its REST equivalents.

The protocol is documented in docs/subsystems/channels.md ("Web chat and in-app").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, WebSocket
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from carepath.access import Permission, authorize, scoped
from carepath.actions.conversation import do_signal_typing
from carepath.channels.widget import Visitor, VisitorLimits, issue_token, open_session, read_token
from carepath.channels.widget import resolve as resolve_visitor
from carepath.channels.widget.continuation import open_continued_session
from carepath.channels.widget.inbound import (
    mark_read,
    request_callback,
    send_message,
    signal_typing,
)
from carepath.channels.widget.projection import Projector
from carepath.channels.widget.protocol import check_client_id
from carepath.channels.widget.stream import CLOSE_UNAUTHORIZED, VisitorStream
from carepath.domain.contacts import Channel
from carepath.domain.messages import AuthorKind
from carepath.errors import AuthenticationRequired
from carepath.web.deps import DB, CurrentPrincipal, get_state
from carepath.web.routes.identify import KEY_HEADER, Site
from carepath.web.schemas import Request as RequestBody

router = APIRouter(tags=["visitor"])

SESSION_HEADER = "X-Carepath-Session"
_HEX_SHA256 = r"^[0-9a-fA-F]{64}$"
MAX_EVENTS = 500


class SessionIn(RequestBody):
    visitor_id: str = Field(
        min_length=1, max_length=200, description="The browser's or device's own random id."
    )
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    hash: str | None = Field(
        default=None,
        pattern=_HEX_SHA256,
        description="Hex HMAC-SHA256 of user_id with the identity secret (from your backend).",
    )
    channel: Literal["chat", "app"] = Field(
        default="chat", description="`chat` for the web widget, `app` for in-app messaging."
    )
    continue_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description='The token of a "continue in chat" link texted to a caller: the session is '
        "then that phone's customer, on the link's case (user_id and hash are not used).",
    )


class SessionOut(BaseModel):
    session: str = Field(description=f"Send as `{SESSION_HEADER}`, or `?session=` on the stream.")
    expires_at: datetime
    visitor_id: str
    verified: bool = Field(description="A user was proven (hash or backend); else anonymous.")
    customer_id: str
    channel: str
    case_id: str | None = Field(
        default=None, description="The case a continue-in-chat link opened; send it with messages."
    )


class MessageIn(RequestBody):
    client_id: str = Field(max_length=64, description="A UUID the client makes per message.")
    text: str = Field(description="At most 5,000 characters.")
    case_id: str | None = Field(default=None, max_length=64)

    @field_validator("client_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return check_client_id(value)


class SentOut(BaseModel):
    client_id: str
    message_id: str
    case_id: str
    created_at: datetime
    duplicate: bool = Field(description="True for a resend: stored the first time, not again.")


class EventsOut(BaseModel):
    events: list[dict[str, Any]] = Field(description="Oldest first, as on the stream.")
    last_event_id: int = Field(description="Pass as `after` next time.")
    more: bool = Field(description="More events are waiting: ask again at once.")


class TypingIn(RequestBody):
    case_id: str | None = Field(default=None, max_length=64)


class TypingOut(BaseModel):
    signalled: bool = Field(description="False when throttled (one signal per 3 s is enough).")


class ReadIn(RequestBody):
    up_to: str = Field(min_length=1, max_length=64, description="The newest message id read.")


class ReadOut(BaseModel):
    marked: int


class CallbackIn(RequestBody):
    phone: str = Field(min_length=3, max_length=40, description="International: +44 20 7946 0958")
    when: Literal["now"] | AwareDatetime = Field(
        default="now", description='"now", or an ISO time with its zone (within 30 days).'
    )
    case_id: str | None = Field(default=None, max_length=64)


class CallbackOut(BaseModel):
    id: str
    case_id: str
    phone: str
    requested_for: datetime
    status: str


async def current_visitor(
    request: Request,
    session: Annotated[
        str | None, Header(alias=SESSION_HEADER, description="From POST /v1/visitor/session.")
    ] = None,
) -> Visitor:
    if not session:
        raise AuthenticationRequired(
            f"send {SESSION_HEADER}: open a session with POST /v1/visitor/session",
            reason="invalid_session",
        )
    return await _visitor(request, session)


async def _visitor(conn: HTTPConnection, token: str) -> Visitor:
    state = get_state(conn)
    session = read_token(state.settings.secret(), token)
    async with state.db.uow(write=False) as uow:
        return await resolve_visitor(uow, session)


CurrentVisitor = Annotated[Visitor, Depends(current_visitor)]


def _limits(request: Request) -> VisitorLimits:
    return get_state(request).visitor_limits


Limits = Annotated[VisitorLimits, Depends(_limits)]


@router.post("/v1/visitor/session", summary="Open a visitor session (widget or app)")
async def open_visitor_session(
    body: SessionIn, caller: Site, db: DB, request: Request
) -> SessionOut:
    secret = get_state(request).settings.secret()
    if body.continue_token is not None:
        visitor = await open_continued_session(
            db,
            caller.tenant,
            visitor_id=body.visitor_id,
            channel=Channel(body.channel),
            token=body.continue_token,
            secret=secret,
        )
    else:
        visitor = await open_session(
            db,
            caller.tenant,
            visitor_id=body.visitor_id,
            user_id=body.user_id,
            hash=body.hash,
            channel=Channel(body.channel),
            trusted=caller.trusted,
        )
    token, expires_at = issue_token(secret, visitor.session)
    return SessionOut(
        session=token,
        expires_at=expires_at,
        visitor_id=visitor.session.visitor_id,
        verified=visitor.session.verified,
        customer_id=visitor.customer_id,
        channel=visitor.session.channel.value,
        case_id=visitor.session.case_id,
    )


@router.post("/v1/visitor/messages", status_code=201, summary="Send a message as the visitor")
async def post_message(
    body: MessageIn, visitor: CurrentVisitor, db: DB, limits: Limits, response: Response
) -> SentOut:
    sent = await send_message(
        db, limits, visitor, client_id=body.client_id, text=body.text, case_id=body.case_id
    )
    if sent.duplicate:
        response.status_code = 200
    return SentOut(
        client_id=sent.client_id,
        message_id=sent.message_id,
        case_id=sent.case_id,
        created_at=sent.created_at,
        duplicate=sent.duplicate,
    )


@router.get("/v1/visitor/messages", summary="The visitor's events after an event id (polling)")
async def get_events(
    visitor: CurrentVisitor,
    request: Request,
    db: DB,
    after: int = Query(default=0, ge=0, description="The last event id seen; 0 for everything."),
    limit: int = Query(default=200, ge=1, le=MAX_EVENTS),
) -> EventsOut:
    projector = Projector(visitor.session.tenant_id, get_state(request).settings.secret())
    async with db.uow(write=False) as uow:
        batch = await uow.events.after_for_customers(
            visitor.session.tenant_id, visitor.cluster, after, limit=limit
        )
        frames = [await projector.project(uow, event) for event in batch]
    return EventsOut(
        events=[frame for frame in frames if frame is not None],
        last_event_id=batch[-1].seq if batch else after,
        more=len(batch) == limit,
    )


@router.post("/v1/visitor/typing", status_code=202, summary="The visitor is typing")
async def post_typing(body: TypingIn, visitor: CurrentVisitor, db: DB, limits: Limits) -> TypingOut:
    return TypingOut(signalled=await signal_typing(db, limits, visitor, body.case_id))


@router.post("/v1/visitor/read", summary="The visitor read the replies up to a message")
async def post_read(body: ReadIn, visitor: CurrentVisitor, db: DB) -> ReadOut:
    return ReadOut(marked=await mark_read(db, visitor, body.up_to))


@router.post("/v1/visitor/callbacks", status_code=201, summary='"Call me": request a callback')
async def post_callback(body: CallbackIn, visitor: CurrentVisitor, db: DB) -> CallbackOut:
    when = None if body.when == "now" else body.when
    assert when is None or isinstance(when, datetime)
    callback = await request_callback(
        db, visitor, phone=body.phone, when=when, case_id=body.case_id
    )
    return CallbackOut(
        id=callback.id,
        case_id=callback.case_id,
        phone=callback.phone,
        requested_for=callback.requested_for,
        status=callback.status.value,
    )


@router.post(
    "/v1/cases/{case_id}/typing",
    status_code=202,
    tags=["cases"],
    summary="The agent is typing (shown in the customer's widget or app)",
)
async def agent_typing(
    case_id: str, principal: CurrentPrincipal, db: DB, limits: Limits
) -> TypingOut:
    authorize(principal, Permission.WORK_CASES)
    async with db.uow(write=False) as uow:
        case = scoped(principal, await uow.cases.get(principal.tenant_id, case_id), "case")
    if not limits.may_signal_typing(f"{principal.tenant_id}/{principal.actor}/{case.id}"):
        return TypingOut(signalled=False)
    author = AuthorKind.AGENT if principal.user_id else AuthorKind.SYSTEM
    await do_signal_typing(
        db,
        principal.tenant_id,
        case.customer_id,
        case_id=case.id,
        author_kind=author,
        author_id=principal.user_id,
    )
    return TypingOut(signalled=True)


@router.websocket("/v1/visitor/stream")
async def visitor_stream(
    websocket: WebSocket,
    session: str | None = Query(default=None, max_length=2000),
    last_event_id: int = Query(
        default=0, ge=0, description="Resume after this event id; 0 replays the whole history."
    ),
) -> None:
    # Accept first: a refusal before accepting reaches clients as a bare HTTP 403.
    await websocket.accept()
    try:
        if not session:
            raise AuthenticationRequired("send ?session= from POST /v1/visitor/session")
        visitor = await _visitor(websocket, session)
    except AuthenticationRequired as exc:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason=exc.message[:120])
        return
    state = get_state(websocket)
    stream = VisitorStream(
        websocket,
        db=state.db,
        doorbell=state.doorbell,
        limits=state.visitor_limits,
        visitor=visitor,
        secret=state.settings.secret(),
    )
    await stream.run(last_event_id)


class VisitorCors:
    """CORS for the visitor protocol and survey answers: the widget runs in the company's pages,
    another origin than carepath's. No credentials cross; the session header is the proof."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", KEY_HEADER, SESSION_HEADER],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (
            path.startswith("/v1/visitor/") or path == "/v1/surveys/answer"
        ):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
