"""The supervisor console: the live board per queue and agent, and any agent's open cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from carepath.access import Permission, authorize, scoped
from carepath.domain.clock import utcnow
from carepath.routing.model import ChannelKind, Presence
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render
from carepath.web.ui.queries import InboxFilter, InboxView, board, inbox

router = APIRouter(prefix="/app/supervisor", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


async def _board_context(db: DB, viewer: Viewer) -> dict[str, Any]:
    authorize(viewer.principal, Permission.SUPERVISE)
    async with db.uow(write=False) as uow:
        found = await board(uow, viewer.principal.tenant_id, utcnow())
    return {"board": found, "presences": list(Presence), "kinds": list(ChannelKind)}


@router.get("")
async def board_page(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    context = await _board_context(db, viewer)
    return render(request, "ui/supervisor.html", {**context, "viewer": viewer})


@router.get("/board")
async def board_part(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    """The board alone: swapped in when the event stream says work or presence changed."""
    return render(request, "ui/_board.html", await _board_context(db, viewer))


@router.get("/agents/{user_id}")
async def agent_cases(user_id: str, request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    tenant_id = viewer.principal.tenant_id
    async with db.uow(write=False) as uow:
        agent = scoped(viewer.principal, await uow.users.get(tenant_id, user_id), "user")
        where = InboxFilter(view=InboxView.OPEN, assignee_id=agent.id)
        rows = await inbox(uow, tenant_id, viewer.user.id, where, utcnow())
        users = await uow.users.list(tenant_id, limit=200, cursor=None)
    context = {
        "viewer": viewer,
        "agent": agent,
        "rows": rows,
        "assignees": [u for u in users.items if u.is_active],
    }
    return render(request, "ui/agent_cases.html", context)
