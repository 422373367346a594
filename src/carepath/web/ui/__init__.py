"""The agent workspace and supervisor console: server-rendered pages under /app."""

from fastapi import APIRouter

from carepath.web.ui import (
    admin,
    assets,
    case_actions,
    case_view,
    inbox,
    login,
    strategy,
    supervisor,
)

router = APIRouter(include_in_schema=False)
for _module in (login, assets, inbox, case_view, case_actions, supervisor, admin, strategy):
    router.include_router(_module.router)

__all__ = ["router"]
