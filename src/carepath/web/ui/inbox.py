"""The agent's inbox (my cases, the queue, all open) and their presence and capacity in use."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from carepath.access import Permission, authorize
from carepath.actions.agents import do_set_presence
from carepath.actions.tenant_config import current_config
from carepath.domain.cases import CaseStatus
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.routing.model import ChannelKind, Presence
from carepath.storage import UnitOfWork
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other
from carepath.web.ui.queries import InboxFilter, InboxView, SlaState, inbox

router = APIRouter(prefix="/app", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
INBOX_CHANNELS = [c for c in Channel if c is not Channel.WEB]  # web is never a conversation


def inbox_filter(
    view: Annotated[InboxView, Query()] = InboxView.MINE,
    channel: Annotated[Channel | None, Query()] = None,
    status: Annotated[CaseStatus | None, Query()] = None,
    intent: Annotated[str | None, Query(max_length=80)] = None,
    sla: Annotated[SlaState | None, Query()] = None,
) -> InboxFilter:
    return InboxFilter(view=view, channel=channel, status=status, intent=intent or None, sla=sla)


Filter = Annotated[InboxFilter, Depends(inbox_filter)]


async def presence_of(uow: UnitOfWork, viewer: Viewer) -> dict[str, Any]:
    """Presence and capacity in use per channel kind, as the router counts them."""
    user_id = viewer.user.id
    profile = await uow.agents.get(viewer.principal.tenant_id, user_id)
    loads = (await uow.work.loads(viewer.principal.tenant_id, [user_id])).get(user_id, {})
    capacity = profile.capacity if profile else {}
    return {
        "presence": profile.presence.value if profile else Presence.OFFLINE.value,
        "load": [
            (kind.value, loads.get(kind, 0), capacity.get(kind.value, 0)) for kind in ChannelKind
        ],
    }


async def _rows_context(db: DB, viewer: Viewer, where: InboxFilter) -> dict[str, Any]:
    authorize(viewer.principal, Permission.READ_CASES)
    if where.view is InboxView.OPEN:
        authorize(viewer.principal, Permission.SUPERVISE)
    tenant_id = viewer.principal.tenant_id
    async with db.uow(write=False) as uow:
        if where.view is InboxView.QUEUE:
            profile = await uow.agents.get(tenant_id, viewer.user.id)
            # No skills yet (no routing profile): the whole queue rather than nothing.
            skills = tuple(profile.skills) if profile and profile.skills else None
            where = replace(where, skills=skills)
        rows = await inbox(uow, tenant_id, viewer.user.id, where, utcnow())
    return {"rows": rows, "where": where, "viewer": viewer}


async def _tabs_context(db: DB, viewer: Viewer, where: InboxFilter) -> dict[str, Any]:
    """The views, with the unread and SLA-breach counts of the viewer's own cases."""
    async with db.uow(write=False) as uow:
        mine = await inbox(uow, viewer.principal.tenant_id, viewer.user.id, InboxFilter(), utcnow())
    return {
        "where": where,
        "views": [
            v for v in InboxView if v is not InboxView.OPEN or viewer.can(Permission.SUPERVISE)
        ],
        "unread": sum(1 for r in mine if r.unread),
        "breached": sum(1 for r in mine if r.sla_breached),
    }


@router.get("")
async def inbox_page(request: Request, db: DB, viewer: CurrentViewer, where: Filter) -> Response:
    context = await _rows_context(db, viewer, where)
    async with db.uow(write=False) as uow:
        context.update(await presence_of(uow, viewer))
        config = await current_config(uow, viewer.principal.tenant_id)
    context.update(await _tabs_context(db, viewer, where))
    context.update(
        channels=INBOX_CHANNELS,
        sla_states=list(SlaState),
        statuses=[s for s in CaseStatus if s.is_open],
        intents=[i.name for i in config.intents],
        presences=list(Presence),
    )
    return render(request, "ui/inbox.html", context)


@router.get("/inbox/rows")
async def inbox_rows(request: Request, db: DB, viewer: CurrentViewer, where: Filter) -> Response:
    """The rows alone: what the page swaps in when the event stream says something changed."""
    return render(request, "ui/_inbox_rows.html", await _rows_context(db, viewer, where))


@router.get("/inbox/tabs")
async def inbox_tabs(request: Request, db: DB, viewer: CurrentViewer, where: Filter) -> Response:
    """The view tabs with their live badges."""
    authorize(viewer.principal, Permission.READ_CASES)
    return render(request, "ui/_inbox_tabs.html", await _tabs_context(db, viewer, where))


@router.get("/presence")
async def presence_part(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    """Presence and capacity in use, reloaded live as work reaches or leaves the agent."""
    authorize(viewer.principal, Permission.WORK_CASES)
    async with db.uow(write=False) as uow:
        context = await presence_of(uow, viewer)
    context.update(viewer=viewer, presences=list(Presence))
    return render(request, "ui/_presence.html", context)


@router.post("/presence")
async def set_presence(
    request: Request,
    db: DB,
    viewer: CurrentViewer,
    presence: Annotated[Presence, Form()],
) -> Response:
    await do_set_presence(db, viewer.principal, presence)
    if request.headers.get("hx-request"):
        return await presence_part(request, db, viewer)
    return see_other("/app")
