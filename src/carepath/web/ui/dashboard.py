"""The supervisor's analytics dashboard: overview KPIs, cross-channel movement, FCR, journeys and
strategy compliance over the tenant's operational database, with Plotly served offline.

Figures are computed by the analytics definitions on DuckDB in a worker thread, and kept per
tenant and filters for a short time (`TtlCache`), so a board many supervisors keep open stays
fast and the event loop never waits on a query."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from carepath.access import Permission, authorize
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render
from carepath.web.ui.dashboard_cache import TtlCache
from carepath.web.ui.dashboard_data import CHANNELS, HANDLERS, Filters, TenantData, load_tenant_data
from carepath.web.ui.dashboard_figures import PAGES, Board

PREFIX = "/app/supervisor/dashboard"
router = APIRouter(prefix=PREFIX, route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    title: str


TABS = (
    Page("overview", PREFIX, "Overview"),
    Page("movement", f"{PREFIX}/movement", "Cross-channel movement"),
    Page("fcr", f"{PREFIX}/fcr", "First-contact resolution"),
    Page("journeys", f"{PREFIX}/journeys", "Journeys"),
    Page("strategy", f"{PREFIX}/strategy", "Strategy compliance"),
)
DASHBOARD_PAGES = tuple(page.path for page in TABS)


def dashboard_cache(request: Request) -> TtlCache:
    """The app's cache, made on first use (one per app: tests run several apps)."""
    state = request.app.state
    if not hasattr(state, "dashboard_cache"):
        state.dashboard_cache = TtlCache()
    cache: TtlCache = state.dashboard_cache
    return cache


async def _show(request: Request, db: DB, viewer: Viewer, page: Page) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    filters = Filters.parse(request.query_params)
    tenant_id = viewer.principal.tenant_id
    cache = dashboard_cache(request)
    data: TenantData = await cache.get(("data", tenant_id), lambda: load_tenant_data(db, tenant_id))
    board: Board | None = None
    if not data.empty:
        compute = PAGES[page.name]
        board = await cache.get(
            ("page", tenant_id, data.version, page.name, filters),
            lambda: asyncio.to_thread(compute, data, filters),
        )
    context = {
        "viewer": viewer,
        "page": page,
        "tabs": TABS,
        "filters": filters,
        "query": filters.query(),
        "channels": CHANNELS,
        "handlers": HANDLERS,
        "intents": data.intents,
        "segments": data.segments,
        "board": board,
        "ttl_s": int(cache.ttl_s),
    }
    return render(request, "ui/dashboard/page.html", context)


def _route(page: Page) -> None:
    async def show(request: Request, db: DB, viewer: CurrentViewer) -> Response:
        return await _show(request, db, viewer, page)

    show.__name__ = f"dashboard_{page.name}"
    router.add_api_route(page.path.removeprefix(PREFIX), show, methods=["GET"], name=show.__name__)


for _page in TABS:
    _route(_page)

__all__ = ["DASHBOARD_PAGES", "TABS", "router"]
