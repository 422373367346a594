"""A real HTTP server on 127.0.0.1 that records what it is sent: the other end of a webhook."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class Receiver:
    """Answers each request with the next of `statuses`, then 200 once they are used up.

    `async with Receiver([500, 200]) as receiver:` listens on a free port; `receiver.url`.
    """

    def __init__(self, statuses: Iterable[int] = (), *, reply: bytes = b"ok") -> None:
        self.requests: list[Received] = []
        self.answered: list[int] = []
        self._statuses = list(statuses)
        self._reply = reply
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/carepath"

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def wait_for(self, count: int, within_s: float = 10.0) -> list[Received]:
        """The first `count` requests, waiting at most `within_s` seconds for them."""
        async with asyncio.timeout(within_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests[:count]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            method, path, _version = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self._statuses.pop(0) if self._statuses else 200
            async with self._arrived:
                self.requests.append(Received(method, path, headers, body))
                self.answered.append(status)
                self._arrived.notify_all()
            writer.write(
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                f"Content-Type: text/plain\r\nContent-Length: {len(self._reply)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + self._reply
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
