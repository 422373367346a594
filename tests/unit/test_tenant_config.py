"""The tenant configuration file and the contact strategy map's one function."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepath.domain.cases import Priority
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput
from carepath.tenant_config import TreatmentKind, parse_tenant_config, treatment_for

EXAMPLE = Path(__file__).parents[2] / "examples" / "tenant.yaml"


@pytest.fixture(scope="module")
def example_text() -> str:
    return EXAMPLE.read_text()


def test_the_example_file_is_valid(example_text: str) -> None:
    config = parse_tenant_config(example_text)
    assert config.tenant == "acme"
    assert [a.email for a in config.agents] == ["ann@acme.example.com", "bob@acme.example.com"]


@pytest.mark.parametrize(
    ("intent", "channel", "kind", "skill", "priority", "sla"),
    [
        # a row for the intent, a cell for the channel
        ("card_arrival", Channel.CHAT, TreatmentKind.SELF_SERVE, "general", Priority.NORMAL, 3600),
        (
            "card_arrival",
            Channel.VOICE,
            TreatmentKind.OFFER_DIGITAL,
            "general",
            Priority.NORMAL,
            20,
        ),
        (
            "refund_not_received",
            Channel.EMAIL,
            TreatmentKind.ASSISTED,
            "returns",
            Priority.NORMAL,
            86400,
        ),
        # a moment of truth: live, and at least high priority
        ("lost_or_stolen_card", Channel.CHAT, TreatmentKind.LIVE, "cards", Priority.HIGH, 3600),
        # a sales opportunity is assisted by default, never self-serve
        ("open_account", Channel.WHATSAPP, TreatmentKind.ASSISTED, "sales", Priority.NORMAL, 3600),
        # unknown and missing intents fall back to the defaults
        ("something_new", Channel.CHAT, TreatmentKind.ASSISTED, "general", Priority.NORMAL, 3600),
        (None, Channel.VOICE, TreatmentKind.LIVE, "general", Priority.NORMAL, 20),
    ],
)
def test_treatment_layers_defaults_channel_intent_and_cell(
    example_text: str,
    intent: str | None,
    channel: Channel,
    kind: TreatmentKind,
    skill: str,
    priority: Priority,
    sla: int,
) -> None:
    treatment = treatment_for(parse_tenant_config(example_text), intent, channel)
    assert (treatment.kind, treatment.skill, treatment.priority, treatment.sla_seconds) == (
        kind,
        skill,
        priority,
        sla,
    )


def test_the_treatment_says_which_rows_decided_it(example_text: str) -> None:
    treatment = treatment_for(parse_tenant_config(example_text), "card_arrival", Channel.VOICE)
    assert treatment.source == (
        "defaults",
        "channel_defaults.voice",
        "intents.card_arrival",
        "intents.card_arrival.channels.voice",
    )


def test_an_invalid_file_is_refused_whole_with_every_error_by_line_and_key() -> None:
    text = """\
skills: [general]
intents:
  - {name: open_account}
strategy:
  defaults: {skill: general}
  intents:
    open_account:
      sales_opportunity: true
      treatment: self_serve
      skill: sales
    unknown_intent:
      priority: sky-high
routing:
  min_proficiency: 9
"""
    with pytest.raises(InvalidInput) as refused:
        parse_tenant_config(text, source="acme.yaml")
    errors = refused.value.data["errors"]
    by_loc = {e["loc"]: e for e in errors}
    # schema errors first (the file is not even checked for references until they are fixed)
    assert "strategy.intents.unknown_intent.priority" in by_loc
    assert by_loc["strategy.intents.unknown_intent.priority"]["line"] == 12
    assert by_loc["routing.min_proficiency"]["line"] == 14
    assert "acme.yaml is not valid" in refused.value.message


def test_references_and_automation_rules_are_checked_with_lines() -> None:
    text = """\
skills: [general]
intents:
  - {name: open_account}
strategy:
  intents:
    open_account:
      sales_opportunity: true
      treatment: self_serve
      skill: sales
    never_declared: {}
"""
    with pytest.raises(InvalidInput) as refused:
        parse_tenant_config(text)
    problems = {(e["loc"], e["line"]): e["message"] for e in refused.value.data["errors"]}
    assert problems == {
        ("strategy.intents.open_account.skill", 9): "skill 'sales' is not declared under skills",
        (
            "strategy.intents.open_account.treatment",
            8,
        ): "open_account is a sales opportunity: it is never fully automated",
        (
            "strategy.intents.never_declared",
            10,
        ): "intent 'never_declared' is not declared under intents",
    }


def test_unknown_keys_are_refused_not_ignored() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_tenant_config("skils: [general]\n")
    assert refused.value.data["errors"][0]["loc"] == "skils"
