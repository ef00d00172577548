"""Organization scale (issue 15): findings identical with and without --processes, with and
without region skipping, and under throttling; a dead worker is gaps, not a lost scan.

One moto server on 127.0.0.1 serves the demo Organization; a third region has every account's
default VPC deleted, so region skipping is exercised over the real HTTP path. Nothing here
talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog

from tests.servers import MotoServer, apply_env, sandbox_env
from vpcaudit.aws import specs as specs_module
from vpcaudit.aws.specs import NO_VPC_NO_TGW, SPECS, Scope
from vpcaudit.cli import main
from vpcaudit.defaults import DEFAULT_ORG_ROLE
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.seed import Seeded, seed
from vpcaudit.demo.server import Fault, FaultyAws, serve

EMPTY_REGION = "ap-southeast-2"
REGIONS = ("us-east-1", "eu-west-1", EMPTY_REGION)
REGION_ARGS = tuple(a for r in REGIONS for a in ("--region", r))
ALWAYS = tuple(s for s in SPECS if s.every_region)
NO_VPC_OPS = {s.op for s in ALWAYS if s.scope is Scope.REGION}


def _env(endpoint: str) -> dict[str, str]:
    return {
        **sandbox_env(os.environ, endpoint=endpoint),
        "AWS_ACCESS_KEY_ID": "AKIASCALETESTKEY0001",
        "AWS_SECRET_ACCESS_KEY": "scale-test-secret-not-real",
    }


@dataclass(frozen=True)
class Run:
    """One `vpcaudit scan --org`: exit code, report, snapshot, what the server saw."""

    code: int
    report: dict[str, Any]
    snapshot: dict[str, Any]
    requests: dict[str, int]

    @property
    def findings(self) -> list[tuple[Any, ...]]:
        keys = ("rule_id", "severity", "account_id", "region", "resource_id", "fingerprint")
        return sorted(tuple(f[k] for k in keys) for f in self.report["findings"])

    @property
    def content(self) -> dict[str, Any]:
        """The snapshot without its timestamps and run statistics."""
        extra = {k: v for k, v in self.snapshot["extra"].items() if k != "stats"}
        skip = {"started_at", "finished_at", "extra"}
        return {**{k: v for k, v in self.snapshot.items() if k not in skip}, "extra": extra}


def _without_orphans(content: dict[str, Any]) -> dict[str, Any]:
    """The content less the network ACLs of VPCs that no longer exist: moto keeps a deleted
    VPC's default ACL (AWS deletes it with the VPC), so asking an empty region for its ACLs
    finds one there that AWS would not."""
    regions = []
    for r in content["regions"]:
        res = r["resources"]
        if "network_acls" in res:
            vpcs = {v["VpcId"] for v in res.get("vpcs", [])}
            acls = [a for a in res["network_acls"] if a.get("VpcId") in vpcs]
            regions.append({**r, "resources": {**res, "network_acls": acls}})
        else:
            regions.append(r)
    return {**content, "regions": regions}


def _scan(app: FaultyAws, out: Path, *args: str, faults: tuple[Fault, ...] = ()) -> Run:
    app.reset_counts()
    app.faults[:] = list(faults)
    out.mkdir(parents=True, exist_ok=True)
    report, snapshot = out / "report.json", out / "snapshot.json"
    argv = ["scan", "--org", *REGION_ARGS, *args, "--format", "json", "--output", str(report)]
    with contextlib.redirect_stderr(io.StringIO()):
        code = main([*argv, "--save-snapshot", str(snapshot)])
    app.faults.clear()
    return Run(
        code, json.loads(report.read_text()), json.loads(snapshot.read_text()), dict(app.requests)
    )


def _delete_default_vpcs(seeded: Seeded, region: str) -> None:
    """Delete the default VPC of every member account in region, as a well-run org does."""
    sts = boto3.client("sts", region_name="us-east-1")
    for account in sorted(set(seeded.accounts.values())):
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{DEFAULT_ORG_ROLE}", RoleSessionName="setup"
        )["Credentials"]
        ec2 = boto3.client(
            "ec2",
            region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        for vpc in ec2.describe_vpcs()["Vpcs"]:
            vid = vpc["VpcId"]
            subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vid]}])
            for s in subnets["Subnets"]:
                ec2.delete_subnet(SubnetId=s["SubnetId"])
            igws = ec2.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [vid]}]
            )["InternetGateways"]
            for igw in igws:
                gid = igw["InternetGatewayId"]
                ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
                ec2.delete_internet_gateway(InternetGatewayId=gid)
            ec2.delete_vpc(VpcId=vid)


@dataclass(frozen=True)
class World:
    endpoint: str
    app: FaultyAws
    seeded: Seeded
    one: Run
    """The reference: --processes 1, region skipping on, no fault."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve(latency=0.0, faults=[]) as (endpoint, app):
        try:
            with pytest.MonkeyPatch.context() as mp:
                apply_env(mp, _env(endpoint))
                MotoServer(endpoint).reset()
                seeded = seed(boto3.Session(), MotoFidelity(), dt.datetime.now(dt.UTC))
                _delete_default_vpcs(seeded, EMPTY_REGION)
                one = _scan(app, tmp_path_factory.mktemp("one"), "--processes", "1")
            structlog.reset_defaults()
            yield World(endpoint, app, seeded, one)
        finally:
            MotoServer(endpoint).reset()


