"""The benchmark suite (`scripts/bench`): every benchmark in its own process, then one table of
carepath's figure beside its baseline's from the same run, the ratio, the goal and pass/fail.

    scripts/bench [--quick] [--only ingest,fanout] [--no-postgres]

Writes benchmarks/results/latest.json and latest.md. `--quick` is a smoke run (small sizes,
SQLite only, about a minute): it shows the suite works, not how fast carepath is.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recording import RESULTS

HERE = Path(__file__).parent
Row = dict[str, Any]


def _row(name: str, unit: str, carepath: float, baseline: float, goal: str, ok: bool) -> Row:
    return {
        "benchmark": name,
        "unit": unit,
        "carepath": carepath,
        "baseline": baseline,
        "ratio": carepath / baseline if baseline else None,
        "goal": goal,
        "pass": ok,
    }


def ingest_rows(result: dict[str, Any]) -> list[Row]:
    rows = []
    for database, r in result["results"].items():
        rows.append(
            _row(
                f"ingest {database}: msgs/s vs bare endpoint",
                "msgs/s",
                r["carepath"]["per_second"],
                r["ceiling"]["per_second"],
                ">= 25% of the ceiling",
                r["ratio"] >= 0.25,
            )
        )
        half = r["carepath_half_rate"]
        rows.append(
            _row(
                f"ingest {database}: p99 ms at half max rate (baseline: ceiling p99)",
                "ms",
                half["p99_ms"],
                r["ceiling"]["p99_ms"],
                "< 30 ms",
                half["p99_ms"] < 30,
            )
        )
        rows.append(
            _row(
                f"memory {database}: server RSS MB after {r['stored']:,} messages (baseline: idle)",
                "MB",
                r["server_rss_mb"],
                r["idle_rss_mb"],
                "reported",
                True,
            )
        )
    return rows


def fanout_rows(result: dict[str, Any]) -> list[Row]:
    r = result["results"]
    single = r["one stream"]
    rows = []
    for name, row in r.items():
        if not isinstance(row, dict) or name == "one stream":
            continue
        rows.append(
            _row(
                f"fan-out {r['database']}, {name}: delivery p99 ms (baseline: one stream)",
                "ms",
                row["p99_ms"],
                single["p99_ms"],
                "< 1000 ms, none missing",
                row["p99_ms"] < 1000 and row["missing"] == 0,
            )
        )
        rows.append(
            _row(
                f"memory: server RSS MB with {name} (baseline: idle)",
                "MB",
                max(row["server_rss_mb"]),
                r["idle_rss_mb"],
                "reported",
                True,
            )
        )
    return rows


def routing_rows(result: dict[str, Any]) -> list[Row]:
    rates = result["decisions_per_second"]["agent for work (choose_agent)"]
    work = result["decisions_per_second"]["work for agent (choose_work)"]
    return [
        _row(
            "routing: agent for work, decisions/CPU s (baseline: naive scan)",
            "decisions/s",
            rates["index"],
            rates["naive scan"],
            ">= 100,000/s",
            rates["index"] >= 100_000,
        ),
        _row(
            "routing: work for agent, decisions/CPU s (baseline: naive scan)",
            "decisions/s",
            work["index"],
            work["naive scan"],
            ">= 100,000/s",
            work["index"] >= 100_000,
        ),
    ]


def dispatch_rows(result: dict[str, Any]) -> list[Row]:
    return [
        _row(
            f"dispatch {database}: assignments/s (baseline: naive)",
            "assignments/s",
            rows["dispatcher"]["per_second"],
            rows["naive"]["per_second"],
            "faster than naive",
            rows["dispatcher"]["per_second"] > rows["naive"]["per_second"],
        )
        for database, rows in result["results"].items()
    ]


def classifier_rows(result: dict[str, Any]) -> list[Row]:
    rows = []
    by = {(r["dataset"], r["system"]): r for r in result["results"]}
    for dataset in ("banking77", "clinc150"):
        ours, base = by.get((dataset, "carepath")), by.get((dataset, "tfidf-word + logreg"))
        if ours and base:
            rows.append(
                _row(
                    f"intent classifier {dataset}: accuracy (baseline: tf-idf words + logreg)",
                    "accuracy",
                    ours["accuracy"],
                    base["accuracy"],
                    "targets in benchmarks/README.md",
                    all(check["met"] for check in result["targets"].values()),
                )
            )
    return rows


def analytics_rows(result: dict[str, Any]) -> list[Row]:
    rows = []
    for size, report in result.items():
        runs = report["runs"]
        rows.append(
            _row(
                f"analytics {int(size):,} contacts: metrics s (baseline: hand-written DuckDB SQL)",
                "s",
                runs["carepath"]["metrics_s"],
                runs["floor"]["metrics_s"],
                "<= 1.5x the floor",
                runs["carepath"]["vs_floor"] <= 1.5,
            )
        )
    return rows


def stored_memory_rows(result: dict[str, Any]) -> list[Row]:
    rows = []
    for database, r in result["results"].items():
        stored, empty = r["stored"], r["empty"]
        count = f"{stored['stored_before']:,} stored messages"
        rows.append(
            _row(
                f"memory {database}: server peak RSS MB with {count} (baseline: empty database)",
                "MB",
                stored["peak_mb"],
                empty["peak_mb"],
                "reported",
                True,
            )
        )
        rows.append(
            _row(
                f"ingest {database} with {count}: msgs/s (baseline: empty database)",
                "msgs/s",
                stored["ingest"]["per_second"],
                empty["ingest"]["per_second"],
                "reported",
                True,
            )
        )
    return rows


def _latest(pattern: str) -> Path:
    return Path(max(glob.glob(str(RESULTS / pattern)), key=os.path.getmtime))


# name → (arguments, quick arguments or None to skip in --quick, result file, rows)
BENCHMARKS: dict[str, tuple[list[str], list[str] | None, str, Callable[[Any], list[Row]]]] = {
    "ingest": (
        [],
        ["--seconds", "1", "--concurrency", "4", "--no-postgres"],
        "ingest.json",
        ingest_rows,
    ),
    "fanout": (
        [],
        ["--streams", "50", "--rate", "5", "--seconds", "1", "--no-postgres"],
        "fanout.json",
        fanout_rows,
    ),
    "routing": (
        [],
        ["--agents", "100", "--items", "1000", "--seconds", "0.2"],
        "routing.json",
        routing_rows,
    ),
    "dispatch": ([], None, "dispatch.json", dispatch_rows),
    "intent_classifier": ([], None, "intent_classifier-*.json", classifier_rows),
    "analytics": (["--rows", "1000000"], None, "analytics.json", analytics_rows),
    "stored_memory": ([], ["--quick", "--no-postgres"], "stored_memory.json", stored_memory_rows),
}
TAKES_POSTGRES = {"ingest", "fanout", "dispatch", "stored_memory"}


def run_one(name: str, args: argparse.Namespace) -> tuple[list[Row], float]:
    full, quick, output, rows = BENCHMARKS[name]
    argv = quick if args.quick else full
    assert argv is not None
    if args.no_postgres and name in TAKES_POSTGRES and "--no-postgres" not in argv:
        argv = [*argv, "--no-postgres"]
    started = time.monotonic()
    print(f"== {name} {' '.join(argv)}", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *argv], check=False)  # noqa: S603
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed with exit status {done.returncode}")
    path = _latest(output) if "*" in output else RESULTS / output
    return rows(json.loads(path.read_text())), elapsed


def markdown(rows: list[Row]) -> str:
    lines = [
        "| benchmark | carepath | baseline | ratio | goal | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-"
        lines.append(
            f"| {row['benchmark']} | {_figure(row['carepath'])} | {_figure(row['baseline'])} | "
            f"{ratio} | {row['goal']} | {'pass' if row['pass'] else 'FAIL'} |"
        )
    return "\n".join(lines) + "\n"


def _figure(value: float) -> str:
    if value < 1:
        return f"{value:.3f}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    if args.quick:
        names = [n for n in names if BENCHMARKS[n][1] is not None]
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            found, seconds[name] = run_one(name, args)
            rows.extend(found)
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            failed[name] = str(exc)
            print(f"!! {name}: {exc}", file=sys.stderr)
    table = markdown(rows)
    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "python": sys.version.split()[0],
        "load_average": os.getloadavg(),
        "seconds": seconds,
        "rows": rows,
        "failed": failed,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(table)
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
