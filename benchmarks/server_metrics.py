"""A server's own view of a load phase, from its Prometheus /metrics read before and after it:
where a webhook's time went (its wait for a write batch, the batch's run, the rest)."""

from __future__ import annotations

import math
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

# name -> {"sum": s, "count": n, "buckets": {le: cumulative count}}
Histograms = dict[str, dict[str, Any]]

WEBHOOK_ROUTE = "/webhooks/twilio/{tenant_ref}/sms"


def scrape(base_url: str) -> Histograms:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    found: Histograms = {}
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        for sample in family.samples:
            route = sample.labels.get("route")
            if route is not None and route != WEBHOOK_ROUTE:
                continue  # the request histogram: the SMS webhook's only
            entry = found.setdefault(family.name, {"sum": 0.0, "count": 0.0, "buckets": {}})
            if sample.name.endswith("_bucket"):
                le = float(sample.labels["le"])
                entry["buckets"][le] = entry["buckets"].get(le, 0.0) + sample.value
            elif sample.name.endswith("_sum"):
                entry["sum"] += sample.value
            elif sample.name.endswith("_count"):
                entry["count"] += sample.value
    return found


def _delta(before: Histograms, after: Histograms, name: str) -> dict[str, Any] | None:
    new = after.get(name)
    if new is None:
        return None
    old = before.get(name, {"sum": 0.0, "count": 0.0, "buckets": {}})
    return {
        "sum": new["sum"] - old["sum"],
        "count": new["count"] - old["count"],
        "buckets": {le: n - old["buckets"].get(le, 0.0) for le, n in new["buckets"].items()},
    }


def _upper_bound(hist: dict[str, Any], p: float) -> float:
    """The smallest bucket bound under which at least p% fall (a histogram's p-th percentile
    is known only to its bucket)."""
    for le in sorted(hist["buckets"]):
        if hist["buckets"][le] >= hist["count"] * p / 100:
            return le
    return math.inf


def breakdown(before: Histograms, after: Histograms) -> dict[str, float]:
    """Means (ms) of the server's time per webhook and of its write-batch wait and run, batch
    size, and the bucket bound of each p99 (ms)."""
    found: dict[str, float] = {}
    for key, name, scale in (
        ("request", "carepath_http_request_duration_seconds", 1000),
        ("batch_wait", "carepath_write_batch_wait_seconds", 1000),
        ("batch_run", "carepath_write_batch_duration_seconds", 1000),
        ("batch_members", "carepath_write_batch_members", 1),
    ):
        hist = _delta(before, after, name)
        if hist is None or not hist["count"]:
            continue
        found[f"{key}_mean"] = hist["sum"] / hist["count"] * scale
        found[f"{key}_p99_at_most"] = _upper_bound(hist, 99) * scale
    return found
