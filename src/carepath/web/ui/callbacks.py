"""Callbacks in the workspace: the agent's (or the whole queue's) callbacks still to make, with
"call now" and "cancel"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from carepath.access import Permission, authorize
from carepath.actions.agent_callbacks import do_cancel_callback
from carepath.actions.outbound_calls import do_call_now
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other
from carepath.web.ui.work_queries import CallbackView, open_callbacks

router = APIRouter(prefix="/app/callbacks", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
Back = Annotated[str, Form(max_length=200)]


def _back(back: str) -> Response:
    return see_other(back if back.startswith("/app") else "/app/callbacks")


@router.get("")
async def callbacks_page(
    request: Request,
    db: DB,
    viewer: CurrentViewer,
    view: Annotated[CallbackView, Query()] = CallbackView.MINE,
) -> Response:
    authorize(viewer.principal, Permission.READ_CASES)
    async with db.uow(write=False) as uow:
        rows = await open_callbacks(uow, viewer.principal.tenant_id, viewer.user.id, view)
    context = {"viewer": viewer, "rows": rows, "view": view, "views": list(CallbackView)}
    return render(request, "ui/callbacks.html", context)


@router.post("/{callback_id}/call")
async def call_now(callback_id: str, db: DB, viewer: CurrentViewer, back: Back = "") -> Response:
    """The provider rings the customer and connects the agent; the case logs the call."""
    await do_call_now(db, viewer.principal, callback_id)
    return _back(back)


@router.post("/{callback_id}/cancel")
async def cancel(callback_id: str, db: DB, viewer: CurrentViewer, back: Back = "") -> Response:
    await do_cancel_callback(db, viewer.principal, callback_id)
    return _back(back)
