"""End to end: `vpcaudit scan` as a subprocess against a seeded moto server on 127.0.0.1.

The subprocess has no fidelity layer (that lives in the demo and the tests), so it sees moto's
shapes exactly as a real scan would see an API that omits a field: pending peerings come
without ExpirationTime and must be reported with an unknown expiry, not skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import CliRunner, MotoServer, apply_env, sandbox_env
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.seed import MANAGEMENT_ACCOUNT, REGIONS, Seeded, seed

REGION_ARGS = [arg for r in REGIONS for arg in ("--region", r)]
ORG_SCAN = ["scan", "--org", *REGION_ARGS]


@pytest.fixture(scope="module")
def seeded(moto_server: MotoServer) -> Iterator[Seeded]:
    """The demo organization, seeded once into the module's moto server over HTTP."""
    import os  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, sandbox_env(os.environ, endpoint=moto_server.endpoint))
        yield seed(boto3.Session(), MotoFidelity(), dt.datetime.now(dt.UTC))


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for the snapshots the scans of this module save."""
    return tmp_path_factory.mktemp("snapshots")


def _pairs(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource_id"]) for f in report["findings"]}


def test_scan_finds_exactly_the_seeded_defects(
    seeded: Seeded, moto_server: MotoServer, run_cli: CliRunner, snapshots: Path
) -> None:
    snap = snapshots / "scan.json"
    scan = run_cli(
        *ORG_SCAN, "--format", "json", "--save-snapshot", str(snap), endpoint=moto_server.endpoint
    )
    assert scan.returncode == 1, scan.stderr
    assert "Traceback" not in scan.stderr
    report = json.loads(scan.stdout)

    assert _pairs(report) == seeded.expected
    assert report["scan"]["complete"] is True
    assert report["scan"]["gaps"] == []
    assert report["scan"]["regions"] == sorted(REGIONS)
    assert set(report["scan"]["accounts"]) == set(seeded.accounts.values())
    assert MANAGEMENT_ACCOUNT not in report["scan"]["accounts"]
    unverified = {(u["rule_id"], u["resource_id"]) for u in report["unverified"]}
    assert unverified == seeded.unverifiable

    # Without the fidelity layer moto reports no ExpirationTime: unknown expiry, medium.
    pending = [f for f in report["findings"] if f["rule_id"] == "peering-pending-expiring"]
    assert {f["resource_id"] for f in pending} == {
        seeded.peerings["eu-legacy-hub"],
        seeded.peerings["analytics-spoke-a"],
    }
    for f in pending:
        assert f["severity"] == "medium"
        assert f["evidence"]["expiry_known"] is False
        assert f["evidence"]["expiration_time"] is None
        assert f["evidence"]["hours_left"] is None

    by_pair = {(f["rule_id"], f["resource_id"]): f for f in report["findings"]}
    one_way = by_pair[("peering-route-one-way", seeded.peerings["hub-spoke-b"])]
    assert one_way["account_id"] in seeded.accounts.values()
    assert one_way["region"] == "us-east-1"
    no_logs = by_pair[("vpc-flow-logs-missing", seeded.vpcs["eu-legacy"])]
    assert (no_logs["account_id"], no_logs["region"]) == (seeded.accounts["app-prod"], "eu-west-1")

    # The saved snapshot, evaluated offline with no credentials and no endpoint, gives the
    # same report byte for byte.
    offline = run_cli("evaluate", str(snap), "--format", "json", credentials=False)
    assert offline.returncode == 1, offline.stderr
    assert offline.stdout == scan.stdout


def test_scan_reads_one_call_per_kind_and_region(
    seeded: Seeded, moto_server: MotoServer, run_cli: CliRunner, snapshots: Path
) -> None:
    del seeded
    snap = snapshots / "calls.json"
    scan = run_cli(
        *ORG_SCAN,
        "--format",
        "json",
        "--fail-on",
        "none",
        "--save-snapshot",
        str(snap),
        endpoint=moto_server.endpoint,
    )
    assert scan.returncode == 0, scan.stderr
    stats = json.loads(snap.read_text(encoding="utf-8"))["extra"]["stats"]
    tasks = 3 * len(REGIONS)  # three member accounts, two regions
    calls = stats["calls_by_operation"]
    for op in (
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeManagedPrefixLists",
        "ec2:DescribeVpnGateways",
        "ec2:DescribeTransitGatewayAttachments",
    ):
        assert calls[op] == tasks, op
    assert calls["ec2:DescribeRegions"] == 3
    assert calls["sts:AssumeRole"] == 3


def test_fail_on_none_exits_0_and_table_round_trips(
    seeded: Seeded, moto_server: MotoServer, run_cli: CliRunner, snapshots: Path
) -> None:
    snap = snapshots / "table.json"
    scan = run_cli(
        *ORG_SCAN,
        "--format",
        "table",
        "--fail-on",
        "none",
        "--save-snapshot",
        str(snap),
        endpoint=moto_server.endpoint,
    )
    assert scan.returncode == 0, scan.stderr
    assert "Coverage: complete." in scan.stdout
    for rule_id, resource_id in seeded.expected:
        assert any(rule_id in line and resource_id in line for line in scan.stdout.splitlines())
    offline = run_cli(
        "evaluate", str(snap), "--format", "table", "--fail-on", "none", credentials=False
    )
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == scan.stdout
    # The same snapshot, judged at the default threshold, fails.
    assert run_cli("evaluate", str(snap), credentials=False).returncode == 1


def test_fail_on_high_only_counts_high_findings(
    seeded: Seeded, moto_server: MotoServer, run_cli: CliRunner, snapshots: Path
) -> None:
    del seeded, moto_server
    # Reuses the first test's snapshot when present; otherwise there is nothing to judge.
    snap = snapshots / "scan.json"
    assert snap.exists(), "test_scan_finds_exactly_the_seeded_defects saves this snapshot"
    report = json.loads(run_cli("evaluate", str(snap), "--format", "json").stdout)
    assert {f["severity"] for f in report["findings"]} <= {"medium", "low"}
    assert run_cli("evaluate", str(snap), "--fail-on", "high").returncode == 0
    assert run_cli("evaluate", str(snap), "--fail-on", "medium").returncode == 1
