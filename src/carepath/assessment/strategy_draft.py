"""A draft contact strategy map from the opportunities: a tenant YAML that `carepath tenant
apply` accepts (checked here with the same parser before it is written)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from carepath.assessment.opportunities import ASSISTED, SELF_SERVICE
from carepath.tenant_config import parse_tenant_config

TREATMENT = {SELF_SERVICE: "self_serve", ASSISTED: "assisted"}
HEADER = """\
# Draft contact strategy map from `carepath assess`: review it, add skills, agents, queues and
# flows, then `carepath tenant apply --tenant SLUG FILE`. Intents recommended for self-service
# or assisted digital are offered a digital continuation on the phone (offer_digital).
"""


def config_name(intent: str, taken: set[str]) -> str:
    """The intent as a tenant-config name (lowercase letters, digits, _; a letter first)."""
    name = re.sub(r"[^a-z0-9_]+", "_", intent.lower()).strip("_") or "intent"
    if not name[0].isalpha():
        name = f"i_{name}"
    name = name[:56]
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}_{n}", n + 1
    taken.add(unique)
    return unique


def draft_strategy(opportunities: Sequence[dict[str, Any]], channels: Sequence[str]) -> str:
    """The YAML text; raises InvalidInput if the tenant-config parser would refuse it."""
    taken: set[str] = set()
    own = ["messenger" if channel == "social" else channel for channel in channels]
    intents: list[dict[str, Any]] = []
    rows: dict[str, Any] = {}
    for entry in opportunities:
        name = config_name(entry["intent"], taken)
        intents.append(
            {
                "name": name,
                "description": (
                    f"{entry['intent']}: {entry['contacts_per_month']:,.0f} contacts a month; "
                    f"{entry['reason']}"
                ),
            }
        )
        row: dict[str, Any] = {"treatment": TREATMENT.get(entry["recommendation"], "live")}
        if entry["sales_opportunity"]:
            row["sales_opportunity"] = True
        if entry["recommendation"] in TREATMENT:
            row["channels"] = {"voice": {"treatment": "offer_digital"}}
            if "voice" not in own:
                own.append("voice")
        rows[name] = row
    document = {
        "channels": list(dict.fromkeys(own)),
        "skills": ["general"],
        "intents": intents,
        "strategy": {"defaults": {"treatment": "live", "skill": "general"}, "intents": rows},
    }
    text = HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    parse_tenant_config(text, source="the draft strategy map")
    return text
