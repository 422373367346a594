"""A real IMAP server for the tests: Dovecot from Debian's packages, on a loopback port, with a
throwaway configuration, users and mail in a temporary directory."""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

from tests import services
from tests.processes import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
# As root, mail is owned by an unprivileged user: Dovecot refuses mail access as root.
NOBODY = 65534


def need_dovecot() -> None:
    if not os.access(DOVECOT, os.X_OK):
        message = "the dovecot binary is missing; install it with `apt-get install dovecot-imapd`"
        if services.services_required():
            pytest.fail(message)
        pytest.skip(message)


class Dovecot:
    """`with Dovecot() as imap:` runs `dovecot -F`; `imap.add_user(...)`, `imap.append(...)`."""

    def __init__(self) -> None:
        # Not pytest's tmp_path: its 0700 parents would lock out Dovecot's unprivileged processes.
        self.root = Path(tempfile.mkdtemp(prefix="carepath-dovecot-"))
        self.root.chmod(0o755)
        self.port = 0
        self.passwords: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def __enter__(self) -> Dovecot:
        (self.root / "mail").mkdir()
        (self.root / "users").write_text("")
        if os.geteuid() == 0:
            os.chown(self.root / "mail", NOBODY, NOBODY)
        self.port = free_port()
        self.config.write_text(self._config())
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_until_listening()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, user: str, password: str) -> None:
        """Dovecot rereads the passwd-file when it changes: no restart needed."""
        self.passwords[user] = password
        uid, gid = (NOBODY, NOBODY) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        lines = [
            f"{name}:{{PLAIN}}{secret}:{uid}:{gid}::{self.root / 'mail' / name}::"
            for name, secret in self.passwords.items()
        ]
        (self.root / "users").write_text("\n".join(lines) + "\n")

    def append(self, user: str, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver mail the way a client files it: IMAP APPEND."""
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            conn.login(user, self.passwords[user])
            status, data = conn.append(mailbox, None, None, raw)
            assert status == "OK", data
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()

    def set_uidvalidity(self, user: str, value: int, mailbox: str = "INBOX") -> None:
        """What happens when a mailbox is rebuilt: every UID is renumbered under a new validity."""
        subprocess.run(
            [
                DOVEADM,
                "-c",
                str(self.config),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(value),
                mailbox,
            ],
            check=True,
            capture_output=True,
            timeout=10,
        )

    def _config(self) -> str:
        root = self.root
        lines = [
            "protocols = imap",
            "listen = 127.0.0.1",
            f"base_dir = {root / 'run'}",
            f"state_dir = {root / 'state'}",
            f"instance_name = carepath-test-{root.name}",
            f"log_path = {root / 'dovecot.log'}",
            "ssl = no",
            "disable_plaintext_auth = no",  # loopback only, throwaway users
            "auth_mechanisms = plain login",
            # A wrong-password test need not wait: no failure delay, no penalty for loopback.
            "auth_failure_delay = 0",
            "login_trusted_networks = 127.0.0.0/8",
            "mail_location = maildir:~/Maildir",
            "first_valid_uid = 1",
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN username_format=%u {root / 'users'}",
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = username_format=%u {root / 'users'}",
            "}",
            "service imap-login {",
            "  chroot =",
            "  inet_listener imap {",
            "    address = 127.0.0.1",
            f"    port = {self.port}",
            "  }",
            "  inet_listener imaps {",
            "    port = 0",
            "  }",
            "}",
            "service anvil {",
            "  chroot =",
            "}",
        ]
        if os.geteuid() != 0:
            # Unprivileged: every Dovecot process runs as the user running the tests.
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            lines += [
                f"default_internal_user = {user}",
                f"default_internal_group = {group}",
                f"default_login_user = {user}",
            ]
        return "\n".join(lines) + "\n"

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                errors = self._process.stderr.read().decode() if self._process.stderr else ""
                log = root_log(self.root)
                raise AssertionError(
                    f"dovecot exited with {self._process.returncode}: {errors}{log}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5) as conn,
            ):
                if conn.recv(64).startswith(b"* OK"):
                    return
            time.sleep(0.05)
        raise AssertionError(f"dovecot did not listen on {self.port} within 15 s")


def root_log(root: Path) -> str:
    log = root / "dovecot.log"
    return log.read_text()[-2000:] if log.exists() else ""
