"""The full metric suite on generated contacts, in one run: carepath (its Ibis definitions on
DuckDB), the same metrics hand-written in one DuckDB SQL script (the floor), and a
straightforward pandas implementation. Each runs in its own process, so that its peak memory is
its own; all three must agree before any time counts.

    .venv/bin/python benchmarks/analytics.py [--rows 1000000] [--seed 1] [--no-pandas]
        [--in-place --memory-limit 12GB] [--parquet PATH (generated once, then reused)]

Prints a Markdown table and writes benchmarks/results/analytics.json and analytics.md (one entry
per row count, the latest run of each).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics_common import FCR_DAYS, GROUPS, HOURS, LEVEL_S, PLAN, Options, Suite
from analytics_floor import run_floor
from analytics_pandas import run_pandas
from recording import RESULTS

CONTACTS_PER_CUSTOMER = 3.08  # what the generator makes on average over 90 days
DAYS = 90


def run_carepath(path: Path, options: Options) -> tuple[float, Callable[[], Suite]]:
    from carepath.analytics import Metrics, MetricSettings, duckdb_engine, rows

    engine = duckdb_engine(memory_limit=options.memory_limit)
    if options.spill_to:
        engine.backend.raw_sql(f"SET temp_directory = '{options.spill_to}'")
    started = time.perf_counter()
    contacts = engine.table(path, "contacts", materialize=not options.in_place)
    contacts.count().to_pyarrow()  # the first query pays one-off imports: not a metric's cost
    loaded = time.perf_counter() - started

    def compute() -> Suite:
        metrics = Metrics(contacts, MetricSettings(FCR_DAYS, HOURS, LEVEL_S), cache=True)
        suite = {f"scorecard_by_{g}": rows(metrics.scorecard([g])) for g in GROUPS}
        suite["scorecard_by_channel_week"] = rows(metrics.scorecard(["channel", "period"]))
        suite["digital_share"] = rows(metrics.digital_share())
        suite["movement"] = rows(metrics.movement())
        suite["compliance"] = rows(metrics.compliance(PLAN))
        return suite

    return loaded, compute


RUNNERS = {"carepath": run_carepath, "floor": run_floor, "pandas": run_pandas}


def worker(name: str, path: Path, options: Options) -> None:
    """One implementation, in this process: load, compute, report times, memory and results."""
    loaded, compute = RUNNERS[name](path, options)
    started = time.perf_counter()
    suite = compute()
    metrics_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"load_s": loaded, "metrics_s": metrics_s, "peak_mb": peak_mb, "suite": suite})
    )


def agree(left: Suite, right: Suite) -> list[str]:
    """Where two suites differ (keys, order and values; floats to 1e-9)."""
    problems = []
    for name in left:
        a, b = left[name], right.get(name)
        if b is None or len(a) != len(b):
            problems.append(f"{name}: {len(a)} rows against {None if b is None else len(b)}")
            continue
        for mine, theirs in zip(a, b, strict=True):
            for key, value in mine.items():
                other = theirs.get(key)
                if (
                    isinstance(value, int | float)
                    and isinstance(other, int | float)
                    and float in (type(value), type(other))
                ):
                    same = math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9)
                else:
                    same = value == other
                if not same:
                    problems.append(f"{name}: {key} {value!r} against {other!r} in {mine}")
                    break
    return problems


def generate_input(rows: int, seed: int, folder: Path) -> tuple[Path, int, float]:
    from carepath.analytics import CONTACTS
    from carepath.analytics.generate import generate
    from carepath.analytics.sources import TableWriter

    path = folder / f"contacts-{rows}-{seed}.parquet"
    started = time.perf_counter()
    customers = max(1, round(rows / CONTACTS_PER_CUSTOMER))
    with TableWriter(path, CONTACTS) as writer:
        for contacts, _events in generate(customers, DAYS, seed):
            writer.write(contacts)
    return path, writer.rows, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="about this many contacts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-pandas", action="store_true", help="skip pandas (slow at 10^8)")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="DuckDB reads the Parquet file in place instead of loading it into memory first",
    )
    parser.add_argument("--memory-limit", help="DuckDB's memory_limit (e.g. 12GB); it spills")
    parser.add_argument(
        "--parquet", type=Path, help="the generated file: reused if it exists, else kept there"
    )
    parser.add_argument("--worker", choices=list(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spill-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = Options(args.in_place, args.memory_limit, args.spill_to)
    if args.worker:
        worker(args.worker, args.input, options)
        return
    with tempfile.TemporaryDirectory(prefix="carepath-bench-") as folder:
        path, rows, generate_s = _input(args, Path(folder))
        names = [n for n in RUNNERS if not (args.no_pandas and n == "pandas")]
        spill = Path(folder) / "spill"
        runs = {name: _run_worker(name, path, args, spill / name) for name in names}
    suites = {name: run.pop("suite") for name, run in runs.items()}
    for name in names[1:]:
        problems = agree(suites["carepath"], suites[name])
        if problems:
            sys.exit(f"carepath and {name} disagree:\n  " + "\n  ".join(problems[:10]))
    report = _report(rows, generate_s, runs)
    report["options"] = {"in_place": args.in_place, "memory_limit": args.memory_limit}
    _save(report)
    print(_markdown(_load_all()))


def _input(args: argparse.Namespace, folder: Path) -> tuple[Path, int, float]:
    """The generated contacts: made now, or the file of an earlier run with --parquet."""
    if args.parquet is not None and args.parquet.exists():
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(args.parquet).metadata.num_rows
        print(f"reusing {rows:,} contacts from {args.parquet}", file=sys.stderr)
        return args.parquet, rows, math.nan
    path, rows, generate_s = generate_input(args.rows, args.seed, folder)
    print(f"generated {rows:,} contacts in {generate_s:.1f} s", file=sys.stderr)
    if args.parquet is not None:
        path = path.rename(args.parquet)
    return path, rows, generate_s


def _run_worker(name: str, path: Path, args: argparse.Namespace, spill: Path) -> dict[str, Any]:
    print(f"running {name}…", file=sys.stderr)
    command = [sys.executable, __file__, "--worker", name, "--input", str(path)]
    if args.in_place:
        command.append("--in-place")
    if args.memory_limit:
        spill.mkdir(parents=True, exist_ok=True)
        command += ["--memory-limit", args.memory_limit, "--spill-to", str(spill)]
    done = subprocess.run(  # noqa: S603 - this same script, with our own arguments
        command,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _report(rows: int, generate_s: float, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    import duckdb
    import ibis
    import pandas

    floor = runs["floor"]["metrics_s"]
    for run in runs.values():
        run["total_s"] = run["load_s"] + run["metrics_s"]
        run["vs_floor"] = run["metrics_s"] / floor
    if "pandas" in runs:
        runs["pandas"]["carepath_speedup"] = (
            runs["pandas"]["metrics_s"] / runs["carepath"]["metrics_s"]
        )
    return {
        "rows": rows,
        "generate_s": generate_s,
        "runs": runs,
        "goals": {
            "within_1_5x_of_floor": runs["carepath"]["vs_floor"] <= 1.5,
            "10x_faster_than_pandas": (
                runs["pandas"]["carepath_speedup"] >= 10 if "pandas" in runs else None
            ),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "duckdb": duckdb.__version__,
            "ibis": ibis.__version__,
            "pandas": pandas.__version__,
        },
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _load_all() -> dict[str, Any]:
    path = RESULTS / "analytics.json"
    found: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return found


def _save(report: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    everything = _load_all()
    everything[str(report["rows"])] = report
    (RESULTS / "analytics.json").write_text(json.dumps(everything, indent=2) + "\n")
    (RESULTS / "analytics.md").write_text(_markdown(everything))


def _markdown(everything: dict[str, Any]) -> str:
    lines = [
        "| contacts | implementation | load s | metrics s | vs floor | pandas / this | peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for _, report in sorted(everything.items(), key=lambda kv: int(kv[0])):
        pandas_s = report["runs"].get("pandas", {}).get("metrics_s")
        for name, run in report["runs"].items():
            speedup = "-" if pandas_s is None else f"{pandas_s / run['metrics_s']:.1f}x"
            lines.append(
                f"| {report['rows']:,} | {name} | {run['load_s']:.2f} | {run['metrics_s']:.2f} "
                f"| {run['vs_floor']:.2f}x | {speedup} | {run['peak_mb']:,.0f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
