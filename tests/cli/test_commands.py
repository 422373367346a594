"""The operator's commands, run as an operator would: in a real process, on a real database."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import CAREPATH, carepath, free_port, running_server


def test_version() -> None:
    from carepath import __version__

    result = subprocess.run([*CAREPATH, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"carepath {__version__}"


def test_an_operator_sets_up_a_tenant_user_and_token(env: dict[str, str]) -> None:
    migrated = carepath(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "→ 0001" in migrated.stdout or "→" in migrated.stdout

    created = carepath(env, "tenant", "create", "acme", "--name", "Acme Ltd")
    assert created.returncode == 0, created.stderr
    assert "created tenant acme" in created.stdout

    again = carepath(env, "tenant", "create", "acme", "--name", "Acme Ltd")
    assert again.returncode == 1
    assert "already exists" in again.stderr

    user = carepath(
        {**env, "CAREPATH_NEW_USER_PASSWORD": "a long enough password"},
        "user", "create", "--tenant", "acme", "--email", "Ann@Example.com", "--name", "Ann",
        "--role", "supervisor",
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    assert "created supervisor ann@example.com" in user.stdout

    token = carepath(env, "token", "create", "--tenant", "acme", "--name", "crm", "--role", "admin")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("tok_")

    listed = carepath(env, "tenant", "list")
    assert "acme" in listed.stdout

    with running_server(env) as base:
        me = httpx.get(f"{base}/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["role"] == "admin"


def test_unknown_tenant_is_reported_with_what_to_do(env: dict[str, str]) -> None:
    carepath(env, "migrate")
    result = carepath(env, "token", "create", "--tenant", "nope", "--name", "x", "--role", "agent")
    assert result.returncode == 1
    assert "no tenant 'nope'" in result.stderr
    assert "carepath tenant list" in result.stderr


def test_serve_starts_and_is_ready(env: dict[str, str]) -> None:
    assert carepath(env, "migrate").returncode == 0
    with running_server(env, "--log-json") as base:
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ok"


def test_serve_refuses_an_unmigrated_database_and_says_what_to_do(env: dict[str, str]) -> None:
    result = carepath(env, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "run `carepath migrate` first" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody@127.0.0.1:1/nothing",  # nothing listens on port 1
        "mysql://someone@127.0.0.1/db",
        "::not a url::",
    ],
)
def test_serve_fails_fast_on_a_bad_database_url_naming_the_setting(
    env: dict[str, str], url: str
) -> None:
    started = time.monotonic()
    result = carepath({**env, "CAREPATH_DATABASE_URL": url}, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "CAREPATH_DATABASE_URL" in result.stderr
    assert time.monotonic() - started < 20


def test_serve_refuses_to_start_without_a_secret_key(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "CAREPATH_SECRET_KEY"}
    result = carepath(env, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "CAREPATH_SECRET_KEY is not set" in result.stderr


def test_serve_with_two_workers_answers(env: dict[str, str]) -> None:
    assert carepath(env, "migrate").returncode == 0
    with running_server(env, "--workers", "2") as base:
        assert all(httpx.get(f"{base}/healthz").status_code == 200 for _ in range(10))


def test_demo_starts_prints_its_urls_and_they_answer(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    proc = subprocess.Popen(
        [
            *CAREPATH,
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "demo"),
            "--no-traffic",
            "--customers",
            "5",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 90  # seeding replays history; tests/cli/test_demo.py
        while time.monotonic() < deadline and not any("Ctrl-C" in line for line in printed):
            printed.append(proc.stdout.readline())
        urls = [word for line in printed for word in line.split() if word.startswith("http://")]
        assert f"http://127.0.0.1:{port}/docs" in urls
        for url in urls:
            for _ in range(100):
                try:
                    response = httpx.get(url, timeout=5, follow_redirects=True)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert response.status_code == 200, url
        login = httpx.post(
            f"http://127.0.0.1:{port}/v1/auth/login",
            json={
                "tenant": "demo",
                "email": "admin@acme-outfitters.example.com",
                "password": "demo-password",
            },
        )
        assert login.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()
