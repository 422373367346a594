"""The followed contacts carry their own columns through the self-join: the same facts as every
contact's, for those with a follow-up, and the summary refuses them without what it reads."""

from __future__ import annotations

import ibis.expr.types as ir
import pyarrow as pa
import pytest

from carepath.analytics import metrics as m
from carepath.analytics.engine import Engine
from carepath.analytics.facts import (
    FOLLOW_UPS,
    as_if_alone,
    contact_facts,
    followed_contacts,
)
from carepath.analytics.generate import generate

CARRIED = ["contact_id", "channel", "intent", "started_at", "abandoned"]


@pytest.fixture(scope="module")
def contacts(engine: Engine) -> ir.Table:
    found = list(generate(300, 30, 5))
    return engine.table(pa.concat_tables([c for c, _ in found]), "contacts")


def _by_id(table: ir.Table) -> dict[str, dict[str, object]]:
    return {row["contact_id"]: row for row in table.to_pyarrow().to_pylist()}


def test_the_followed_contacts_are_every_contacts_facts_with_a_follow_up(
    contacts: ir.Table,
) -> None:
    every = _by_id(contact_facts(contacts).select(*CARRIED, *FOLLOW_UPS))

    followed = followed_contacts(contacts, carry=CARRIED)

    assert followed.columns == (*CARRIED, *FOLLOW_UPS)
    found = _by_id(followed)
    assert len(found) > 50  # the generator plants repeats and channel moves
    assert found == {contact_id: every[contact_id] for contact_id in found}
    # the contacts left out are those with nothing after them: every flag false
    flagged = {key for key, row in every.items() if any(row[name] for name in FOLLOW_UPS)}
    assert flagged <= found.keys()


def test_the_summary_refuses_followed_contacts_without_what_its_counts_read(
    contacts: ir.Table,
) -> None:
    def counts(facts: ir.Table) -> m.Measures:
        # reads `handled_by` beside a follow-up flag; CARRIED lacks it
        return {"contained_alone": m.tally((facts.handled_by == "assistant") & ~facts.followed)}

    alone = as_if_alone(contacts)
    assert m.follow_up_inputs(counts, alone) == {"handled_by"}
    with pytest.raises(ValueError, match="handled_by"):
        m.summarize(alone, followed_contacts(contacts, carry=CARRIED), counts)
