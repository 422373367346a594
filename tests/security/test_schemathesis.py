"""Schemathesis against the published OpenAPI of a real `carepath serve` process, authenticated as
an admin: generated requests for every operation (stateless), then random sequences of calls
(stateful). No answer may be a 5xx, and every answer must match the documented schema and
content type. Bounded by examples per operation and steps, to stay within a CI minute or two."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import bearer, make_company
from tests.reliability_report import record
from tests.security.apps import SECTION, logged_server

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = int(os.environ.get("CAREPATH_SCHEMATHESIS_EXAMPLES", "25"))
STATEFUL_STEPS = int(os.environ.get("CAREPATH_SCHEMATHESIS_STEPS", "15"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Findings:
    requests: int = 0
    operations: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    return {
        **clean,
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_DATA_DIR": str(data_dir),
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_RUN_WORKER": "false",
        # Generated logins would lock the admin out; the limits have their own tests.
        "CAREPATH_RATE_LIMITS": "false",
    }


def stateless(base: str, headers: dict[str, str], findings: Findings) -> None:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err raises here, as it should
        if operation.path.startswith("/webhooks/"):
            continue  # provider-signed: unsigned requests are refused before any parsing
        findings.operations += 1

        # Valid requests, then invalid ones (wrong types, missing fields): 4xx, never 5xx.
        cases = operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE)

        @BOUNDED
        @given(case=cases)
        def run(case: Any) -> None:
            findings.requests += 1
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        began = time.monotonic()
        try:
            run()
        except Exception as exc:  # every operation's failure, not just the first
            findings.failures[operation.label] = str(exc)[:2000]
        findings.seconds[operation.label] = time.monotonic() - began


def stateful(base: str, headers: dict[str, str], findings: Findings) -> None:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    machine = schema.as_state_machine()

    class Authenticated(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base, "headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            findings.requests += 1
            # Noted, not raised: a replay against a server whose data moved on cannot
            # reproduce a sequence, and Hypothesis would report that instead of the finding.
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                findings.failures[f"stateful {case.operation.label}"] = str(exc)[:2000]

    try:
        run_state_machine_as_test(
            Authenticated,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception as exc:
        findings.failures["stateful"] = str(exc)[:3000]


@pytest.mark.timeout(300)
async def test_schemathesis_finds_no_5xx_and_no_schema_mismatch(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    company = await make_company(db)
    headers = bearer(company.admin_token)
    findings = Findings()
    started = time.monotonic()
    log = tmp_path / "server.log"
    with logged_server(server_env(database_url, tmp_path / "data"), log) as base:
        await asyncio.to_thread(stateless, base, headers, findings)
        stateless_requests = findings.requests
        await asyncio.to_thread(stateful, base, headers, findings)
    elapsed = time.monotonic() - started
    failures = "\n\n".join(f"## {name}\n{text}" for name, text in findings.failures.items())
    failures += "\n\n## server log (end)\n" + log.read_text()[-4000:]
    assert not findings.failures, failures
    record(
        "schemathesis",
        section=SECTION,
        what="Schemathesis (stateless, then stateful) against a real server's OpenAPI, as an "
        "admin; checks: no 5xx, response schema and content type conformance.",
        counts={
            "routes_probed": findings.operations,
            "requests_made": findings.requests,
            "stateless_requests": stateless_requests,
            "seconds": round(elapsed, 1),
        },
        result="no server error and no answer outside its documented schema",
    )
