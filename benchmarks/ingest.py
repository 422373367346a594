"""Signed SMS webhooks through carepath's whole ingest path (verify, store, thread, route, push
to a connected agent stream) against the ceiling: a bare ASGI endpoint on the same server that
reads and parses the same request and answers 200. On SQLite and PostgreSQL.

    .venv/bin/python benchmarks/ingest.py [--seconds 5 --concurrency 16 --clients 2]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres | --no-postgres]

Per database, against one `carepath serve` process: the ceiling, then carepath, each closed loop
at the same concurrency (maximum throughput, p50/p99); then carepath open loop at half its
maximum rate (p99 there is the latency goal). One agent stream stays connected throughout: the
push latency is from the request leaving the client to the `message.created` event arriving.
Afterwards every acknowledged message must be in the database and on the stream.
Goals: carepath >= 25% of the ceiling's throughput; p99 < 30 ms at half of carepath's maximum.
Writes benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_server import (
    AUTH_TOKEN,
    DEFAULT_POSTGRES,
    OUR_NUMBER,
    Server,
    collect,
    fresh_database,
    percentile,
    seed_sms_tenant,
    serving,
    spawn,
)
from recording import run_info, write_result
from server_metrics import breakdown, scrape
from sqlalchemy import func, select

from carepath.storage import Database
from carepath.storage.tables import messages

AREAS = ("650", "415", "408", "212", "312", "617", "206", "303")


def load(
    server: Server, path: str, args: argparse.Namespace, phase: str, *, rate: float | None = None
) -> dict[str, Any]:
    """`args.clients` generator processes POSTing to `path` for `args.seconds`; merged results."""
    start_at = time.time() + 2.0  # every process has signed its requests by then
    processes = []
    for n in range(args.clients):
        options = [
            "--url", server.url + path,
            "--sign-url", server.url + path,
            "--auth-token", AUTH_TOKEN,
            "--to", OUR_NUMBER,
            "--seconds", str(args.seconds),
            "--prefix", f"{phase}{n}x",
            "--area", AREAS[n % len(AREAS)],
            "--start-at", str(start_at),
            # Signed before the clock starts: enough for 3,000/s from each process.
            "--max-requests", str(int(3000 * args.seconds) + 100),
        ]  # fmt: skip
        if rate is None:
            options += ["--mode", "closed", "--concurrency", str(args.concurrency // args.clients)]
        else:
            options += ["--mode", "open", "--rate", str(rate / args.clients), "--concurrency", "64"]
        processes.append(spawn("sms_load.py", *options))
    parts = [collect(p, timeout=args.seconds + 120) for p in processes]
    latencies = [x for part in parts for x in part["latencies_ms"]]
    errors: dict[str, int] = {}
    for part in parts:
        for key, value in part["errors"].items():
            errors[key] = errors.get(key, 0) + value
    elapsed = max(part["elapsed_s"] for part in parts)
    return {
        "ok": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": errors,
        "sends": {sid: at for part in parts for sid, at in part["sends"].items()},
    }


def profile(server: Server, args: argparse.Namespace, kind: str) -> subprocess.Popen[bytes] | None:
    """With --profile: py-spy samples the server while carepath is under load (a flame graph
    in SVG and the collapsed stacks, for `sort | head` reading)."""
    if args.profile is None:
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(  # noqa: S603 - py-spy on our own server
        [
            str(Path(sys.executable).parent / "py-spy"), "record",
            "--pid", str(server.process.pid),
            "--duration", str(int(args.seconds) + 1),
            "--format", "raw",
            "--output", str(args.profile / f"ingest-{kind}.txt"),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def push_latency(sends: dict[str, float], arrivals: dict[str, list[float]]) -> dict[str, float]:
    delays = [(arrivals[sid][0] - at) * 1000 for sid, at in sends.items() if sid in arrivals]
    return {
        "pushed": len(delays),
        "missing": len(sends) - len(delays),
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
    }


async def stored_messages(url: str) -> int:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(messages))).scalar_one()
            )
    finally:
        await db.dispose()


async def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    async with fresh_database(kind, args.postgres, workdir) as url:
        tenant = await seed_sms_tenant(url)
        with serving(url, bench_ceiling="true") as server:
            idle = server.rss_mb()
            ready, stop = workdir / f"{kind}.ready", workdir / f"{kind}.stop"
            listener = spawn(
                "stream_listen.py",
                "--url", server.url.replace("http://", "ws://") + "/v1/stream",
                "--token", tenant.agent_token,
                "--ready", str(ready),
                "--stop", str(stop),
            )  # fmt: skip
            while not ready.exists():  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
            webhook = f"/webhooks/twilio/{tenant.slug}/sms"
            print(f"{kind}: ceiling", file=sys.stderr)
            ceiling = load(server, "/bench/ceiling/sms", args, "c")
            print(f"{kind}: carepath, closed loop", file=sys.stderr)
            profiler = profile(server, args, kind)
            full = load(server, webhook, args, "f")
            if profiler is not None:
                profiler.wait(timeout=60)
            half = full["per_second"] / 2
            print(f"{kind}: carepath, open loop at {half:.0f}/s", file=sys.stderr)
            before = scrape(server.url)
            paced = load(server, webhook, args, "h", rate=half)
            paced["server"] = breakdown(before, scrape(server.url))
            await asyncio.sleep(1.0)  # the last pushes
            stop.write_text("")
            arrivals = collect(listener, timeout=60)["arrivals"]
            rss = server.rss_mb()
        stored = await stored_messages(url)
    acknowledged = full["ok"] + paced["ok"]
    if stored != acknowledged:
        raise AssertionError(f"{kind}: {acknowledged} acknowledged but {stored} stored")
    rows = {
        "ceiling": ceiling,
        "carepath": {**full, "push": push_latency(full["sends"], arrivals)},
        "carepath_half_rate": {
            **paced,
            "rate": half,
            "push": push_latency(paced["sends"], arrivals),
        },
    }
    for row in rows.values():
        del row["sends"]
    ratio = full["per_second"] / ceiling["per_second"]
    return {
        **rows,
        "ratio": ratio,
        "stored": stored,
        "server_rss_mb": rss,
        "idle_rss_mb": idle,
        "pass": ratio >= 0.25 and paced["p99_ms"] < 30 and not full["errors"],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = await measure("sqlite", args, Path(tmp))
        if args.postgres:
            results["PostgreSQL"] = await measure("postgres", args, Path(tmp))
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| database | endpoint | msgs/s | p50 ms | p99 ms | push p50 ms | push p99 ms "
        "| vs ceiling |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for database, rows in results.items():
        ceiling = rows["ceiling"]["per_second"]
        for name in ("ceiling", "carepath", "carepath_half_rate"):
            row = rows[name]
            push = row.get("push", {})
            nan = float("nan")
            lines.append(
                f"| {database} | {name.replace('_', ' ')} | {row['per_second']:,.0f} | "
                f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {push.get('p50_ms', nan):.1f} | "
                f"{push.get('p99_ms', nan):.1f} | {row['per_second'] / ceiling:.0%} |"
            )
    lines += [
        "",
        "At half rate, in the server (means; p99 as the histogram bucket it falls in):",
        "",
        "| database | request ms | batch wait ms | batch run ms | messages per batch "
        "| request p99 <= | wait p99 <= | run p99 <= |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for database, rows in results.items():
        server = rows["carepath_half_rate"].get("server", {})
        mean = [
            server.get(f"{k}_mean", float("nan")) for k in ("request", "batch_wait", "batch_run")
        ]
        p99 = [
            server.get(f"{k}_p99_at_most", float("nan"))
            for k in ("request", "batch_wait", "batch_run")
        ]
        lines.append(
            f"| {database} | {mean[0]:.1f} | {mean[1]:.1f} | {mean[2]:.1f} | "
            f"{server.get('batch_members_mean', float('nan')):.1f} | "
            f"{p99[0]:g} | {p99[1]:g} | {p99[2]:g} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--postgres", default=os.environ.get("CAREPATH_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-postgres", dest="postgres", action="store_const", const="")
    parser.add_argument(
        "--profile", type=Path, help="py-spy the server under carepath's load; stacks go here"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(markdown(results))
    result = {
        "benchmark": "ingest",
        **run_info(),
        "parameters": {k: v for k, v in vars(args).items() if k not in ("postgres", "profile")},
        "results": results,
    }
    write_result("ingest", result)
    return result


if __name__ == "__main__":
    main()
