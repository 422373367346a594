"""Offers of routed work (tenants whose routing does not auto-accept): shown live on every page
of the workspace, accepted or declined in one click."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from carepath.access import Permission, authorize
from carepath.actions.work_offers import do_accept_work, do_decline_work
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other
from carepath.web.ui.work_queries import offers

router = APIRouter(prefix="/app", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


@router.get("/offers")
async def offers_part(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    """The viewer's open offers; the region every page reloads when work changes."""
    authorize(viewer.principal, Permission.WORK_CASES)
    async with db.uow(write=False) as uow:
        rows = await offers(uow, viewer.principal.tenant_id, viewer.user.id)
    return render(request, "ui/_offers.html", {"offers": rows, "viewer": viewer})


@router.post("/work/{work_id}/accept")
async def accept(work_id: str, db: DB, viewer: CurrentViewer) -> Response:
    work = await do_accept_work(db, viewer.principal, work_id)
    return see_other(f"/app/cases/{work.case_id}")


@router.post("/work/{work_id}/decline")
async def decline(work_id: str, request: Request, db: DB, viewer: CurrentViewer) -> Response:
    """htmx swaps the remaining offers in place; without script, back to the inbox."""
    await do_decline_work(db, viewer.principal, work_id)
    if request.headers.get("hx-request"):
        return await offers_part(request, db, viewer)
    return see_other("/app")
