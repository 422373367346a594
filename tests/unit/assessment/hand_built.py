"""Small hand-built inputs for the assessment tests, with their figures worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from carepath.analytics.schema import CONTACTS
from carepath.analytics.validation import validate_table
from carepath.assessment.intake import FileSummary, Intake
from tests.unit.analytics.builders import contact

# Monday 1 January 2024, 09:00 UTC is hour 0 (tests/unit/analytics/builders.py).
STANDING = [
    # c1 starts a return on the web and phones two hours later
    contact("k1", "c1", 0, "web", handled_by="self_service", intent="returns"),
    contact(
        "k2", "c1", 2, "voice", intent="returns", wait_s=10, handle_s=300, csat=5, nps=10, ces=1
    ),
    # c2: the assistant answers an order-status chat
    contact("k3", "c2", 1, "chat", handled_by="assistant", intent="order_status", segment="young"),
    # c3 phones about billing, then emails about it 7 hours later
    contact("k4", "c3", 3, "voice", wait_s=30, handle_s=200, csat=2, nps=6, ces=4),
    contact("k5", "c3", 10, "email", handle_s=100),
    # c4 hangs up in the queue and calls back an hour later
    contact("k6", "c4", 4, "voice", segment="business", wait_s=40, abandoned=True),
    contact("k7", "c4", 5, "voice", segment="business", wait_s=5, handle_s=400, csat=4, nps=9),
]

# Two Mondays 09:00, exactly a week apart: one week of input. Billing calls of 300 s and one
# billing email of 600 s, all in the Monday 09:00-09:30 interval.
WORKLOAD = [
    contact("w1", "s1", 0, "voice", wait_s=3, handle_s=300),
    contact("w2", "s2", 168, "voice", wait_s=3, handle_s=300),
    contact("w3", "s3", 1 / 6, "email", handle_s=600),
]


def intake(rows: list[dict[str, Any]]) -> Intake:
    table, report = validate_table(pa.Table.from_pylist(rows, schema=CONTACTS.schema))
    assert report.ok, report.summary()
    summary = FileSummary("hand-built", "contacts", rows=len(rows), used=len(rows))
    return Intake(table, [summary], [], 0)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
