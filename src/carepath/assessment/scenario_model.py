"""Migration scenarios as written by the analyst: a YAML file or `--shift` flags."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carepath.analytics.schema import CHANNELS
from carepath.errors import InvalidInput
from carepath.yaml_config import load_yaml

_SHIFT = re.compile(
    r"^(?P<intent>[^:]+):(?P<source>[a-z]+)>(?P<target>[a-z]+):(?P<share>[\d.]+)%"
    r"(?::(?P<contained>[\d.]+)%)?$"
)


class Shift(BaseModel):
    """Move `share` of the intent's contacts on `from` to `to`; `contained` of the moved ones
    finish there without an agent (default: the share that does today on `to`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    intent: str
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    share: float = Field(gt=0, le=1)
    contained: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _channels(self) -> Shift:
        for channel in (self.source, self.target):
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
        if self.source == self.target:
            raise ValueError("a shift moves contacts between two different channels")
        return self

    def label(self) -> str:
        return f"{self.share:.0%} of {self.intent} {self.source} → {self.target}"


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    shifts: list[Shift] = Field(min_length=1)
    investment: float = Field(default=0, ge=0, description="one-off, in the costs' currency")
    run_cost_per_month: float = Field(default=0, ge=0, description="new running costs")


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scenarios: list[Scenario] = Field(min_length=1)


def load_scenarios(path: Path) -> list[Scenario]:
    return load_yaml(path, ScenarioFile).scenarios


def parse_shift(text: str) -> Shift:
    """`INTENT:FROM>TO:SHARE%[:CONTAINED%]`, e.g. `card_lost:voice>chat:30%:50%`."""
    found = _SHIFT.match(text.strip())
    if found is None:
        raise InvalidInput(
            f"--shift {text!r}: write INTENT:FROM>TO:SHARE%[:CONTAINED%], "
            "e.g. card_lost:voice>chat:30%:50%"
        )
    contained = found["contained"]
    try:
        return Shift.model_validate(
            {
                "intent": found["intent"],
                "from": found["source"],
                "to": found["target"],
                "share": float(found["share"]) / 100,
                "contained": None if contained is None else float(contained) / 100,
            }
        )
    except ValueError as exc:
        raise InvalidInput(f"--shift {text!r}: {exc}") from exc
