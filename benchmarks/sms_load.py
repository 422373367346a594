"""Load generator (its own process): signed Twilio SMS webhooks over httpx, closed loop at a fixed
concurrency or open loop at a fixed rate, for a bounded time. Prints one JSON object.

Requests are signed with the twilio SDK's RequestValidator before the clock starts, so the
client's signing does not count. Open-loop latency is measured from each request's scheduled
time (no coordinated omission: a slow server cannot slow down the arrivals it is timed on).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
TEXTS = (
    "Where is my parcel? It was due yesterday",
    "I want to return the boots, they are too small",
    "My card payment was declined twice",
    "Can I change the delivery address for order 5521?",
    "please refund me, card 4111 1111 1111 1111 was charged twice",
)


def requests(args: argparse.Namespace, count: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """(MessageSid, body, headers) for `count` messages from `args.senders` customers."""
    validator = RequestValidator(args.auth_token)
    made = []
    for n in range(count):
        sid = f"SM{args.prefix}{n:08d}"
        sender = f"+1{args.area}555{n % args.senders:04d}"
        form = [
            ("MessageSid", sid),
            ("AccountSid", ACCOUNT_SID),
            ("From", sender),
            ("To", args.to),
            ("Body", TEXTS[n % len(TEXTS)]),
            ("NumMedia", "0"),
        ]
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(args.sign_url, dict(form)),
        }
        made.append((sid, urlencode(form).encode(), headers))
    return made


async def closed_loop(args: argparse.Namespace, http: httpx.AsyncClient) -> dict[str, object]:
    prepared = requests(args, args.max_requests)
    latencies: list[float] = []
    sends: dict[str, float] = {}
    errors: dict[str, int] = {}
    position = 0
    await _start(args)
    deadline = time.perf_counter() + args.seconds

    async def worker() -> None:
        nonlocal position
        while time.perf_counter() < deadline and position < len(prepared):
            sid, body, headers = prepared[position]
            position += 1
            await _post(
                http, args.url, sid, body, headers, time.perf_counter(), latencies, sends, errors
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return _report(latencies, sends, errors, time.perf_counter() - started)


async def open_loop(args: argparse.Namespace, http: httpx.AsyncClient) -> dict[str, object]:
    count = min(args.max_requests, int(args.rate * args.seconds))
    prepared = requests(args, count)
    latencies: list[float] = []
    sends: dict[str, float] = {}
    errors: dict[str, int] = {}
    in_flight: set[asyncio.Task[None]] = set()
    await _start(args)
    started = time.perf_counter()
    for n, (sid, body, headers) in enumerate(prepared):
        scheduled = started + n / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= args.concurrency:
            errors["client_saturated"] = errors.get("client_saturated", 0) + 1
            continue
        task = asyncio.create_task(
            _post(http, args.url, sid, body, headers, scheduled, latencies, sends, errors)
        )
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight)
    return _report(latencies, sends, errors, time.perf_counter() - started)


async def _post(
    http: httpx.AsyncClient,
    url: str,
    sid: str,
    body: bytes,
    headers: dict[str, str],
    since: float,
    latencies: list[float],
    sends: dict[str, float],
    errors: dict[str, int],
) -> None:
    sends[sid] = time.time()
    try:
        response = await http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        return
    if response.status_code == 200:
        latencies.append((time.perf_counter() - since) * 1000)
    else:
        errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
        sends.pop(sid, None)


async def _start(args: argparse.Namespace) -> None:
    """Several generator processes start together at the wall-clock time they were given."""
    if args.start_at:
        await asyncio.sleep(max(0.0, args.start_at - time.time()))


def _report(
    latencies: list[float], sends: dict[str, float], errors: dict[str, int], elapsed: float
) -> dict[str, object]:
    return {
        "ok": len(latencies),
        "elapsed_s": elapsed,
        "latencies_ms": latencies,
        "errors": errors,
        "sends": sends,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="where to POST")
    parser.add_argument("--sign-url", required=True, help="the URL the signature covers")
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--to", required=True, help="the tenant's number")
    parser.add_argument("--mode", choices=("closed", "open"), default="closed")
    parser.add_argument("--concurrency", type=int, default=16, help="closed: workers; open: cap")
    parser.add_argument("--rate", type=float, default=100.0, help="open loop: requests/s")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--prefix", default="A", help="makes MessageSids unique per run")
    parser.add_argument("--area", default="650", help="area code of the senders")
    parser.add_argument("--senders", type=int, default=500, help="distinct customers")
    parser.add_argument("--start-at", type=float, default=0.0, help="wall-clock start time")
    args = parser.parse_args()
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        run = closed_loop if args.mode == "closed" else open_loop
        print(json.dumps(await run(args, http)))


if __name__ == "__main__":
    asyncio.run(main())
