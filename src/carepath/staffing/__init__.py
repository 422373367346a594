"""Staffing: how many agents a workload needs (Erlang C and Erlang A)."""

from carepath.staffing.erlang import (
    QueueMetrics,
    agents_for_service_level,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    metrics,
    scheduled_positions,
)

__all__ = [
    "QueueMetrics",
    "agents_for_service_level",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "metrics",
    "scheduled_positions",
]
