"""Synthetic contacts and journey events with planted patterns, so that tests know the truth.

The patterns (docs/subsystems/analytics.md lists them with the figures they produce):

- Customers have episodes, each one intent; a customer's episodes start at least 8 days apart,
  so no window of up to 7 days ever joins two of them.
- `return_item` starts on the web (self-service); `RETURN_CALLS` (37%) of those customers phone
  (voice, an agent) 1-23 hours later with the same intent. Nothing else follows a return.
- Every other episode has one first contact and, with probability `REPEAT` (20%), a repeat contact
  on the same channel with the same intent 2-20 hours later.
- The `young` segment prefers WhatsApp: `YOUNG_WHATSAPP` (60%) of their first contacts that are
  not on the web move to WhatsApp.
- On chat, app, WhatsApp, SMS and social the assistant takes part with the intent's `assistant`
  probability and contains the contact with its `containment` probability: the assistant
  contains `order_status` and `password_reset`, hardly ever `billing_dispute`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carepath.analytics.schema import CHANNELS, CONTACTS, HANDLERS, JOURNEY_EVENTS
from carepath.errors import InvalidInput

START = datetime(2024, 1, 1, tzinfo=UTC)
SLOT_DAYS = 10
SEGMENTS = ("consumer", "business", "young")
SEGMENT_WEIGHTS = (0.60, 0.25, 0.15)
EXTRA_EPISODES = 1.5
RETURN_CALLS = 0.37
REPEAT = 0.20
YOUNG_WHATSAPP = 0.60
ARTICLE_BEFORE = 0.40
SURVEY_RESPONSE = 0.25
CONVERSATIONAL = ("chat", "app", "whatsapp", "sms", "social")
ABANDON = {"voice": 0.08}
ABANDON_OTHER = 0.05
MEAN_WAIT_S = {"voice": 45.0}
MEAN_WAIT_OTHER_S = 30.0
MEAN_HANDLE_S = {"voice": 360.0, "chat": 600.0, "email": 240.0}
MEAN_HANDLE_OTHER_S = 420.0
CSAT_P = (0.05, 0.07, 0.13, 0.35, 0.40)
NPS_P = (0.03, 0.02, 0.03, 0.04, 0.05, 0.08, 0.10, 0.15, 0.20, 0.15, 0.15)
CES_P = (0.35, 0.30, 0.20, 0.10, 0.05)
CHUNK_CUSTOMERS = 250_000
US = 1_000_000


@dataclass(frozen=True)
class IntentProfile:
    weight: float
    channels: dict[str, float]
    assistant: float
    containment: float


INTENTS: dict[str | None, IntentProfile] = {
    "return_item": IntentProfile(0.20, {"web": 1.0}, 0.0, 0.0),
    "order_status": IntentProfile(
        0.30, {"chat": 0.5, "app": 0.3, "email": 0.1, "voice": 0.1}, 1.0, 0.8
    ),
    "billing_dispute": IntentProfile(0.20, {"chat": 0.4, "email": 0.2, "voice": 0.4}, 1.0, 0.1),
    "cancel_subscription": IntentProfile(0.15, {"voice": 0.7, "chat": 0.2, "email": 0.1}, 0.0, 0.0),
    "password_reset": IntentProfile(0.10, {"app": 0.6, "chat": 0.2, "voice": 0.2}, 1.0, 0.9),
    None: IntentProfile(
        0.05, {"chat": 0.3, "voice": 0.4, "email": 0.1, "sms": 0.1, "social": 0.1}, 0.5, 0.3
    ),
}
_INTENT_NAMES = list(INTENTS)
_RETURN = _INTENT_NAMES.index("return_item")
_CHANNEL = {name: index for index, name in enumerate(CHANNELS)}


def generate(
    customers: int, days: int, seed: int, *, start: datetime = START
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """(contacts, journey events) in chunks of customers; the same arguments give the same rows."""
    if customers < 1 or days < 1:
        raise InvalidInput("generate at least one customer over at least one day")
    return _chunks(customers, days, seed, start)


def _chunks(
    customers: int, days: int, seed: int, start: datetime
) -> Iterator[tuple[pa.Table, pa.Table]]:
    children = np.random.SeedSequence(seed).spawn(
        (customers + CHUNK_CUSTOMERS - 1) // CHUNK_CUSTOMERS
    )
    origin_us = int(start.astimezone(UTC).timestamp()) * US
    contact_offset = episode_offset = 0
    for number, child in enumerate(children):
        first = number * CHUNK_CUSTOMERS
        size = min(CHUNK_CUSTOMERS, customers - first)
        chunk = _Chunk(np.random.default_rng(child), size, first, days, origin_us, episode_offset)
        contacts, events = chunk.contacts(contact_offset), chunk.events()
        contact_offset += contacts.num_rows
        episode_offset += chunk.episodes
        yield contacts, events


class _Chunk:
    """One chunk of customers, drawn column by column with numpy."""

    def __init__(
        self,
        rng: np.random.Generator,
        size: int,
        first_customer: int,
        days: int,
        origin_us: int,
        episode_offset: int,
    ) -> None:
        self.rng = rng
        self.origin_us = origin_us
        self.episode_offset = episode_offset
        segment = rng.choice(len(SEGMENTS), size, p=SEGMENT_WEIGHTS)
        most = max(1, days // SLOT_DAYS)
        count = np.minimum(1 + rng.poisson(EXTRA_EPISODES, size), most)
        self.episodes = int(count.sum())
        owner = np.repeat(np.arange(size), count)
        index = np.arange(self.episodes) - np.repeat(np.cumsum(count) - count, count)
        per = np.repeat(count, count)
        slot = days // per
        # Several episodes: each in its own slot of ≥ 10 days, starting ≥ 10 days after the last.
        day = np.where(
            per > 1,
            index * slot + rng.integers(0, np.maximum(slot - 9, 1)),
            rng.integers(0, max(days - 1, 1), self.episodes),
        )
        self.episode_start_s = day * 86_400 + rng.integers(7 * 3_600, 22 * 3_600, self.episodes)
        self.customer = first_customer + owner
        self.segment = segment[owner]
        weights = np.array([profile.weight for profile in INTENTS.values()])
        self.intent = rng.choice(len(INTENTS), self.episodes, p=weights / weights.sum())
        self.first_channel = self._first_channels()

    def _first_channels(self) -> np.ndarray:
        rng, channel = self.rng, np.zeros(self.episodes, dtype=np.int64)
        for number, profile in enumerate(INTENTS.values()):
            mask = self.intent == number
            names = list(profile.channels)
            picks = rng.choice(len(names), int(mask.sum()), p=list(profile.channels.values()))
            channel[mask] = np.array([_CHANNEL[name] for name in names])[picks]
        young = (self.segment == SEGMENTS.index("young")) & (channel != _CHANNEL["web"])
        moved = young & (rng.random(self.episodes) < YOUNG_WHATSAPP)
        channel[moved] = _CHANNEL["whatsapp"]
        return channel

    def contacts(self, contact_offset: int) -> pa.Table:
        rng, n = self.rng, self.episodes
        is_return = self.intent == _RETURN
        calls = is_return & (rng.random(n) < RETURN_CALLS)
        repeats = ~is_return & (rng.random(n) < REPEAT)
        follows = calls | repeats
        later_s = np.where(
            calls, rng.integers(3_600, 23 * 3_600, n), rng.integers(2 * 3_600, 20 * 3_600, n)
        )
        episode = np.concatenate([np.arange(n), np.flatnonzero(follows)])
        first = np.arange(len(episode)) < n
        channel = np.where(
            first,
            self.first_channel[episode],
            np.where(calls[episode], _CHANNEL["voice"], self.first_channel[episode]),
        )
        start_s = self.episode_start_s[episode] + np.where(first, 0, later_s[episode])
        followed = first & follows[episode]
        return self._contact_table(episode, channel, start_s, followed, contact_offset)

    def _contact_table(
        self,
        episode: np.ndarray,
        channel: np.ndarray,
        start_s: np.ndarray,
        followed: np.ndarray,
        contact_offset: int,
    ) -> pa.Table:
        rng, rows = self.rng, len(episode)
        intent = self.intent[episode]
        assistant_p = np.array([p.assistant for p in INTENTS.values()])[intent]
        contain_p = np.array([p.containment for p in INTENTS.values()])[intent]
        conversational = np.isin(channel, [_CHANNEL[name] for name in CONVERSATIONAL])
        involved = conversational & (rng.random(rows) < assistant_p)
        contained = involved & (rng.random(rows) < contain_p)
        web = channel == _CHANNEL["web"]
        handler = np.where(web, 0, np.where(contained, 1, 2))
        queued = (handler == 2) & (channel != _CHANNEL["email"])
        abandon_p = _by_channel(channel, ABANDON, ABANDON_OTHER)
        abandoned = queued & (rng.random(rows) < abandon_p)
        wait = np.where(
            queued, rng.exponential(_by_channel(channel, MEAN_WAIT_S, MEAN_WAIT_OTHER_S)), np.nan
        )
        handled = (handler == 2) & ~abandoned
        mean_handle = _by_channel(channel, MEAN_HANDLE_S, MEAN_HANDLE_OTHER_S)
        handle = np.where(handled, rng.gamma(2.0, mean_handle / 2.0), np.nan)
        served_s = np.where(abandoned, 0, rng.integers(60, 600, rows))
        duration = np.nan_to_num(wait) + np.where(handled, handle, served_s)
        started_us = self.origin_us + start_s * US
        answered = ~abandoned & (rng.random(rows) < SURVEY_RESPONSE)
        order = np.argsort(started_us, kind="stable")
        columns = {
            "customer_id": _ids("cu", self.customer[episode]),
            "case_id": _ids("cs", self.episode_offset + episode),
            "started_at": pa.array(started_us, CONTACTS.column("started_at").type),
            "ended_at": pa.array(
                started_us + (duration * US).astype(np.int64), CONTACTS.column("ended_at").type
            ),
            "channel": _labels(channel, CHANNELS),
            "handled_by": _labels(handler, HANDLERS),
            "assistant_involved": pa.array(involved),
            "intent": _labels(intent, _INTENT_NAMES),
            "segment": _labels(self.segment[episode], SEGMENTS),
            "resolved": pa.array(~followed, mask=abandoned),
            "abandoned": pa.array(abandoned),
            "wait_s": pa.array(wait, mask=np.isnan(wait)),
            "handle_s": pa.array(handle, mask=np.isnan(handle)),
            "csat": _score(rng, CSAT_P, 1, answered),
            "nps": _score(rng, NPS_P, 0, answered),
            "ces": _score(rng, CES_P, 1, answered),
        }
        # Ids follow time, as carepath's own (UUIDv7) ids do.
        table = pa.table(columns).take(pa.array(order))
        table = table.add_column(0, "contact_id", _ids("ct", contact_offset + np.arange(rows)))
        return table.cast(CONTACTS.schema)

    def events(self) -> pa.Table:
        rng, n = self.rng, self.episodes
        is_return = self.intent == _RETURN
        reads = ~is_return & (rng.random(n) < ARTICLE_BEFORE)
        episode = np.flatnonzero(is_return | reads)
        before_s = rng.integers(5 * 60, 60 * 60, len(episode))
        ts_us = self.origin_us + (self.episode_start_s[episode] - before_s) * US
        returns = is_return[episode]
        intent_names = np.array([name or "general" for name in _INTENT_NAMES], dtype=object)
        names = np.where(
            returns, "returns", "help/" + intent_names[self.intent[episode]].astype(str)
        )
        columns = {
            "customer_id": _ids("cu", self.customer[episode]),
            "ts": pa.array(ts_us, JOURNEY_EVENTS.column("ts").type),
            "channel": pa.array(["web"] * len(episode), pa.string()),
            "type": pa.array(np.where(returns, "page_view", "article_view").tolist(), pa.string()),
            "name": pa.array(names.tolist(), pa.string()),
            "properties": pa.nulls(len(episode), pa.string()),
            "case_id": _ids("cs", self.episode_offset + episode),
            "contact_id": pa.nulls(len(episode), pa.string()),
        }
        return pa.Table.from_pydict(columns, schema=JOURNEY_EVENTS.schema)


def _by_channel(channel: np.ndarray, values: dict[str, float], other: float) -> np.ndarray:
    table = np.array([values.get(name, other) for name in CHANNELS])
    found: np.ndarray = np.take(table, channel)
    return found


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")


def _labels(codes: np.ndarray, names: tuple[str, ...] | list[str | None]) -> pa.Array:
    present = [name is not None for name in names]
    dictionary = pa.array([name or "" for name in names], pa.string())
    mask = ~np.array(present)[codes]
    indices = pa.array(codes.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())


def _score(
    rng: np.random.Generator, weights: tuple[float, ...], lowest: int, answered: np.ndarray
) -> pa.Array:
    scores = rng.choice(len(weights), len(answered), p=weights) + lowest
    return pa.array(scores.astype(np.int32), mask=~answered)
