"""The real `carepath` command in a subprocess, for tests that run it as an operator would."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from typing import IO

import httpx

CAREPATH = [sys.executable, "-m", "carepath.cli"]


def carepath(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one carepath command as an operator would, in its own process."""
    return subprocess.run(
        [*CAREPATH, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class running_server:  # noqa: N801 - reads as a statement: `with running_server(env) as url`
    """Its output goes to a temporary file, `output()`: a pipe that nobody reads fills up and
    stalls a chatty server mid-request."""

    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.env = env
        self.port = free_port()
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.log: IO[str] | None = None

    def output(self) -> str:
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def __enter__(self) -> str:
        self.log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        self.proc = subprocess.Popen(
            [*CAREPATH, "serve", "--port", str(self.port), *self.extra],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.output()
                self.log.close()
                raise AssertionError(f"server exited with {self.proc.returncode}: {output}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.proc.terminate()
        self.proc.wait(timeout=15)
        output = self.output()
        self.log.close()
        raise AssertionError(f"server did not become ready in 30 s: {output[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        finally:
            if self.log is not None:
                self.log.close()
