"""Limits on what one visitor may send: message length, frame size, and a per-visitor rate.

The rate is kept in memory by each server process: with N processes behind a load balancer a
visitor may send up to N times the rate. That bounds abuse well enough for chat; a shared
(Redis) bucket is the step up if it ever is not.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from carepath.errors import InvalidInput, RateLimited

MAX_TEXT = 5_000
# A whole WebSocket frame: the longest message, JSON-escaped at worst, fits with room to spare.
MAX_FRAME_BYTES = 64 * 1024
MESSAGES_PER_MINUTE = 20
# Typing signals become stream events: at most one per visitor (or agent) and case this often.
TYPING_INTERVAL_S = 3.0
# Buckets of visitors who went quiet are forgotten first; this bounds the memory used.
MAX_TRACKED = 100_000


def check_text(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(
            f"a message is at most {MAX_TEXT} characters; this one has {len(cleaned)}",
            code="message_too_long",
            field="text",
            limit=MAX_TEXT,
        )
    if not cleaned:
        raise InvalidInput("a message needs some text", field="text")
    return cleaned


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBucket:
    """`rate` tokens per second up to `burst`, one bucket per key."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def take(self, key: str) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there will be."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def give_back(self, key: str) -> None:
        """Return a token taken for work that turned out to be a repeat (a resend)."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.burst, bucket.tokens + 1)


@dataclass
class VisitorLimits:
    """The per-process limits of one app: message rate per visitor, typing throttle."""

    messages: TokenBucket = field(
        default_factory=lambda: TokenBucket(
            rate=MESSAGES_PER_MINUTE / 60, burst=MESSAGES_PER_MINUTE
        )
    )
    typing: TokenBucket = field(
        default_factory=lambda: TokenBucket(rate=1 / TYPING_INTERVAL_S, burst=1)
    )

    def take_message(self, key: str) -> None:
        wait = self.messages.take(key)
        if wait:
            raise RateLimited(
                f"at most {MESSAGES_PER_MINUTE} messages a minute; "
                f"try again in {math.ceil(wait)} s",
                retry_after_s=math.ceil(wait),
                limit=MESSAGES_PER_MINUTE,
            )

    def may_signal_typing(self, key: str) -> bool:
        return self.typing.take(key) == 0.0
