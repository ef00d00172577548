"""Shared fixtures: an AWS sandbox for every test, a local moto server, and CLI runners.

No test may reach a real AWS endpoint or any address but 127.0.0.1. Every test therefore runs
with fake credentials, no config or credentials files, no instance metadata, and none of the
AWS_* settings of the environment that started pytest (a real AWS_PROFILE, AWS_ENDPOINT_URL,
role or container-credential settings would otherwise leak in).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog

FAKE_ACCESS_KEY = "AKIATESTTESTTESTTEST"
FAKE_SECRET_KEY = "test-secret-key-not-real"
LOOPBACK = "127.0.0.1"

# Proxy settings would route requests for 127.0.0.1 somewhere else.
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def sandbox_env(
    base: Mapping[str, str],
    *,
    endpoint: str | None = None,
    credentials: bool = True,
    region: str = "us-east-1",
) -> dict[str, str]:
    """A copy of `base` with every AWS_* setting replaced by safe, local, fake ones."""
    env = {k: v for k, v in base.items() if not k.startswith("AWS_") and k not in _PROXY_VARS}
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": region,
            "NO_PROXY": "*",
        }
    )
    if credentials:
        env["AWS_ACCESS_KEY_ID"] = FAKE_ACCESS_KEY
        env["AWS_SECRET_ACCESS_KEY"] = FAKE_SECRET_KEY
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def apply_env(mp: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """Make os.environ equal to `env` for the life of the monkeypatch."""
    for key in list(os.environ):
        if key not in env:
            mp.delenv(key)
    for key, value in env.items():
        mp.setenv(key, value)


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, no AWS config files, no metadata service, no inherited AWS_* vars."""
    apply_env(monkeypatch, sandbox_env(os.environ))
    yield
    # cli.main() points structlog at the stream of the test that ran it; undo that so a later
    # test does not log into a closed capture stream.
    structlog.reset_defaults()


@dataclass(frozen=True)
class MotoServer:
    """A moto server listening on 127.0.0.1."""

    endpoint: str

    def reset(self) -> None:
        """Drop every resource (moto's state is shared by the whole process)."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local http only
            assert resp.status == 200


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """One moto server per test module, on a free port of 127.0.0.1, starting empty."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy, only where used

    server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == LOOPBACK
    moto = MotoServer(f"http://{LOOPBACK}:{port}")
    moto.reset()
    try:
        yield moto
    finally:
        # The server shares moto's in-process state with mock_aws: leave it empty.
        moto.reset()
        server.stop()


@dataclass(frozen=True)
class CliResult:
    """What a `python -m vpcaudit` subprocess did."""

    returncode: int
    stdout: str
    stderr: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def run_cli(tmp_path: Path) -> CliRunner:
    """Run `python -m vpcaudit ARGS` in a subprocess with a sandboxed environment."""

    def run(
        *args: str,
        endpoint: str | None = None,
        credentials: bool = True,
        env_extra: Mapping[str, str] | None = None,
    ) -> CliResult:
        env = sandbox_env(os.environ, endpoint=endpoint, credentials=credentials)
        env.update(env_extra or {})
        proc = subprocess.run(
            [sys.executable, "-m", "vpcaudit", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run
