"""The digital care assessment (SPEC journey 7): an export of historic interactions from any
helpdesk or call centre → where the company stands, which intents to move to which channel,
and the business case of migration scenarios (docs/assessment.md)."""

from carepath.assessment.costs import Assumptions, Costs, load_costs
from carepath.assessment.intake import FORMATS, Intake, Problem, read_inputs
from carepath.assessment.mapping import Mapping, built_in, load_mapping
from carepath.assessment.report import as_json, assess, render_html
from carepath.assessment.scenario_model import Scenario, Shift, load_scenarios, parse_shift

__all__ = [
    "FORMATS",
    "Assumptions",
    "Costs",
    "Intake",
    "Mapping",
    "Problem",
    "Scenario",
    "Shift",
    "as_json",
    "assess",
    "built_in",
    "load_costs",
    "load_mapping",
    "load_scenarios",
    "parse_shift",
    "read_inputs",
    "render_html",
]
