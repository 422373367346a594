"""Per-contact facts that several metrics share: what the same customer did next, and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir

from carepath.analytics.schema import CHANNELS, DIGITAL_CHANNELS, TIMESTAMP
from carepath.errors import InvalidInput

FLAGS = ("repeat", "followed", *(f"next_{channel}" for channel in CHANNELS))
# Every column that tells what followed a contact: false throughout for a contact alone.
FOLLOW_UPS = (*FLAGS, "digital_next")


@dataclass(frozen=True)
class Windows:
    """How far ahead to look: `fcr_days` for a repeat contact, `hours` for movement and for
    verified containment."""

    fcr_days: float = 7
    hours: float = 24

    def __post_init__(self) -> None:
        if self.fcr_days <= 0 or self.hours <= 0:
            raise InvalidInput("the FCR days and the movement hours must be positive")


def contact_facts(contacts: ir.Table, windows: Windows | None = None) -> ir.Table:
    """Every contact, with flags about the contacts of the same customer that started strictly
    after it: `repeat` (within `fcr_days`, with the same intent, or either intent null),
    `followed` (any, within `hours`), `next_<channel>` (one on that channel within `hours`) and
    `digital_next` (one on any channel but voice within `hours`).
    """
    flags = _follow_ups(contacts, windows or Windows())
    joined = contacts.left_join(flags, contacts.contact_id == flags.first_id)
    facts = joined.select(
        *[contacts[name] for name in contacts.columns],
        **{name: joined[name].fill_null(0) == 1 for name in FLAGS},
    )
    return _with_digital_next(facts)


def followed_contacts(
    contacts: ir.Table, windows: Windows | None = None, carry: Sequence[str] | None = None
) -> ir.Table:
    """The facts (as `contact_facts`) of only the contacts followed by at least one contact of
    the same customer within the longer window: a small share of all (a fifth of the generated
    ones), whose flags are not all false. Of the contact's own columns, only those in `carry`
    (all by default): they travel through the self-join, which spares joining the flags back
    onto the contacts (a second join as large as the first)."""
    carried = list(contacts.columns) if carry is None else [str(name) for name in carry]
    followed = _follow_ups(contacts, windows or Windows(), carried)
    facts = followed.select(*carried, **{name: followed[name] == 1 for name in FLAGS})
    return _with_digital_next(facts)


def as_if_alone(contacts: ir.Table) -> ir.Table:
    """Contacts as facts with nothing following them: every flag false. The facts of a contact
    that `followed_contacts` leaves out."""
    return contacts.mutate(**{name: ibis.literal(False) for name in FOLLOW_UPS})


def _follow_ups(contacts: ir.Table, windows: Windows, carry: Sequence[str] = ()) -> ir.Table:
    """The flags, as 0/1, of each contact (`first_id`) followed within the longer window, with
    its columns named in `carry`.

    One self-join on the customer over the longer of the two windows; customers have few
    contacts each, so the pairs stay close to the number of contacts. Only the columns the
    flags need, and those carried, travel through the join.
    """
    repeat_window = ibis.interval(seconds=round(windows.fcr_days * 86_400))
    near_window = ibis.interval(seconds=round(windows.hours * 3_600))
    horizon = repeat_window if windows.fcr_days * 24 >= windows.hours else near_window
    first = contacts.select(
        first_id=contacts.contact_id,
        first_customer=contacts.customer_id,
        first_at=contacts.started_at,
        first_intent=contacts.intent,
        **{name: contacts[name] for name in carry},
    )
    later = contacts.select(
        later_customer=contacts.customer_id,
        later_at=contacts.started_at,
        later_intent=contacts.intent,
        later_channel=contacts.channel,
    )
    pairs = first.join(
        later,
        [
            first.first_customer == later.later_customer,
            later.later_at > first.first_at,
            later.later_at <= first.first_at + horizon,
        ],
    )
    soon = pairs.later_at <= pairs.first_at + near_window
    same_intent = (
        pairs.first_intent.isnull()
        | pairs.later_intent.isnull()
        | (pairs.first_intent == pairs.later_intent)
    )
    return pairs.group_by("first_id").aggregate(
        # One contact's own values in every pair of its group: any of them is the value.
        **{name: pairs[name].arbitrary() for name in carry},
        repeat=_any((pairs.later_at <= pairs.first_at + repeat_window) & same_intent),
        followed=_any(soon),
        **{
            f"next_{channel}": _any(soon & (pairs.later_channel == channel)) for channel in CHANNELS
        },
    )


def _with_digital_next(facts: ir.Table) -> ir.Table:
    digital_next = ibis.or_(*(facts[f"next_{channel}"] for channel in DIGITAL_CHANNELS))
    return facts.mutate(digital_next=digital_next)


def between(facts: ir.Table, start: datetime | None, end: datetime | None) -> ir.Table:
    """The contacts that started in [start, end); their follow-ups may lie outside it."""
    if start is not None:
        facts = facts.filter(facts.started_at >= _utc(start, facts))
    if end is not None:
        facts = facts.filter(facts.started_at < _utc(end, facts))
    return facts


def _utc(moment: datetime, facts: ir.Table) -> ir.TimestampScalar:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if facts.started_at.type().timezone is None:
        return ibis.literal(aware.replace(tzinfo=None), type="timestamp")
    return ibis.literal(aware, type=f"timestamp('{TIMESTAMP.tz}')")


def _any(condition: ir.BooleanValue) -> ir.IntegerScalar:
    # max over 0/1 rather than bool_or: the same on every engine, ANSI mode included.
    return ibis.ifelse(condition, 1, 0).max()
