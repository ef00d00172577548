"""Test helpers: a sandboxed AWS environment, a moto server handle, and a CLI subprocess runner.

No test may reach a real AWS endpoint or any address but 127.0.0.1: every environment built
here has fake credentials, no config or credentials files, no instance metadata, no proxy, and
none of the AWS_* settings of the environment that started pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from vpcaudit.aws.collect import SPECS

FAKE_ACCESS_KEY = "AKIATESTTESTTESTTEST"
FAKE_SECRET_KEY = "test-secret-key-not-real"
LOOPBACK = "127.0.0.1"

# Proxy settings would route requests for 127.0.0.1 somewhere else.
_PROXY_VARS = frozenset(
    {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
)


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
            # One terminal width for every run (a developer's terminal, a CI log file, an xdist
            # worker's pipe would each give another): tests of narrow layouts set their own.
            "COLUMNS": "200",
        }
    )
    if credentials:
        env["AWS_ACCESS_KEY_ID"] = FAKE_ACCESS_KEY
        env["AWS_SECRET_ACCESS_KEY"] = FAKE_SECRET_KEY
    if endpoint is not None:
        assert endpoint.startswith(f"http://{LOOPBACK}:"), endpoint
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def apply_env(mp: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """Make os.environ equal to `env` for the life of the monkeypatch."""
    for key in list(os.environ):
        if key not in env:
            mp.delenv(key)
    for key, value in env.items():
        mp.setenv(key, value)


@dataclass(frozen=True)
class MotoServer:
    """A moto server listening on 127.0.0.1."""

    endpoint: str

    def reset(self) -> None:
        """Drop every resource (moto's state is shared by the whole process)."""
        url = f"{self.endpoint}/moto-api/reset"
        assert url.startswith(f"http://{LOOPBACK}:")
        req = urllib.request.Request(url, method="POST")  # noqa: S310 - checked: loopback http
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - same
            assert resp.status == 200


@dataclass(frozen=True)
class CliResult:
    """What a `python -m vpcaudit` subprocess did."""

    returncode: int
    stdout: str
    stderr: str


def run_vpcaudit(
    *args: str,
    cwd: Path,
    endpoint: str | None = None,
    credentials: bool = True,
    env_extra: Mapping[str, str] | None = None,
) -> CliResult:
    """Run `python -m vpcaudit ARGS` in a subprocess with a sandboxed environment."""
    env = sandbox_env(os.environ, endpoint=endpoint, credentials=credentials)
    env.update(env_extra or {})
    proc = subprocess.run(
        [sys.executable, "-m", "vpcaudit", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def make_bucket(server: MotoServer, name: str) -> None:
    """Create an S3 bucket in the moto server (idempotent)."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=server.endpoint)
    if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=name)


# The nine kinds the rules were built on; collect may read more (see SPECS).
CORE_OPS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeManagedPrefixLists",
    "ec2:DescribeVpnGateways",
    "ec2:DescribeTransitGatewayAttachments",
)
# service:Operation of every kind collect reads in every region, in the order it reads them
# (kinds read only when an earlier result calls for them, e.g. log groups, are left out).
REGION_OPS = tuple(f"{s.service}:{s.operation}" for s in SPECS if s.needed is None)
