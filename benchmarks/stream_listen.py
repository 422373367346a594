"""Agent streams (its own process): `--connections` WebSockets on /v1/stream, each recording when
every `message.created` event reached it. Writes `--ready` once all are connected, stops when
`--stop` appears (or after `--seconds`). Prints one JSON object: per external id, the arrival
wall-clock times (one per connection that got it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect


async def listen(ws: ClientConnection, arrivals: dict[str, list[float]], counts: list[int]) -> None:
    async for raw in ws:
        event = json.loads(raw)
        if event.get("type") == "message.created":
            arrivals.setdefault(event["data"]["external_id"], []).append(time.time())
        counts[0] += 1


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="ws://host:port/v1/stream")
    parser.add_argument("--token", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--stop", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"}
    arrivals: dict[str, list[float]] = {}
    counts = [0]
    sockets: list[ClientConnection] = []
    # Connect in small waves: a thousand handshakes at once only measure the accept queue.
    for start in range(0, args.connections, 50):
        wave = [
            connect(
                args.url, additional_headers=headers, proxy=None, open_timeout=30, max_queue=None
            )
            for _ in range(start, min(start + 50, args.connections))
        ]
        opened = await asyncio.gather(*(c.__aenter__() for c in wave))
        for ws in opened:
            ready = json.loads(await ws.recv())
            assert ready["type"] == "stream.ready", ready
        sockets.extend(opened)
    tasks = [asyncio.create_task(listen(ws, arrivals, counts)) for ws in sockets]
    args.ready.write_text(str(len(sockets)))
    deadline = time.monotonic() + args.seconds
    while not args.stop.exists() and time.monotonic() < deadline:  # noqa: ASYNC110 - a file
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    print(json.dumps({"connections": len(sockets), "frames": counts[0], "arrivals": arrivals}))


if __name__ == "__main__":
    asyncio.run(main())
