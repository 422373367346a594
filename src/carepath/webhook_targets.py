"""Where outgoing webhooks may go: http(s) to public internet addresses only, so that an admin's
endpoint URL cannot make carepath call its own network (SSRF: cloud metadata, databases, admin
ports on loopback).

Checked when an endpoint is registered, and again at each delivery, where the host is resolved
once, every address it resolves to must be public, and the request is sent to that vetted
address (the Host header and TLS name stay the registered host). Resolving again at connect time
would let a DNS answer change between the check and the call (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from carepath.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = frozenset({"http", "https"})


class TargetRefused(InvalidInput):
    """The URL is not an allowed webhook target (scheme, or a non-public address)."""

    code = "webhook_target_refused"


class TargetUnresolved(Exception):
    """The host does not resolve right now (DNS may be back later)."""


def is_public(address: IPAddress) -> bool:
    """Routable on the internet: not loopback, private, link-local, multicast, reserved, shared
    (carrier NAT), unspecified or documentation space; IPv4 inside IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast and not address.is_reserved


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse_target(url: str) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TargetRefused("a webhook URL must be http:// or https://", field="url")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("the webhook URL has an invalid port", field="url") from exc
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise TargetRefused("the webhook URL has no host", field="url")
    return Target(scheme, host, port)


def _refuse(host: str, address: IPAddress | None = None) -> TargetRefused:
    shown = f"{host} ({address})" if address is not None and str(address) != host else host
    return TargetRefused(
        f"webhooks may only be sent to public internet addresses; {shown} is not one",
        field="url",
        host=host,
    )


async def resolve(target: Target) -> list[IPAddress]:
    literal = _literal(target.host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolved(f"{target.host} does not resolve: {exc}") from exc
    found: list[IPAddress] = []
    for info in infos:
        # The scope of a link-local IPv6 answer ("fe80::1%eth0") is not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


async def check_at_registration(url: str, *, allow_private: bool) -> None:
    """Refuse what can already be told to be private. A name that does not resolve yet is let
    through: delivery checks again, and refuses it then if it turns out private."""
    target = parse_target(url)
    if allow_private:
        return
    if target.host == "localhost" or target.host.endswith(".localhost"):
        raise _refuse(target.host)
    try:
        addresses = await resolve(target)
    except TargetUnresolved:
        return
    for address in addresses:
        if not is_public(address):
            raise _refuse(target.host, address)


@dataclass(frozen=True)
class PinnedTarget:
    """Where to connect: `url` names the vetted address; `host_header` and `sni` keep the
    registered name for the receiver's virtual host and certificate check."""

    url: str
    host_header: str | None
    sni: str | None


async def pin(url: str, *, allow_private: bool) -> PinnedTarget:
    """TargetRefused if any address of the host is not public; TargetUnresolved on DNS failure."""
    target = parse_target(url)
    if allow_private:
        return PinnedTarget(url, None, None)
    addresses = await resolve(target)
    for address in addresses:
        if not is_public(address):
            raise _refuse(target.host, address)
    chosen = addresses[0]
    parts = urlsplit(url)
    netloc_host = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    default_port = 443 if target.scheme == "https" else 80
    port = "" if target.port == default_port else f":{target.port}"
    host_header = target.host + port
    userinfo = parts.netloc.rpartition("@")[0]
    userinfo = f"{userinfo}@" if userinfo else ""
    pinned = parts._replace(netloc=userinfo + netloc_host + port).geturl()
    sni = target.host if target.scheme == "https" and _literal(target.host) is None else None
    return PinnedTarget(pinned, host_header, sni)
