"""Shared fixtures: an AWS sandbox around every test, a local moto server, a CLI runner."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
import structlog

from tests.servers import LOOPBACK, CliResult, MotoServer, apply_env, run_vpcaudit, sandbox_env
from vpcaudit.demo.fidelity import MotoFidelity, answer_unimplemented
from vpcaudit.demo.seed import Seeded, seed


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, no AWS config files, no metadata service, no inherited AWS_* vars."""
    apply_env(monkeypatch, sandbox_env(os.environ))
    yield
    # cli.main() points structlog at the stream of the test that ran it; undo that so a later
    # test does not log into a closed capture stream.
    structlog.reset_defaults()


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
        # moto lacks DescribeTransitGatewayConnects, which every scan calls: answer it.
        with answer_unimplemented():
            yield moto
    finally:
        # The server shares moto's in-process state with mock_aws: leave it empty.
        moto.reset()
        server.stop()


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """Run `python -m vpcaudit ARGS` in a subprocess (see tests.servers.run_vpcaudit)."""
    return functools.partial(run_vpcaudit, cwd=tmp_path)


@pytest.fixture(scope="module")
def seeded_org(moto_server: MotoServer) -> Iterator[Seeded]:
    """The demo organization seeded once into this module's moto server (over HTTP)."""
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, sandbox_env(os.environ, endpoint=moto_server.endpoint))
        yield seed(boto3.Session(), MotoFidelity(), dt.datetime.now(dt.UTC))