@pytest.fixture
def env(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    apply_env(monkeypatch, _env(world.endpoint))
    yield world
    world.app.faults.clear()
    structlog.reset_defaults()


def test_the_reference_scan_skips_the_empty_region_and_finds_the_seeded_defects(
    env: World,
) -> None:
    run = env.one
    assert run.code == 1
    assert run.report["scan"]["complete"] is True
    assert run.report["scan"]["gaps"] == []
    assert run.findings
    members = sorted(run.snapshot["accounts"])
    # Every account's empty region: read, its VPC-bound kinds recorded as skipped, not a gap.
    skipped = {(k["account_id"], k["region"]): k for k in run.snapshot["extra"]["skipped_kinds"]}
    assert set(skipped) == {(a, EMPTY_REGION) for a in members}
    for note in skipped.values():
        assert note["reason"] == NO_VPC_NO_TGW
        assert set(note["kinds"]) == {s.kind for s in SPECS if s.scope is not Scope.REGION}
    for region in run.snapshot["regions"]:
        if region["region"] == EMPTY_REGION:
            # Read and empty: every kind is there, so nothing downstream calls it unread.
            assert set(region["resources"]) >= {s.kind for s in ALWAYS}
            assert all(not region["resources"][s.kind] for s in ALWAYS if s.kind != "prefix_lists")
    # One call per VPC-independent kind in each empty region, every kind elsewhere.
    ec2 = {op: n for op, n in run.requests.items() if op.startswith("ec2:Describe")}
    n = len(members)
    for spec in ALWAYS:
        expected = 3 * n if spec.scope is Scope.REGION else 2 * n
        assert ec2.get(spec.op, 0) == expected, spec.op


def test_region_skipping_changes_no_finding_and_no_snapshot_content(
    env: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(specs_module.ResourceSpec, "skip_reason", lambda self, res: None)
    every = _scan(env.app, tmp_path, "--processes", "1")
    assert every.code == env.one.code
    assert every.findings == env.one.findings
    assert every.report["scan"]["gaps"] == env.one.report["scan"]["gaps"]
    # The kinds skipped are exactly the kinds AWS answers empty there: the same snapshot,
    # less the note saying why they were not asked for.
    assert "skipped_kinds" not in every.snapshot["extra"]
    reference = dict(env.one.content)
    reference["extra"] = {k: v for k, v in reference["extra"].items() if k != "skipped_kinds"}
    assert _without_orphans(every.content) == _without_orphans(reference)
    saved = sum(every.requests.values()) - sum(env.one.requests.values())
    assert saved == len(env.one.snapshot["accounts"]) * (len(ALWAYS) - len(NO_VPC_OPS))


def test_two_processes_give_the_same_findings_snapshot_gaps_and_exit_code(
    env: World, tmp_path: Path
) -> None:
    two = _scan(env.app, tmp_path, "--processes", "2")
    assert two.code == env.one.code
    assert two.findings == env.one.findings
    assert two.content == env.one.content
    assert two.requests == env.one.requests
    assert (
        two.snapshot["extra"]["stats"]["api_calls"]
        == (env.one.snapshot["extra"]["stats"]["api_calls"])
    )
    assert set(two.snapshot["extra"]["stats"]["peak_rss_mib"]) == {"parent", "worker-0", "worker-1"}


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_third_of_calls_throttled_changes_nothing(
    env: World, tmp_path: Path, processes: str
) -> None:
    throttle = (Fault("RequestLimitExceeded", status=503, service="ec2", every=3),)
    run = _scan(env.app, tmp_path, "--processes", processes, faults=throttle)
    assert run.code == env.one.code
    assert run.findings == env.one.findings
    assert run.content == env.one.content
    stats = run.snapshot["extra"]["stats"]
    assert stats["http_attempts"] > stats["api_calls"]  # the throttling fired and was retried


@pytest.mark.parametrize("processes", ["1", "2"])
def test_refusals_are_the_same_gaps_and_exit_code_in_any_number_of_processes(
    env: World, tmp_path: Path, processes: str
) -> None:
    member = sorted(env.one.snapshot["accounts"])[0]
    refuse = (Fault("UnauthorizedOperation", action="DescribeFlowLogs", account=member),)
    run = _scan(env.app, tmp_path / "strict", "--processes", processes, faults=refuse)
    assert run.code == 3
    gaps = {(g["account_id"], g["region"], g["operation"]) for g in run.report["scan"]["gaps"]}
    assert gaps == {(member, r, "ec2:DescribeFlowLogs") for r in REGIONS[:2]}
