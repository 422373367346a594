"""create_app: the one place where settings are read and the ASGI application is assembled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carepath import __version__
from carepath.authn import session_signer
from carepath.logging import configure_logging
from carepath.settings import Settings, load_settings
from carepath.storage import Database
from carepath.web.errors import install_error_handlers
from carepath.web.metrics import MetricsMiddleware, RequestMetrics
from carepath.web.routes import auth, health, tenant, tokens, users
from carepath.web.state import AppState


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ConfigurationError for settings that cannot work (e.g. no secret key)."""
    settings = settings or load_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    state = AppState(
        settings=settings,
        db=Database(settings.effective_database_url, pool_size=settings.db_pool_size),
        session_signer=session_signer(settings.secret()),
        metrics=RequestMetrics(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await state.db.dispose()

    app = FastAPI(
        title="carepath",
        version=__version__,
        description="One customer, one case and one history across every customer-service channel.",
        lifespan=lifespan,
    )
    app.state.carepath = state
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    for module in (health, auth, tenant, users, tokens):
        app.include_router(module.router)
    return app
