"""The agent workspace and supervisor console: server-rendered pages under /app."""

from fastapi import APIRouter

from carepath.web.ui import (
    admin,
    assets,
    callbacks,
    case_actions,
    case_view,
    channel_admin,
    dashboard,
    inbox,
    login,
    offers,
    strategy,
    supervisor,
)

router = APIRouter(include_in_schema=False)
for _module in (
    login,
    assets,
    inbox,
    offers,
    callbacks,
    case_view,
    case_actions,
    supervisor,
    admin,
    channel_admin,
    strategy,
    dashboard,
):
    router.include_router(_module.router)

__all__ = ["router"]
