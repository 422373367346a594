"""Where every benchmark writes its results, and what each run records about the machine.

`CAREPATH_BENCH_RESULTS` moves them from benchmarks/results (the suite's smoke test uses a
temporary folder); every benchmark and `suite.py` read it here, so they agree.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("CAREPATH_BENCH_RESULTS") or Path(__file__).parent / "results")


def run_info() -> dict[str, Any]:
    """When and on what a run happened: the figures mean little without the load."""
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": os.getloadavg(),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
