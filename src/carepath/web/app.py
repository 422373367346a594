"""create_app: the one place where settings are read and the ASGI application is assembled."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from carepath import __version__
from carepath.authn import session_signer
from carepath.channels.email.smtp_server import SmtpListener, start_listener
from carepath.domain.events import Event
from carepath.ids import TenantId
from carepath.logging import configure_logging
from carepath.ratelimits import rate_limits_for
from carepath.realtime import make_doorbell
from carepath.secretbox import SecretBox
from carepath.settings import Settings, load_settings
from carepath.storage import Database
from carepath.storage.unit_of_work import CommitHook
from carepath.web.errors import install_error_handlers
from carepath.web.metrics import MetricsMiddleware, RequestMetrics
from carepath.web.nul import RefuseNulInUrls
from carepath.web.openapi_errors import document_errors
from carepath.web.routes import (
    agents,
    articles,
    auth,
    bench_ceiling,
    callbacks,
    cases,
    channels,
    continuation,
    customers,
    health,
    help_centre,
    identify,
    meta,
    privacy,
    stream,
    surveys,
    tenant,
    tenant_config,
    tokens,
    twilio,
    users,
    voice,
    webhooks,
    widget,
    widget_site,
    work,
)
from carepath.web.state import AppState
from carepath.web.throttle import Throttle
from carepath.web.ui import router as ui_router
from carepath.web.webhook_accounts import WebhookAccounts
from carepath.worker import BackgroundWorker

logger = logging.getLogger(__name__)


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
        webhook_accounts=WebhookAccounts(settings.webhook_account_cache_s),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await state.doorbell.start()
        state.db.on_commit = _announce(state)
        state.db.on_batch = state.metrics.observe_batch
        run_worker = state.settings.run_worker
        worker = BackgroundWorker.start(state.db, state.settings) if run_worker else None
        smtp = await _smtp_listener(state)
        _freeze_startup_objects()
        try:
            yield
        finally:
            if smtp is not None:
                await smtp.stop()
            if worker is not None:
                await worker.stop()
            state.db.on_commit = None
            state.db.on_batch = None
            await _app.state.rate_limits.close()
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
    document_errors(app)
    app.state.rate_limits = rate_limits_for(settings)
    # Inside CORS (a browser can read the 429) and metrics (refusals are counted).
    app.add_middleware(Throttle, limits=app.state.rate_limits)
    app.add_middleware(RefuseNulInUrls)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(identify.PublicCors)
    app.add_middleware(widget.VisitorCors)
    # The SMS webhooks first: routes are matched in order, and theirs is the hot path (no other
    # route matches /webhooks/twilio/...).
    routers = (twilio, health, auth, tenant, users, tokens, webhooks, channels, cases, customers)
    for module in (
        *routers,
        tenant_config,
        surveys,
        identify,
        stream,
        voice,
        callbacks,
        continuation,
        meta,
        widget,
        widget_site,
        agents,
        work,
        articles,
        help_centre,
        privacy,
    ):
        app.include_router(module.router)
    app.include_router(ui_router)
    if settings.bench_ceiling:
        app.mount(bench_ceiling.PATH, bench_ceiling.ceiling)
    return app


_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process, after start-up: what exists now (the modules, their tables and
    models) lives as long as the process, so the collector stops scanning it. Without this a
    full collection walked it all: pauses of 100-160 ms every second or two under load, which
    were the p99 of ingest (docs/performance.md, seventh round)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


async def _smtp_listener(state: AppState) -> SmtpListener | None:
    """With CAREPATH_SMTP_LISTEN_PORT (`carepath serve --smtp-port`); every server process
    listens on the port (SO_REUSEPORT) and the kernel spreads connections over them."""
    if not state.settings.smtp_listen_port:
        return None
    return await start_listener(
        state.db, state.settings, registry=state.metrics.registry, reuse_port=True
    )


def _announce(state: AppState) -> CommitHook:
    """After a commit: the events to this process's stream feed (no read back for its streams),
    then the doorbell, which wakes the streams here and, through Redis, in other processes."""

    async def announce(seqs: dict[TenantId, int], written: list[Event]) -> None:
        if state.event_feed is not None:
            try:
                state.event_feed.offer(written)
            except Exception:  # the writes are committed: a caller must not see them fail
                logger.exception("the stream feed refused committed events; streams read them")
        for tenant_id, seq in seqs.items():
            await state.doorbell.ring(tenant_id, seq)

    return announce
