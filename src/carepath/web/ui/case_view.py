"""The case page: hand-off packet, one cross-channel timeline, the customer, and the work forms."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from carepath.access import Permission, authorize, scoped
from carepath.actions.personal_data import do_record_case_access
from carepath.actions.tenant_config import current_config
from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.customers import CustomerMerge
from carepath.domain.messages import Direction
from carepath.knowledge.search import Hit, search
from carepath.storage import Database, UnitOfWork
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render
from carepath.web.ui.queries import InboxFilter, inbox
from carepath.web.ui.timeline import Entry, timeline
from carepath.web.ui.trail import case_trail
from carepath.web.ui.work_queries import OPEN_CALLBACKS

router = APIRouter(prefix="/app/cases", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
JOURNEY_WINDOW_DAYS = 30
REPLY_CHANNELS = (Channel.CHAT, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
SUGGESTIONS = 5


async def _timeline(uow: UnitOfWork, case: Case) -> list[Entry]:
    tenant_id = case.tenant_id
    cluster = await uow.customers.cluster_ids(tenant_id, case.customer_id)
    messages = await uow.messages.of_case(tenant_id, case.id)
    calls = await uow.calls.of_case(tenant_id, case.id)
    callbacks = await uow.callbacks.of_case(tenant_id, case.id)
    since = utcnow() - timedelta(days=JOURNEY_WINDOW_DAYS)
    journey = await uow.journey.of_customers(tenant_id, cluster, since=since)
    page = await uow.users.list(tenant_id, limit=200, cursor=None)
    names: dict[str, str] = {u.id: u.display_name for u in page.items}
    return timeline(messages, calls, callbacks, journey, names)


async def _customer(uow: UnitOfWork, case: Case) -> dict[str, Any]:
    tenant_id = case.tenant_id
    live = await uow.customers.live(tenant_id, case.customer_id)
    root = live.id if live else case.customer_id
    cluster = await uow.customers.cluster_ids(tenant_id, root)
    merges: list[CustomerMerge] = []
    for customer_id in cluster:
        merge = await uow.merges.active_for_merged(tenant_id, customer_id)
        if merge is not None:
            merges.append(merge)
    previous = [c for c in await uow.cases.of_customers(tenant_id, cluster) if c.id != case.id]
    return {
        "customer": live,
        "identities": await uow.identities.of_customers(tenant_id, cluster),
        "previous_cases": sorted(previous, key=lambda c: c.created_at, reverse=True),
        "merges": merges,
    }


async def _suggestions(db: Database, case: Case, last_customer_text: str | None) -> list[Hit]:
    """Articles for what the customer last said (drafts too: agents read them)."""
    if not last_customer_text:
        return []
    return await search(
        db, case.tenant_id, last_customer_text[:500], limit=SUGGESTIONS, include_drafts=True
    )


async def _neighbours(uow: UnitOfWork, viewer: Viewer, case: Case) -> tuple[str | None, ...]:
    """The previous and next case of the viewer's own inbox, for j / k."""
    rows = await inbox(uow, viewer.principal.tenant_id, viewer.user.id, InboxFilter(), utcnow())
    ids = [r.case.id for r in rows]
    if case.id not in ids:
        return (None, ids[0] if ids else None)
    i = ids.index(case.id)
    return (ids[i - 1] if i > 0 else None, ids[i + 1] if i + 1 < len(ids) else None)


@router.get("/{case_id}")
async def case_page(case_id: str, request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.READ_CASES)
    tenant_id = viewer.principal.tenant_id
    async with db.uow(write=False) as uow:
        case = scoped(viewer.principal, await uow.cases.get(tenant_id, case_id), "case")
        messages = await uow.messages.of_case(tenant_id, case.id, include_notes=False)
        context: dict[str, Any] = {"case": case, "viewer": viewer}
        context["entries"] = await _timeline(uow, case)
        context.update(await _customer(uow, case))
        config = await current_config(uow, tenant_id)
        context["previous_id"], context["next_id"] = await _neighbours(uow, viewer, case)
        users = await uow.users.list(tenant_id, limit=200, cursor=None)
        tenant = await uow.tenants.get(tenant_id)
        callbacks = await uow.callbacks.of_case(tenant_id, case.id)
        if viewer.can(Permission.READ_CASE_AUDIT):
            context["case_trail"] = await case_trail(uow, case, users.items)
    await do_record_case_access(db, viewer.principal, case.id, "read", "workspace")
    last_inbound = next(
        (m.text for m in reversed(messages) if m.direction is Direction.INBOUND), None
    )
    context.update(
        handoff=case.handoff,
        suggestions=await _suggestions(db, case, last_inbound),
        saved_replies=config.saved_replies,
        intents=[i.name for i in config.intents],
        reply_channels=REPLY_CHANNELS,
        reply_channel=case.channel if case.channel in REPLY_CHANNELS else Channel.CHAT,
        assignees=[u for u in users.items if u.is_active],
        tenant_slug=tenant.slug if tenant else "",
        open_callbacks=[cb for cb in callbacks if cb.status in OPEN_CALLBACKS],
    )
    return render(request, "ui/case.html", context)


@router.get("/{case_id}/timeline")
async def case_timeline(case_id: str, request: Request, db: DB, viewer: CurrentViewer) -> Response:
    """The timeline alone: swapped in live when the case gets a message. Not an access of its
    own for the trail: it refreshes a page whose opening was recorded."""
    authorize(viewer.principal, Permission.READ_CASES)
    async with db.uow(write=False) as uow:
        tenant_id = viewer.principal.tenant_id
        case = scoped(viewer.principal, await uow.cases.get(tenant_id, case_id), "case")
        entries = await _timeline(uow, case)
    return render(request, "ui/_timeline.html", {"entries": entries, "case": case})
