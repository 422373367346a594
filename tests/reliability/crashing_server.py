"""A `carepath serve` subprocess (with its SMTP listener and outbox worker) that a test kills
with SIGKILL and starts again on the same ports, as a crashed host's supervisor would."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import httpx

from tests.processes import CAREPATH, free_port

READY_WITHIN_S = 30.0


class CrashingServer:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.smtp_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "CAREPATH_PUBLIC_URL": self.base_url}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.kills = 0
        self.restart_s: list[float] = []

    def start(self) -> None:
        started = time.monotonic()
        self._log_file = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                *CAREPATH,
                "serve",
                "--port",
                str(self.port),
                "--smtp-port",
                str(self.smtp_port),
            ],
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = started + READY_WITHIN_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.proc.returncode}: {self.log.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    self.restart_s.append(time.monotonic() - started)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(
            f"server not ready in {READY_WITHIN_S}s: {self.log.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, leases stay taken, requests in flight are cut."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.kills += 1
        self._close_log()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
