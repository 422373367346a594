"""One visitor's WebSocket: their own events out (resumable from any event id, like the agents'
stream: the database is the record, the doorbell only says when to look), their messages,
typing and read receipts in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from carepath.channels.widget.inbound import mark_read, send_message, signal_typing
from carepath.channels.widget.limits import VisitorLimits
from carepath.channels.widget.projection import Projector
from carepath.channels.widget.protocol import FrameTooLarge, Read, SendMessage, parse_frame
from carepath.channels.widget.session import Visitor, resolve
from carepath.errors import AuthenticationRequired, CarepathError
from carepath.realtime import Doorbell, Listener
from carepath.storage import Database

log = logging.getLogger("carepath.widget")
BATCH = 200
HEARTBEAT_S = 25.0
# Who the visitor is (merges, a visitor id since signed in with) is checked again this often.
RESOLVE_EVERY_S = 30.0
CLOSE_TOO_BIG = 1009
CLOSE_UNAUTHORIZED = 4401


class VisitorStream:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        db: Database,
        doorbell: Doorbell,
        limits: VisitorLimits,
        visitor: Visitor,
        secret: str,
    ) -> None:
        self.ws = websocket
        self.db = db
        self.doorbell = doorbell
        self.limits = limits
        self.visitor = visitor
        self.projector = Projector(visitor.session.tenant_id, secret)
        self._send_lock = asyncio.Lock()

    async def run(self, last_event_id: int) -> None:
        tenant_id = self.visitor.session.tenant_id
        # Listen before the first read so that nothing committed in between goes unnoticed.
        async with self.doorbell.listen(tenant_id) as listener:
            await self.send(
                {
                    "type": "stream.ready",
                    "last_event_id": last_event_id,
                    "visitor": {
                        "visitor_id": self.visitor.session.visitor_id,
                        "verified": self.visitor.session.verified,
                        "channel": self.visitor.session.channel.value,
                    },
                }
            )
            reader = asyncio.create_task(self._read())
            try:
                await self._write(listener, last_event_id, reader)
            except AuthenticationRequired as exc:
                await self.ws.close(code=CLOSE_UNAUTHORIZED, reason=exc.message[:120])
            except (WebSocketDisconnect, RuntimeError):
                pass  # the client went away mid-send
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _write(self, listener: Listener, seq: int, reader: asyncio.Task[None]) -> None:
        tenant_id = self.visitor.session.tenant_id
        loop = asyncio.get_running_loop()
        resolved_at = loop.time()
        while not reader.done():
            # Every event up to a seq already rung is committed: after this read, only a ring
            # above it can mean news for this visitor (other customers' events ring too).
            rung_before = listener.latest or 0
            async with self.db.uow(write=False) as uow:
                if loop.time() - resolved_at > RESOLVE_EVERY_S:
                    self.visitor = await resolve(uow, self.visitor.session)
                    resolved_at = loop.time()
                batch = await uow.events.after_for_customers(
                    tenant_id, self.visitor.cluster, seq, limit=BATCH
                )
                frames = [await self.projector.project(uow, event) for event in batch]
            for event, frame in zip(batch, frames, strict=True):
                if frame is not None:
                    await self.send(frame)
                seq = event.seq
            if len(batch) == BATCH:
                continue
            rung = asyncio.create_task(listener.wait(max(seq, rung_before), HEARTBEAT_S))
            await asyncio.wait({rung, reader}, return_when=asyncio.FIRST_COMPLETED)
            if not rung.done():
                rung.cancel()
            elif rung.result() is None and not reader.done():
                await self.send({"type": "heartbeat", "last_event_id": seq})

    async def _read(self) -> None:
        """Handle client frames one at a time, in order, until the client goes away."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                raw = await self.ws.receive_text()
                try:
                    await self._handle(raw)
                except FrameTooLarge as exc:
                    await self.ws.close(code=CLOSE_TOO_BIG, reason=exc.message[:120])
                    return
                except CarepathError as exc:
                    await self.send(_error(exc))
                except (WebSocketDisconnect, RuntimeError):
                    raise
                except Exception:
                    log.exception("visitor frame failed")
                    await self.send(
                        {
                            "type": "error",
                            "code": "internal_error",
                            "message": "something went wrong on our side; send it again",
                        }
                    )

    async def _handle(self, raw: str) -> None:
        frame = parse_frame(raw)
        if isinstance(frame, SendMessage):
            await self._guarded(frame.client_id, self._send_message(frame))
        elif isinstance(frame, Read):
            await mark_read(self.db, self.visitor, frame.up_to)
        else:
            await signal_typing(self.db, self.limits, self.visitor, frame.case_id)

    async def _send_message(self, frame: SendMessage) -> None:
        sent = await send_message(
            self.db,
            self.limits,
            self.visitor,
            client_id=frame.client_id,
            text=frame.text,
            case_id=frame.case_id,
        )
        await self.send(
            {
                "type": "ack",
                "client_id": sent.client_id,
                "message_id": sent.message_id,
                "case_id": sent.case_id,
                "created_at": sent.created_at.isoformat(),
                "duplicate": sent.duplicate,
            }
        )

    async def _guarded(self, client_id: str, work: Awaitable[None]) -> None:
        """Errors about one message name its client_id, so the client knows which one failed."""
        try:
            await work
        except CarepathError as exc:
            exc.data.setdefault("client_id", client_id)
            raise

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)


def _error(exc: CarepathError) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
    frame.update({k: v for k, v in exc.data.items() if k in _ERROR_FIELDS})
    return frame


_ERROR_FIELDS = frozenset({"client_id", "retry_after_s", "limit", "field", "reason"})
