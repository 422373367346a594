"""Prometheus request metrics, labelled by route template (not raw path, which would explode)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carepath.storage.write_batches import MAX_BATCH, BatchTiming

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: finer than the default below 100 ms, where a batched write's wait and run live.
BATCH_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5)
BATCH_MEMBERS = tuple(n for n in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32) if n <= MAX_BATCH)


class RequestMetrics:
    def __init__(self) -> None:
        # One registry per app, so several apps in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "carepath_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "carepath_http_request_duration_seconds",
            "HTTP request latency by method and route.",
            ["method", "route"],
            registry=self.registry,
        )

        # Ingest's micro-batched commits (storage/write_batches.py): a message's time in the
        # database part of its path is its wait for a batch plus that batch's run.
        self.batch_wait = Histogram(
            "carepath_write_batch_wait_seconds",
            "Batched writes: each one's wait from submission until its transaction started.",
            buckets=BATCH_SECONDS,
            registry=self.registry,
        )
        self.batch_duration = Histogram(
            "carepath_write_batch_duration_seconds",
            "Batched writes: each shared transaction, from its start until its members were "
            "answered.",
            buckets=BATCH_SECONDS,
            registry=self.registry,
        )
        self.batch_members = Histogram(
            "carepath_write_batch_members",
            "Batched writes: pieces of work per shared transaction.",
            buckets=BATCH_MEMBERS,
            registry=self.registry,
        )

    def observe_batch(self, timing: BatchTiming) -> None:
        for waited in timing.waited_s:
            self.batch_wait.observe(waited)
        self.batch_duration.observe(timing.took_s)
        self.batch_members.observe(timing.members)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streaming responses)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
