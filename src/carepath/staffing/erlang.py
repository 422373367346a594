"""Erlang C (callers wait forever) and Erlang A (callers hang up after an exponential patience):
probability of waiting, service level, average speed of answer, abandonment, occupancy, and the
agents needed for a service level. Everything is computed in log space, so hundreds or thousands
of agents neither overflow nor lose precision."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from carepath.errors import InvalidInput

# Erlang A sums over queue lengths until the terms are below e**-TAIL of the largest one.
TAIL = 60.0
MAX_QUEUE_TERMS = 5_000_000
MAX_AGENTS = 100_000


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """What `agents` agents achieve on a workload. `service_level` is the share of all offered
    contacts answered within `sl_seconds` (abandoned ones count as missed); `asa_s` is the mean
    wait of answered contacts (infinite when Erlang C is overloaded)."""

    model: Literal["erlang_c", "erlang_a"]
    agents: int
    traffic_erlangs: float
    probability_of_waiting: float
    service_level: float
    sl_seconds: float
    asa_s: float
    occupancy: float
    abandonment: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def log_inverse_erlang_b(agents: int, traffic: float) -> float:
    """log(1/B(agents, traffic)) by the recurrence 1/B(k) = 1 + k/(A B(k-1)), in log space."""
    _check(agents=agents, traffic=traffic)
    log_traffic = math.log(traffic)
    value = 0.0  # 1/B(0) = 1
    for k in range(1, agents + 1):
        value = _logaddexp(0.0, math.log(k) - log_traffic + value)
    return value


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with `agents` servers and no queue."""
    if traffic == 0:
        return 0.0 if agents else 1.0
    return math.exp(-log_inverse_erlang_b(agents, traffic))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact waits (Erlang C); 1 when the agents cannot keep up."""
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    # C = n / (n + (n - A) (1/B - 1) ... ) rewritten as n / ((n - A)/B + A) to stay positive.
    log_inv_b = log_inverse_erlang_b(agents, traffic)
    log_den = _logaddexp(math.log(agents - traffic) + log_inv_b, math.log(traffic))
    return math.exp(math.log(agents) - log_den)


def erlang_c_metrics(
    agents: int, arrival_rate: float, aht_s: float, sl_seconds: float
) -> QueueMetrics:
    """Erlang C for `arrival_rate` contacts per second of `aht_s` seconds each."""
    _check(agents=agents, arrival_rate=arrival_rate, aht_s=aht_s, sl_seconds=sl_seconds)
    _need_agents(agents)
    traffic = arrival_rate * aht_s
    waiting = erlang_c(agents, traffic)
    if agents <= traffic:
        return QueueMetrics("erlang_c", agents, traffic, 1.0, 0.0, sl_seconds, math.inf, 1.0, 0.0)
    spare = (agents - traffic) / aht_s  # rate at which the queue drains, per second
    service_level = 1.0 - waiting * math.exp(-spare * sl_seconds)
    asa = waiting / spare
    occupancy = traffic / agents
    return QueueMetrics(
        "erlang_c", agents, traffic, waiting, service_level, sl_seconds, asa, occupancy, 0.0
    )


def erlang_a_metrics(
    agents: int, arrival_rate: float, aht_s: float, patience_s: float, sl_seconds: float
) -> QueueMetrics:
    """Erlang A (M/M/n+M): like Erlang C, but each waiting contact abandons after an
    exponentially distributed patience with mean `patience_s`.

    A contact arriving to find j others waiting gets served only if its offered wait V (a sum
    of exponentials with rates n mu + i theta) beats its patience; with U = exp(-theta V),
    U ~ Beta(n mu / theta, j + 1). That gives closed forms per queue length, summed over the
    stationary distribution of the birth-death chain.
    """
    _check(
        agents=agents,
        arrival_rate=arrival_rate,
        aht_s=aht_s,
        patience_s=patience_s,
        sl_seconds=sl_seconds,
    )
    _need_agents(agents)
    traffic = arrival_rate * aht_s
    if traffic == 0:
        return QueueMetrics("erlang_a", agents, 0.0, 0.0, 1.0, sl_seconds, 0.0, 0.0, 0.0)
    theta = 1.0 / patience_s
    a = agents / aht_s / theta  # n mu / theta
    x = arrival_rate / theta  # lambda / theta
    log_w = _queue_log_weights(a, x)
    top = max(log_w)
    u_log = -theta * sl_seconds  # log of exp(-theta T)
    s_wait = s_abandon = s_served = s_wait_served = 0.0
    log_terms_within: list[float] = []
    harmonic = 0.0  # H_{j+1} = sum_{i=1..j+1} 1/(a+i)
    for j, lw in enumerate(log_w):
        w = math.exp(lw - top)
        harmonic += 1.0 / (a + j + 1)
        s_wait += w
        s_abandon += w * (j + 1) / (a + j + 1)
        s_served += w / (a + j + 1)
        s_wait_served += w * a / (a + j + 1) * harmonic / theta
        log_terms_within.append(lw - math.log(a + j + 1) + (a + 1 + j) * u_log)
    # log of sum_j w_j/(a+j+1) u^(a+1+j) e^(x(1-u)), relative to `top`
    log_g_u = _logsumexp(log_terms_within) - top + x * -math.expm1(u_log)
    # pi_n relative to the scale exp(top): 1 / (1/B - 1 + sum_j w_j)
    log_inv_b = log_inverse_erlang_b(agents, traffic)
    log_rest = log_inv_b + math.log(-math.expm1(-log_inv_b))  # log(1/B - 1)
    log_pi = -_logaddexp(log_rest, top + math.log(s_wait))
    scale = math.exp(log_pi + top)  # pi_n * exp(top)
    waiting = scale * s_wait
    abandonment = scale * s_abandon
    answered_late_or_soon = scale * a * (s_served - math.exp(log_g_u))
    service_level = (1.0 - waiting) + answered_late_or_soon
    answered = 1.0 - abandonment
    asa = scale * s_wait_served / answered
    occupancy = traffic * answered / agents
    return QueueMetrics(
        "erlang_a",
        agents,
        traffic,
        waiting,
        min(1.0, max(0.0, service_level)),
        sl_seconds,
        asa,
        occupancy,
        abandonment,
    )


def metrics(
    agents: int,
    arrival_rate: float,
    aht_s: float,
    sl_seconds: float,
    patience_s: float | None = None,
) -> QueueMetrics:
    """Erlang A when a patience is given, else Erlang C."""
    if patience_s is None:
        return erlang_c_metrics(agents, arrival_rate, aht_s, sl_seconds)
    return erlang_a_metrics(agents, arrival_rate, aht_s, patience_s, sl_seconds)


def agents_for_service_level(
    target: float,
    arrival_rate: float,
    aht_s: float,
    sl_seconds: float,
    patience_s: float | None = None,
) -> QueueMetrics:
    """The fewest agents whose service level reaches `target` (0 < target < 1), with their
    metrics. Service level only grows with agents, so a doubling then bisection finds it."""
    if not 0 < target < 1:
        raise InvalidInput("the target service level is a share between 0 and 1", field="target")
    traffic = arrival_rate * aht_s
    low = max(1, math.floor(traffic) + 1 if patience_s is None else 1)

    def good(n: int) -> bool:
        return metrics(n, arrival_rate, aht_s, sl_seconds, patience_s).service_level >= target

    high = low
    while not good(high):
        low = high + 1
        high *= 2
        if high > MAX_AGENTS:
            raise InvalidInput(
                f"more than {MAX_AGENTS} agents would be needed; check the volume and handle time"
            )
    while low < high:
        middle = (low + high) // 2
        if good(middle):
            high = middle
        else:
            low = middle + 1
    return metrics(high, arrival_rate, aht_s, sl_seconds, patience_s)


def scheduled_positions(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` are on the phones after breaks, training, absence."""
    if not 0 <= shrinkage < 1:
        raise InvalidInput("shrinkage is a share from 0 up to (not including) 1", field="shrinkage")
    # Rounded first so that 14 / 0.7 = 20.000000000000004 schedules 20, not 21.
    return math.ceil(round(agents / (1.0 - shrinkage), 9))


def _queue_log_weights(a: float, x: float) -> list[float]:
    """log(pi_{n+j} / pi_n) = j log x - sum_{i=1..j} log(a+i), for j = 0.. until negligible."""
    log_x = math.log(x)
    weights = [0.0]
    value = top = 0.0
    mode = x - a  # weights grow while x > a + j
    j = 0
    while j < mode or value > top - TAIL:
        j += 1
        if j > MAX_QUEUE_TERMS:
            raise InvalidInput(
                "the queue is too long for Erlang A with this patience; shorten the patience "
                "or add agents"
            )
        value += log_x - math.log(a + j)
        top = max(top, value)
        weights.append(value)
    return weights


def _logaddexp(p: float, q: float) -> float:
    high, low = (p, q) if p >= q else (q, p)
    return high + math.log1p(math.exp(low - high))


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


def _need_agents(agents: int) -> None:
    if agents < 1:
        raise InvalidInput("at least one agent is needed", field="agents")


def _check(**values: float) -> None:
    for name, value in values.items():
        positive = name in ("aht_s", "patience_s")
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            need = "more than 0" if positive else "0 or more"
            raise InvalidInput(f"{name} must be a finite number {need}, not {value}", field=name)
