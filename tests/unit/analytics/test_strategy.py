"""Strategy compliance: the treatment a contact got against the one the plan sets."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.facts import contact_facts
from carepath.analytics.strategy import check_plan, plan_from_config, treatment
from carepath.analytics.suite import Metrics, rows
from carepath.errors import InvalidInput
from carepath.tenant_config.model import parse_tenant_config
from tests.unit.analytics.builders import by_key, contact, contacts_table

PLAN = {
    ("order_status", "chat"): "self_serve",
    ("order_status", "*"): "assisted",
    ("*", "voice"): "live",
}
CONTACTS = [
    contact("o1", "a", 0, "chat", handled_by="assistant", intent="order_status"),
    contact("o2", "b", 0, "chat", assistant=True, intent="order_status"),
    contact("o3", "c", 0, "app", assistant=True, intent="order_status"),
    contact("o4", "d", 0, "voice", intent="order_status"),
    contact("b1", "e", 0, "voice"),
    contact("b2", "f", 0, "voice", abandoned=True, wait_s=50),
    contact("b3", "g", 0, "chat"),
    # the phone menu offered to continue by text, and the customer did, 1 h later
    contact("v1", "h", 0, "voice", handled_by="self_service", intent="cancel"),
    contact("v2", "h", 1, "sms", intent="cancel"),
    # web self-service with nothing after
    contact("s1", "i", 0, "web", handled_by="self_service", intent="cancel"),
]


def test_the_treatment_each_contact_got(engine: Engine) -> None:
    facts = contact_facts(contacts_table(engine, CONTACTS))

    got = {
        row["contact_id"]: row["treatment"]
        for row in rows(facts.select("contact_id", treatment=treatment(facts)))
    }

    assert got == {
        "o1": "self_serve",  # the assistant finished it
        "o2": "assisted",  # the assistant, then an agent
        "o3": "assisted",
        "o4": "live",  # an agent alone
        "b1": "live",
        "b2": None,  # abandoned: nothing was delivered
        "b3": "live",
        "v1": "offer_digital",  # voice, no agent, a digital contact within 24 h
        "v2": "live",
        "s1": "self_serve",
    }


def test_compliance_per_intent_and_channel(engine: Engine) -> None:
    # given the plan above
    metrics = Metrics(contacts_table(engine, CONTACTS))

    # when compliance is computed
    found = by_key(rows(metrics.compliance(PLAN)), "intent", "channel")

    # then, by hand (the exact cell first, then the intent on any channel, then any intent on the
    # channel; contacts the plan says nothing about, and abandoned ones, are left out):
    # order_status/chat plans self_serve: o1 self_serve ✓, o2 assisted ✗ → 1/2
    chat = found[("order_status", "chat")]
    assert (chat["planned"], chat["contacts"], chat["compliant"]) == ("self_serve", 2, 1)
    assert (chat["self_serve"], chat["assisted"], chat["compliance"]) == (1, 1, 0.5)
    # order_status/app plans assisted (intent row): o3 ✓ → 1/1
    assert found[("order_status", "app")]["compliance"] == 1.0
    # order_status/voice: the intent row (assisted) wins over (*, voice); o4 got live → 0/1
    assert found[("order_status", "voice")]["planned"] == "assisted"
    assert found[("order_status", "voice")]["compliance"] == 0.0
    # billing/voice plans live: b1 ✓ (b2 abandoned, left out) → 1/1
    assert found[("billing", "voice")]["contacts"] == 1
    assert found[("billing", "voice")]["compliance"] == 1.0
    # cancel/voice plans live but got offer_digital → 0/1
    assert found[("cancel", "voice")]["offer_digital"] == 1
    assert found[("cancel", "voice")]["compliance"] == 0.0
    # no plan for billing/chat, cancel/sms, cancel/web
    assert set(found) == {
        ("order_status", "chat"),
        ("order_status", "app"),
        ("order_status", "voice"),
        ("billing", "voice"),
        ("cancel", "voice"),
    }


def test_a_plan_from_the_tenant_strategy_map() -> None:
    # given a tenant file: assisted by default, voice live, order_status self-serve except on
    # voice where it is offered digital continuation
    config = parse_tenant_config(
        """
channels: [chat, email, voice]
intents:
  - name: order_status
strategy:
  defaults: {treatment: assisted}
  channel_defaults:
    voice: {treatment: live}
  intents:
    order_status:
      treatment: self_serve
      channels:
        voice: {treatment: offer_digital}
"""
    )

    plan = plan_from_config(config)

    assert plan[("order_status", "chat")] == "self_serve"
    assert plan[("order_status", "voice")] == "offer_digital"
    assert plan[("*", "voice")] == "live"
    assert plan[("*", "email")] == "assisted"
    assert plan[("*", "social")] == "assisted"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({("x", "chat"): "magic"}, "unknown treatment 'magic'"),
        ({("x", "fax"): "live"}, "unknown channel 'fax'"),
    ],
)
def test_a_bad_plan_is_refused(plan: dict[tuple[str, str], str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_plan(plan)
