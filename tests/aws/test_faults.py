"""Fault injection: an org scan against moto behind the fault-injecting test server.

The server (vpcaudit.demo.server) answers chosen requests with real AWS error documents:
throttling on a share of calls, a refused region, a refused role, a closed region, one refused
operation. Each test runs `vpcaudit scan --org` through `cli.main` and checks that retries
recover everything, that every refusal becomes the right coverage gap, that everything else is
still reported, and that nothing unread is reported as clean. Nothing here talks to anything
but 127.0.0.1.
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
import botocore.retries.bucket
import botocore.retries.standard
import pytest
import structlog

from tests.servers import REGION_OPS, MotoServer, apply_env, sandbox_env
from vpcaudit.cli import main
from vpcaudit.defaults import DEFAULT_ORG_ROLE
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.seed import Seeded, seed
from vpcaudit.demo.server import Fault, FaultyAws, serve

REGIONS = ("us-east-1", "eu-west-1")
REGION_ARGS = ("--region", REGIONS[0], "--region", REGIONS[1])
EC2_OPS = tuple(op for op in REGION_OPS if op.startswith("ec2:"))


def _env(endpoint: str) -> dict[str, str]:
    """The sandbox environment (tests.servers) pointed at endpoint, with this module's keys."""
    return {
        **sandbox_env(os.environ, endpoint=endpoint),
        "AWS_ACCESS_KEY_ID": "AKIAFAULTTESTKEY0001",
        "AWS_SECRET_ACCESS_KEY": "fault-test-secret-not-real",
    }


def _reset_moto(endpoint: str) -> None:
    """Empty moto's process-wide state (other modules may have used it)."""
    MotoServer(endpoint).reset()


@dataclass(frozen=True)
class Run:
    """One `vpcaudit scan --org` run: exit code, report, snapshot, what the server saw."""

    code: int
    report: dict[str, Any]
    text: str
    snapshot: dict[str, Any]
    requests: dict[str, int]
    failed: dict[str, int]

    @property
    def pairs(self) -> set[tuple[str, str]]:
        return {(f["rule_id"], f["resource_id"]) for f in self.report["findings"]}

    @property
    def gaps(self) -> list[tuple[str, str, str, str]]:
        return sorted(
            (g["account_id"], g["region"], g["operation"], g["error_code"])
            for g in self.report["scan"]["gaps"]
        )


def _scan(
    app: FaultyAws, out: Path, *args: str, faults: tuple[Fault, ...] = (), fmt: str = "json"
) -> Run:
    """Run `vpcaudit scan --org` over both regions with these faults in place."""
    app.reset_counts()
    app.faults[:] = list(faults)
    out.mkdir(parents=True, exist_ok=True)
    report, snapshot = out / f"report.{fmt}", out / "snapshot.json"
    for p in (report, snapshot):
        p.unlink(missing_ok=True)
    argv = ["scan", "--org", *REGION_ARGS, *args, "--format", fmt, "--output", str(report)]
    with contextlib.redirect_stderr(io.StringIO()):
        code = main([*argv, "--save-snapshot", str(snapshot)])
    text = report.read_text()
    return Run(
        code=code,
        report=json.loads(text) if fmt == "json" else {},
        text=text,
        snapshot=json.loads(snapshot.read_text()),
        requests=dict(app.requests),
        failed=dict(app.failed),
    )


