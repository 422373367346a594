"""GET /v1/stream: the tenant's events over a WebSocket, resumable from any `last_event_id`.

The database is the record: the stream reads events after the client's last id from it, then
waits for the doorbell (or a heartbeat timeout) and reads again. A lost doorbell costs latency,
never an event; a reconnecting client gets exactly what it missed, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from carepath.access import Permission, authorize
from carepath.errors import CarepathError
from carepath.web.deps import authenticate_connection, get_state

router = APIRouter(tags=["events"])
log = logging.getLogger("carepath.stream")
BATCH = 500
HEARTBEAT_S = 25.0
# Close codes in the private range, mirroring HTTP statuses so clients can tell them apart.
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403


@router.websocket("/v1/stream")
async def stream(
    websocket: WebSocket,
    last_event_id: int | None = Query(
        default=None, ge=0, description="Resume after this event id; omit to start from now."
    ),
) -> None:
    try:
        principal = await authenticate_connection(websocket, method="WEBSOCKET")
        authorize(principal, Permission.READ_CASES)
    except CarepathError as exc:
        code = CLOSE_UNAUTHORIZED if exc.code == "authentication_required" else CLOSE_FORBIDDEN
        # Accept first: a refusal before accepting reaches clients as a bare HTTP 403.
        await websocket.accept()
        await websocket.close(code=code, reason=exc.message[:120])
        return
    state = get_state(websocket)
    tenant_id = principal.tenant_id
    await websocket.accept()
    # Listen before the first read so that nothing committed in between goes unnoticed.
    async with state.doorbell.listen(tenant_id) as listener:
        if last_event_id is None:
            async with state.db.uow(write=False) as uow:
                last_event_id = await uow.events.last_seq(tenant_id)
        seq = last_event_id
        await websocket.send_json({"type": "stream.ready", "last_event_id": seq})
        disconnected = asyncio.create_task(_until_disconnect(websocket))
        feed = state.feed()
        upto: int | None = None  # the seq last rung; None reads the database itself
        try:
            with feed.streaming(tenant_id):
                while not disconnected.done():
                    batch = await feed.after(tenant_id, seq, limit=BATCH, upto=upto)
                    for frame in batch:
                        await websocket.send_text(frame.text)
                        seq = frame.seq
                    if len(batch) == BATCH:
                        continue
                    rung = asyncio.create_task(listener.wait(seq, HEARTBEAT_S))
                    await asyncio.wait({rung, disconnected}, return_when=asyncio.FIRST_COMPLETED)
                    upto = None
                    if not rung.done():
                        rung.cancel()
                    elif (upto := rung.result()) is None and not disconnected.done():
                        await websocket.send_json({"type": "heartbeat", "last_event_id": seq})
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away mid-send
        finally:
            disconnected.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await disconnected


async def _until_disconnect(websocket: WebSocket) -> None:
    """Clients send nothing we need; reading is how a disconnect is noticed."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()
