"""create_app: the one place where settings are read and the ASGI application is assembled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carepath import __version__
from carepath.authn import session_signer
from carepath.ids import TenantId
from carepath.logging import configure_logging
from carepath.realtime import Doorbell, make_doorbell
from carepath.secretbox import SecretBox
from carepath.settings import Settings, load_settings
from carepath.storage import Database
from carepath.storage.unit_of_work import CommitHook
from carepath.web.errors import install_error_handlers
from carepath.web.metrics import MetricsMiddleware, RequestMetrics
from carepath.web.routes import (
    auth,
    cases,
    channels,
    customers,
    health,
    identify,
    stream,
    surveys,
    tenant,
    tokens,
    users,
    webhooks,
)
from carepath.web.state import AppState
from carepath.worker import BackgroundWorker


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ConfigurationError for settings that cannot work (e.g. no secret key)."""
    settings = settings or load_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    state = AppState(
        settings=settings,
        db=Database(settings.effective_database_url, pool_size=settings.db_pool_size),
        session_signer=session_signer(settings.secret()),
        metrics=RequestMetrics(),
        doorbell=make_doorbell(settings.redis_url),
        secret_box=SecretBox(settings.secret()),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.doorbell.start()
        state.db.on_commit = _ring(state.doorbell)
        run_worker = state.settings.run_worker
        worker = BackgroundWorker.start(state.db, state.settings) if run_worker else None
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            state.db.on_commit = None
            await state.doorbell.stop()
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
    app.add_middleware(identify.PublicCors)
    routers = (health, auth, tenant, users, tokens, webhooks, channels, cases, customers)
    for module in (*routers, surveys, identify, stream):
        app.include_router(module.router)
    return app


def _ring(doorbell: Doorbell) -> CommitHook:
    async def ring(seqs: dict[TenantId, int]) -> None:
        for tenant_id, seq in seqs.items():
            await doorbell.ring(tenant_id, seq)

    return ring
