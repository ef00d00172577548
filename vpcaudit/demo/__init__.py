"""The embedded demo organization: moto in-process, seeded, then scanned by the real path."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import replace

import boto3

from vpcaudit.aws.collect import Progress
from vpcaudit.demo.fidelity import MotoFidelity, answer_unimplemented
from vpcaudit.demo.seed import ORG_ROLE, REGIONS, Seeded, seed
from vpcaudit.errors import ConfigError
from vpcaudit.scan import ScanOptions, run_scan
from vpcaudit.snapshot import Snapshot

# moto never sends these anywhere; they only satisfy botocore's signer.
_DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIADEMODEMODEMODEMO",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-not-a-real-key",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto would load its catalogue of thousands of public AMIs into each of the demo's eight
    # (account, region) backends, a second and a half of every demo run; the demo's instances
    # name an AMI id only, and the scanner reads no image.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
# Settings that would point the demo at a real account or endpoint.
_CLEARED = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@contextlib.contextmanager
def demo_environment() -> Iterator[None]:
    """Fake credentials and no profile or endpoint, restored afterwards."""
    saved = {k: os.environ.get(k) for k in (*_DEMO_ENV, *_CLEARED)}
    os.environ.update(_DEMO_ENV)
    for k in _CLEARED:
        os.environ.pop(k, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def seeded_demo() -> Iterator[tuple[Seeded, MotoFidelity]]:
    """moto in-process with the demo organization seeded, for as long as the block runs:
    what the seeding created, and the fidelity layer to install on the sessions that read it."""
    try:
        from moto import mock_aws  # noqa: PLC0415 - an optional dependency, demo only
    except ImportError:
        raise ConfigError("the demo needs moto: pip install 'vpcaudit[demo]'") from None

    with demo_environment(), mock_aws(), answer_unimplemented():
        fidelity = MotoFidelity()
        yield seed(boto3.Session(), fidelity, dt.datetime.now(dt.UTC)), fidelity


def demo_options(opts: ScanOptions, fidelity: MotoFidelity) -> ScanOptions:
    """The options of a scan of the seeded demo organization (all of it, through the layer)."""
    return replace(
        opts,
        org=True,
        org_role_name=ORG_ROLE,
        regions=opts.regions or REGIONS,
        session_hook=fidelity.install,
        extra={**opts.extra, "demo": True},
    )


def run_demo_scan(opts: ScanOptions, progress: Progress | None = None) -> Snapshot:
    """Start moto in-process, seed the demo organization, and scan it with the real scanner."""
    with seeded_demo() as (_, fidelity):
        return run_scan(demo_options(opts, fidelity), progress)
