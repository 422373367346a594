"""Fan-out: case events to 1,000 agent streams (`/v1/stream` WebSockets) connected to one server
process, then split over two processes sharing PostgreSQL and Redis; beside it, in the same run,
the same server with a single stream (the baseline). Also the server's memory with the streams
connected.

    .venv/bin/python benchmarks/fanout.py [--streams 1000 --rate 5 --seconds 10]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/0]

Customers' SMS webhooks arrive at a steady rate on the first process; every stream must receive
every `message.created` event. Delivery latency is from the webhook leaving the client to the
event reaching a stream, over every (stream, event) pair. Listener processes hold 500
connections each. Writes benchmarks/results/fanout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from contextlib import ExitStack
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

PER_LISTENER = 500


def deliver(
    servers: list[Server], token: str, slug: str, streams: int, args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    """`streams` connections spread over `servers`; webhooks to the first; latencies."""
    workdir = Path(tempfile.mkdtemp(prefix="carepath-fanout-"))
    listeners = []
    for n, start in enumerate(range(0, streams, PER_LISTENER)):
        server = servers[n % len(servers)]
        ready = workdir / f"ready{n}"
        listeners.append(
            (
                ready,
                spawn(
                    "stream_listen.py",
                    "--url",
                    server.url.replace("http://", "ws://") + "/v1/stream",
                    "--token",
                    token,
                    "--connections",
                    str(min(PER_LISTENER, streams - start)),
                    "--ready",
                    str(ready),
                    "--stop",
                    str(workdir / "stop"),
                    "--seconds",
                    str(args.seconds + 180),
                ),
            )
        )
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready, _ in listeners):
        if time.monotonic() > deadline:
            raise RuntimeError("streams did not connect in 120 s")
        time.sleep(0.1)
    rss = [server.rss_mb() for server in servers]
    path = f"/webhooks/twilio/{slug}/sms"
    sender = spawn(
        "sms_load.py",
        "--url", servers[0].url + path,
        "--sign-url", servers[0].url + path,
        "--auth-token", AUTH_TOKEN,
        "--to", OUR_NUMBER,
        "--mode", "open",
        "--rate", str(args.rate),
        "--seconds", str(args.seconds),
        "--prefix", tag,
    )  # fmt: skip
    sends = collect(sender, timeout=args.seconds + 60)["sends"]
    time.sleep(2.0)  # the last deliveries
    (workdir / "stop").write_text("")
    delays: list[float] = []
    missing = 0
    for _, process in listeners:
        result = collect(process, timeout=120)
        for sid, sent_at in sends.items():
            arrived = result["arrivals"].get(sid, [])
            missing += result["connections"] - len(arrived)
            delays.extend((at - sent_at) * 1000 for at in arrived)
    return {
        "streams": streams,
        "events": len(sends),
        "deliveries": len(delays),
        "missing": missing,
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
        "server_rss_mb": rss,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        kind = "postgres" if args.postgres else "sqlite"
        async with fresh_database(kind, args.postgres, Path(tmp)) as url:
            tenant = await seed_sms_tenant(url)
            with ExitStack() as stack:
                one = stack.enter_context(serving(url))
                idle = one.rss_mb()
                print("fan-out: one stream", file=sys.stderr)
                single = deliver([one], tenant.agent_token, tenant.slug, 1, args, "s")
                print(f"fan-out: {args.streams} streams, one process", file=sys.stderr)
                many = deliver([one], tenant.agent_token, tenant.slug, args.streams, args, "m")
            results["one stream"] = single
            results[f"{args.streams} streams, 1 process"] = many
            results["idle_rss_mb"] = idle
            if args.postgres and args.redis:
                with ExitStack() as stack:
                    servers = [
                        stack.enter_context(serving(url, redis_url=args.redis)) for _ in range(2)
                    ]
                    print(f"fan-out: {args.streams} streams, 2 processes", file=sys.stderr)
                    results[f"{args.streams} streams, 2 processes + Redis"] = deliver(
                        servers, tenant.agent_token, tenant.slug, args.streams, args, "r"
                    )
    results["database"] = "PostgreSQL" if args.postgres else "SQLite"
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--postgres", default=os.environ.get("CAREPATH_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-postgres", dest="postgres", action="store_const", const="")
    parser.add_argument(
        "--redis", default=os.environ.get("CAREPATH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--no-redis", dest="redis", action="store_const", const="")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print("| setup | streams | events | deliveries | missing | p50 ms | p99 ms | server RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        if isinstance(row, dict):
            rss = " + ".join(f"{mb:.0f}" for mb in row["server_rss_mb"])
            print(
                f"| {name} | {row['streams']:,} | {row['events']} | {row['deliveries']:,} | "
                f"{row['missing']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {rss} |"
            )
    result = {
        "benchmark": "fanout",
        **run_info(),
        "parameters": {k: v for k, v in vars(args).items() if k not in ("postgres", "redis")},
        "results": results,
    }
    write_result("fanout", result)
    return result


if __name__ == "__main__":
    main()
