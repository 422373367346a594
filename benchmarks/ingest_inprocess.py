"""The ingest path's CPU per message, in one process: the signed SMS webhooks of
`benchmarks/ingest.py` sent through the app itself (httpx's ASGI transport, no server, no
sockets to a client), at a fixed number in flight. For profiling and for before/after pairs on
a shared machine, where this process's CPU time moves less than another process's throughput.

    .venv/bin/python benchmarks/ingest_inprocess.py [--db sqlite|postgres] [--messages 600]
        [--senders 350 --concurrency 16 --reps 3] [--profile FILE]

Prints, per repetition, the CPU time of the process (its database threads included) per
message, messages per second and SQL statements per message. With --profile the last
repetition runs under cProfile (written to FILE) and the Python function calls per message are
printed too: a count that, unlike time, the machine's load does not change.
Its own httpx client is in the figures. docs/performance.md, fifth round.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from bench_server import (
    AUTH_TOKEN,
    DEFAULT_POSTGRES,
    OUR_NUMBER,
    SECRET,
    fresh_database,
    seed_sms_tenant,
)
from sms_load import ACCOUNT_SID, TEXTS
from sqlalchemy import event
from twilio.request_validator import RequestValidator

from carepath.settings import Settings
from carepath.web.app import create_app

PUBLIC_URL = "http://bench"
Request = tuple[bytes, dict[str, str]]


def signed(path: str, prefix: str, count: int, senders: int) -> list[Request]:
    validator = RequestValidator(AUTH_TOKEN)
    made = []
    for n in range(count):
        form = {
            "MessageSid": f"SM{prefix}{n:08d}",
            "AccountSid": ACCOUNT_SID,
            "From": f"+1650555{n % senders:04d}",
            "To": OUR_NUMBER,
            "Body": TEXTS[n % len(TEXTS)],
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(PUBLIC_URL + path, form),
        }
        made.append((urlencode(form).encode(), headers))
    return made


async def send_all(http: httpx.AsyncClient, path: str, items: list[Request], flight: int) -> None:
    queue = iter(items)

    async def sender() -> None:
        for body, headers in queue:
            response = await http.post(path, content=body, headers=headers)
            if response.status_code != 200:
                raise AssertionError(f"{response.status_code}: {response.text}")

    await asyncio.gather(*(sender() for _ in range(flight)))


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with fresh_database(args.db, args.postgres, Path(tmp)) as url:
            tenant = await seed_sms_tenant(url)
            settings = Settings(
                database_url=url,
                secret_key=SECRET,
                data_dir=Path(tmp),
                public_url=PUBLIC_URL,
                log_level="WARNING",
                run_worker=False,
            )
            app = create_app(settings)
            path = f"/webhooks/twilio/{tenant.slug}/sms"
            async with app.router.lifespan_context(app):
                statements = [0]

                def count(*_args: Any) -> None:
                    statements[0] += 1

                engine = app.state.carepath.db.engine.sync_engine
                event.listen(engine, "before_cursor_execute", count)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
                    warm = signed(path, "warm", 200, args.senders)
                    await send_all(http, path, warm, args.concurrency)
                    for rep in range(args.reps):
                        items = signed(path, f"r{rep}x", args.messages, args.senders)
                        profile = args.profile and rep == args.reps - 1
                        profiler = cProfile.Profile() if profile else None
                        statements[0] = 0
                        cpu, wall = time.process_time(), time.perf_counter()
                        if profiler is not None:
                            profiler.enable()
                        await send_all(http, path, items, args.concurrency)
                        if profiler is not None:
                            profiler.disable()
                        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                        line = (
                            f"{args.db} rep {rep}: {cpu / args.messages * 1000:.2f} ms CPU/msg, "
                            f"{args.messages / wall:.0f} msgs/s, "
                            f"{statements[0] / args.messages:.1f} statements/msg"
                        )
                        if profiler is not None:
                            profiler.dump_stats(args.profile)
                            calls = pstats.Stats(str(args.profile)).total_calls
                            line += f", {calls / args.messages:.0f} Python calls/msg (profiled)"
                        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--messages", type=int, default=600, help="per repetition")
    parser.add_argument("--senders", type=int, default=350, help="distinct customers")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="cProfile the last repetition into this")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