@dataclass(frozen=True)
class World:
    """The module's server, the seeded Organization, and a clean scan of it to compare with."""

    endpoint: str
    app: FaultyAws
    seeded: Seeded
    clean: Run

    def id(self, name: str) -> str:
        return self.seeded.accounts[name]

    @property
    def expected(self) -> set[tuple[str, str]]:
        """The seeded defects as `vpcaudit scan` sees them over HTTP: the CLI cannot install
        the demo's client-side fidelity layer, so moto's pending overlapping peering stays
        pending (and is reported as such) instead of failed."""
        return self.seeded.expected_without_fidelity

    def located_in(
        self, account: str, region: str | None = None, *, flow_logs_only: bool = False
    ) -> set[tuple[str, str]]:
        """(rule, resource) of the clean scan's findings located in this account (and region),
        optionally only those of the flow-log rules."""
        return {
            (f["rule_id"], f["resource_id"])
            for f in self.clean.report["findings"]
            if f["account_id"] == account
            and region in (None, f["region"])
            and (not flow_logs_only or "flow-logs" in f["rule_id"])
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Start one server, seed once, and make the clean scan every fault run is compared to."""
    with serve(latency=0.0, faults=[]) as (endpoint, app):
        try:
            with pytest.MonkeyPatch.context() as mp:
                apply_env(mp, _env(endpoint))
                _reset_moto(endpoint)
                seeded = seed(boto3.Session(), MotoFidelity(), dt.datetime.now(dt.UTC))
                clean = _scan(app, tmp_path_factory.mktemp("clean"))
            structlog.reset_defaults()
            assert clean.code == 1
            assert clean.pairs == seeded.expected_without_fidelity
            assert clean.report["scan"]["complete"] is True
            yield World(endpoint, app, seeded, clean)
        finally:
            _reset_moto(endpoint)


@pytest.fixture
def env(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Point this test's environment at the module's server, with no faults and zero counts."""
    apply_env(monkeypatch, _env(world.endpoint))
    world.app.faults.clear()
    world.app.reset_counts()
    yield world
    world.app.faults.clear()
    world.app.reset_counts()
    structlog.reset_defaults()


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink botocore's retry waits, not its retry decisions, so a throttled scan takes seconds.

    Unpatched, the adaptive client-side rate limiter falls to 0.5 requests per second per
    client after a throttle and exponential backoff adds seconds more: the same run takes
    15-30 s. Which calls are retried, how often and with which outcome is unchanged.
    """
    delay = botocore.retries.standard.ExponentialBackoff.delay_amount

    def short_delay(self: Any, context: Any) -> float:
        return float(delay(self, context)) / 50

    class QuickBucket(botocore.retries.bucket.TokenBucket):
        def __init__(self, max_rate: float, clock: Any, min_rate: float = 50.0) -> None:
            super().__init__(max_rate, clock, min_rate)

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", short_delay)
    monkeypatch.setattr(botocore.retries.bucket, "TokenBucket", QuickBucket)


# --- throttling -----------------------------------------------------------------------------


@pytest.mark.usefixtures("quick_retries")
def test_throttling_loses_nothing(env: World, tmp_path: Path) -> None:
    faults = (
        Fault("RequestLimitExceeded", status=503, service="ec2", every=3),
        Fault("Throttling", status=400, service="sts", every=2),
    )
    run = _scan(env.app, tmp_path, faults=faults)
    # The faults really fired, on EC2 and on STS.
    assert sum(n for k, n in run.failed.items() if k.startswith("ec2:")) > 0
    assert sum(n for k, n in run.failed.items() if k.startswith("sts:")) > 0
    assert run.code == 1
    assert run.report["scan"]["complete"] is True
    assert run.report["scan"]["gaps"] == []
    assert run.report["findings"] == env.clean.report["findings"]
    assert run.report["unverified"] == env.clean.report["unverified"]
    assert run.report["summary"] == env.clean.report["summary"]
    # Same logical calls as the clean run; each refused attempt was retried once more.
    stats, clean_stats = run.snapshot["extra"]["stats"], env.clean.snapshot["extra"]["stats"]
    assert stats["calls_by_operation"] == clean_stats["calls_by_operation"]
    assert stats["api_calls"] == clean_stats["api_calls"]
    assert stats["http_attempts"] == clean_stats["api_calls"] + sum(run.failed.values())
    assert sum(run.requests.values()) == stats["http_attempts"]


@pytest.mark.usefixtures("quick_retries")
def test_throttling_that_never_relents_is_a_gap_not_a_loss(env: World, tmp_path: Path) -> None:
    network = env.id("network")
    always = Fault(
        "RequestLimitExceeded",
        status=503,
        service="ec2",
        action="DescribeFlowLogs",
        region="eu-west-1",
        account=network,
    )
    run = _scan(env.app, tmp_path, faults=(always,))
    assert run.code == 3
    assert run.gaps == [(network, "eu-west-1", "ec2:DescribeFlowLogs", "RequestLimitExceeded")]
    # The call was retried until botocore gave up: every attempt but the last was retried.
    attempts = run.failed["ec2:DescribeFlowLogs"]
    assert attempts > 1
    assert run.failed == {"ec2:DescribeFlowLogs": attempts}
    stats = run.snapshot["extra"]["stats"]
    assert stats["http_attempts"] == stats["api_calls"] + attempts - 1
    assert sum(run.requests.values()) == stats["http_attempts"]
    # The flow logs of the VPCs there (eu-app among them) are unknown, so their checks are
    # unverified; every finding is still found.
    there = {
        v["VpcId"]
        for r in env.clean.snapshot["regions"]
        if (r["account_id"], r["region"]) == (network, "eu-west-1")
        for v in r["resources"]["vpcs"]
    }
    assert env.seeded.vpcs["eu-app"] in there
    unverified = [
        u["resource_id"]
        for u in run.report["unverified"]
        if u["rule_id"] == "vpc-flow-logs-missing"
    ]
    assert sorted(unverified) == sorted(there)
    assert run.pairs == env.clean.pairs - env.located_in(network, "eu-west-1", flow_logs_only=True)


# --- a refused region -----------------------------------------------------------------------


def _region_denied(env: World) -> Fault:
    return Fault(
        "UnauthorizedOperation", service="ec2", region="eu-west-1", account=env.id("app-prod")
    )


def test_access_denied_in_one_region_is_a_gap_per_operation(env: World, tmp_path: Path) -> None:
    app_prod = env.id("app-prod")
    run = _scan(env.app, tmp_path, faults=(_region_denied(env),))
    assert run.code == 3
    scan = run.report["scan"]
    assert scan["complete"] is False
    assert run.gaps == sorted(
        (app_prod, "eu-west-1", op, "UnauthorizedOperation") for op in EC2_OPS
    )
    assert all(g["message"] for g in scan["gaps"])
    # The refused region is still listed as in scope, and the account still scanned.
    assert app_prod in scan["accounts"]
    assert sorted(scan["regions"]) == sorted(REGIONS)
    # eu-legacy lives in the region that could not be read: no finding or unverified check is
    # made up about it (its flow logs are unknown); the gaps on DescribeVpcs and
    # DescribeFlowLogs there are what the report says about it.
    eu_legacy = env.seeded.vpcs["eu-legacy"]
    assert ("vpc-flow-logs-missing", eu_legacy) not in run.pairs
    assert all(f["resource_id"] != eu_legacy for f in run.report["findings"])
    assert all(u["resource_id"] != eu_legacy for u in run.report["unverified"])
    assert {g["operation"] for g in scan["gaps"]} >= {"ec2:DescribeVpcs", "ec2:DescribeFlowLogs"}
    # Its lapsing peering request to the hub is still seen, from the hub's (readable) side.
    late = env.seeded.peerings["eu-legacy-hub"]
    [pending] = [f for f in run.report["findings"] if f["resource_id"] == late]
    assert (pending["account_id"], pending["region"]) == (env.id("network"), "us-east-1")
    # Everything else is still found: only what sits in the unread region is missing.
    assert ("vpc-flow-logs-missing", eu_legacy) in env.located_in(app_prod, "eu-west-1")
    assert run.pairs == env.clean.pairs - env.located_in(app_prod, "eu-west-1")
    assert all(
        not (f["account_id"] == app_prod and f["region"] == "eu-west-1")
        for f in run.report["findings"]
    )


def test_allow_partial_turns_exit_3_into_the_findings_exit(env: World, tmp_path: Path) -> None:
    run = _scan(env.app, tmp_path, "--allow-partial", faults=(_region_denied(env),))
    assert run.code == 1
    assert run.report["scan"]["complete"] is False
    assert len(run.report["scan"]["gaps"]) == len(EC2_OPS)


def test_table_of_an_incomplete_scan_lists_the_gaps(env: World, tmp_path: Path) -> None:
    app_prod = env.id("app-prod")
    run = _scan(env.app, tmp_path, faults=(_region_denied(env),), fmt="table")
    assert run.code == 3
    lines = run.text.splitlines()
    [head] = [i for i, line in enumerate(lines) if line.startswith("Coverage: INCOMPLETE")]
    assert f"{len(EC2_OPS)} gap(s)" in lines[head]
    coverage = lines[head:]
    for op in EC2_OPS:
        rows = [
            line
            for line in coverage
            if f"{op} " in line
            and app_prod in line
            and "eu-west-1" in line
            and "UnauthorizedOperation" in line
        ]
        assert len(rows) == 1, (op, run.text)
    assert "Coverage: complete" not in run.text


# --- a refused role -------------------------------------------------------------------------


def test_failed_role_is_one_account_wide_gap(env: World, tmp_path: Path) -> None:
    analytics = env.id("analytics")
    denied = Fault("AccessDenied", action="AssumeRole", role_account=analytics)
    run = _scan(env.app, tmp_path, faults=(denied,))
    assert run.code == 3
    assert run.report["scan"]["complete"] is False
    assert run.gaps == [(analytics, "*", "sts:AssumeRole", "AccessDenied")]
    [gap] = run.report["scan"]["gaps"]
    assert f"arn:aws:iam::{analytics}:role/{DEFAULT_ORG_ROLE}" in gap["message"]
    assert run.failed == {"sts:AssumeRole": 1}
    # Nothing was read in analytics, so nothing is located there ...
    assert all(f["account_id"] != analytics for f in run.report["findings"])
    assert all(u["account_id"] != analytics for u in run.report["unverified"])
    # ... and every finding located in the other accounts is still there.
    assert run.pairs == env.clean.pairs - env.located_in(analytics)
    assert env.located_in(analytics), "the clean scan has findings in analytics to lose"
    assert run.requests["ec2:DescribeRegions"] == 2
    assert all(run.requests[op] == 2 * len(REGIONS) for op in REGION_OPS)


# --- a closed region ------------------------------------------------------------------------


def test_closed_regions_are_one_gap_each_and_no_further_calls(env: World, tmp_path: Path) -> None:
    app_prod, analytics = env.id("app-prod"), env.id("analytics")
    auth = Fault("AuthFailure", status=401, service="ec2", region="eu-west-1", account=app_prod)
    opt_in = Fault(
        "OptInRequired", status=401, service="ec2", region="eu-west-1", account=analytics
    )
    run = _scan(env.app, tmp_path, faults=(auth, opt_in))
    assert run.code == 3
    assert run.report["scan"]["complete"] is False
    assert run.gaps == sorted(
        [
            (app_prod, "eu-west-1", "*", "AuthFailure"),
            (analytics, "eu-west-1", "*", "OptInRequired"),
        ]
    )
    # One refused call per closed region; every other Describe call went to the 4 open ones.
    first = REGION_OPS[0]
    assert first == "ec2:DescribeVpcs"
    assert run.failed == {first: 2}
    assert run.requests[first] == 6
    assert all(run.requests[op] == 4 for op in REGION_OPS[1:])
    # Lost: the findings on resources in the two closed regions, and the address overlap of
    # analytics with analytics-dr, whose VPC is in a closed region and so was never seen.
    # Peerings are not lost: each is seen from its other side (and reported there).
    closed = env.located_in(app_prod, "eu-west-1") | env.located_in(analytics, "eu-west-1")
    lost = {(rule, res) for rule, res in closed if not res.startswith("pcx-")}
    lost.add(("vpc-cidr-overlap", env.seeded.vpcs["analytics"]))
    assert {(rule, res) for rule, res in closed if res.startswith("pcx-")} <= run.pairs
    assert ("vpc-flow-logs-missing", env.seeded.vpcs["eu-legacy"]) in lost
    assert run.pairs == env.clean.pairs - lost


# --- one refused operation ------------------------------------------------------------------


def test_unreadable_flow_logs_make_vpcs_unverified_not_findings(env: World, tmp_path: Path) -> None:
    app_prod = env.id("app-prod")
    denied = Fault(
        "UnauthorizedOperation",
        service="ec2",
        action="DescribeFlowLogs",
        region="us-east-1",
        account=app_prod,
    )
    run = _scan(env.app, tmp_path, faults=(denied,))
    assert run.code == 3
    assert run.gaps == [(app_prod, "us-east-1", "ec2:DescribeFlowLogs", "UnauthorizedOperation")]
    spoke_a, spoke_b = env.seeded.vpcs["spoke-a"], env.seeded.vpcs["spoke-b"]
    unverified = {
        u["resource_id"]: u
        for u in run.report["unverified"]
        if u["rule_id"] == "vpc-flow-logs-missing"
    }
    assert set(unverified) == {spoke_a, spoke_b, env.seeded.vpcs["web"]}
    for u in unverified.values():
        assert (u["account_id"], u["region"]) == (app_prod, "us-east-1")
        assert "could not be read" in u["reason"]
    assert ("vpc-flow-logs-missing", spoke_b) not in run.pairs
    # Only the flow-log checks there are lost; the rest of the region is still judged.
    assert run.pairs == env.clean.pairs - env.located_in(app_prod, "us-east-1", flow_logs_only=True)
    assert ("peering-route-one-way", env.seeded.peerings["hub-spoke-b"]) in run.pairs


# --- one refused per-table operation ----------------------------------------------------------


def test_a_refused_per_table_call_is_a_gap_for_that_operation_only(
    env: World, tmp_path: Path
) -> None:
    network = env.id("network")
    denied = Fault(
        "UnauthorizedOperation",
        service="ec2",
        action="SearchTransitGatewayRoutes",
        region="us-east-1",
        account=network,
    )
    run = _scan(env.app, tmp_path, faults=(denied,))
    assert run.code == 3
    assert run.gaps == [
        (network, "us-east-1", "ec2:SearchTransitGatewayRoutes", "UnauthorizedOperation")
    ]
    [hub] = [
        r
        for r in env.clean.snapshot["regions"]
        if (r["account_id"], r["region"]) == (network, "us-east-1")
    ]
    tables = sorted(t["TransitGatewayRouteTableId"] for t in hub["resources"]["tgw_route_tables"])
    assert len(tables) >= 2, "the demo's hub has TGW route tables"
    # One refused call per table, named in one gap; every other call as in the clean run.
    [gap] = run.report["scan"]["gaps"]
    assert gap["message"].endswith(f"; {len(tables)} of {len(tables)})")
    assert all(t in gap["message"] for t in tables[:5])
    assert run.failed == {"ec2:SearchTransitGatewayRoutes": len(tables)}
    stats, clean_stats = run.snapshot["extra"]["stats"], env.clean.snapshot["extra"]["stats"]
    assert stats["calls_by_operation"] == clean_stats["calls_by_operation"]
    # The tables' associations and propagations were still read, stamped with their table.
    [read] = [
        r
        for r in run.snapshot["regions"]
        if (r["account_id"], r["region"]) == (network, "us-east-1")
    ]
    for kind in ("tgw_associations", "tgw_propagations"):
        assert read["resources"][kind] == hub["resources"][kind], kind
        assert {a["TransitGatewayRouteTableId"] for a in read["resources"][kind]} <= set(tables)
    assert read["resources"]["tgw_routes"] == []
    # Nothing found elsewhere is lost.
    assert run.pairs >= env.clean.pairs - env.located_in(network, "us-east-1")
