"""Organization-wide scans through the real HTTP path: moto behind the test server on 127.0.0.1.

One server and one seeded demo Organization (network, app-prod, analytics, plus an external
partner account) serve the whole module; each test sets its own sandboxed environment, runs
`vpcaudit scan` through `cli.main` (or `run_scan`) and checks the report, the snapshot and what
the server saw. Nothing here talks to anything but 127.0.0.1.
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

from tests.servers import CORE_OPS, REGION_OPS, MotoServer, apply_env, sandbox_env
from vpcaudit.aws.collect import SPECS, PreparedAccount, RegionResult
from vpcaudit.cli import main
from vpcaudit.defaults import DEFAULT_ORG_ROLE
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.intents import with_demo_intents
from vpcaudit.demo.seed import MANAGEMENT_ACCOUNT, PARTNER_ACCOUNT, Seeded, seed
from vpcaudit.demo.server import Fault, FaultyAws, serve
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.policy import load_policy
from vpcaudit.rules.registry import load_rules
from vpcaudit.scan import ScanOptions, run_scan

REGIONS = ("us-east-1", "eu-west-1")
REGION_ARGS = ("--region", REGIONS[0], "--region", REGIONS[1])
ACCESS_KEY = "AKIAORGSCANTESTKEY01"
SECRET_KEY = "org-scan-secret-key-must-never-be-logged"
SESSION_TOKEN = "org-scan-session-token-must-never-be-logged"
DEFAULT_ROLE = DEFAULT_ORG_ROLE  # what --org assumes unless told otherwise


def _env(endpoint: str) -> dict[str, str]:
    """The sandbox environment (tests.servers) pointed at endpoint, with this module's keys."""
    return {
        **sandbox_env(os.environ, endpoint=endpoint),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    }


def _reset_moto(endpoint: str) -> None:
    """Empty moto's process-wide state (other modules may have used it)."""
    MotoServer(endpoint).reset()


def _assumed_roles() -> list[Any]:
    """Every role session moto's STS has handed out so far (with its secrets)."""
    from moto.sts.models import sts_backends  # noqa: PLC0415 - moto is a demo extra

    return [
        role
        for per_account in list(sts_backends.values())
        for backend in list(per_account.values())
        for role in backend.assumed_roles
    ]


@dataclass(frozen=True)
class Run:
    """One `vpcaudit scan` run: exit code, JSON report, stderr, what the server saw."""

    code: int
    report: dict[str, Any]
    stderr: str
    requests: dict[str, int]
    failed: dict[str, int]
    snapshot: dict[str, Any]
    new_roles: list[Any]

    @property
    def pairs(self) -> set[tuple[str, str]]:
        return {(f["rule_id"], f["resource_id"]) for f in self.report["findings"]}

    @property
    def unverified(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(u["rule_id"], u["resource_id"]): u for u in self.report["unverified"]}


def _scan(app: FaultyAws, out: Path, *args: str, faults: tuple[Fault, ...] = ()) -> Run:
    """Run `vpcaudit scan ARGS --format json` with the given faults; stderr captured."""
    app.reset_counts()
    app.faults[:] = list(faults)
    out.mkdir(parents=True, exist_ok=True)
    report, snapshot = out / "report.json", out / "snapshot.json"
    for p in (report, snapshot):
        p.unlink(missing_ok=True)
    before = {r.access_key_id for r in _assumed_roles()}
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            [
                "scan",
                *REGION_ARGS,
                *args,
                "--format",
                "json",
                "--output",
                str(report),
                "--save-snapshot",
                str(snapshot),
            ]
        )
    return Run(
        code=code,
        report=json.loads(report.read_text()) if report.exists() else {},
        stderr=err.getvalue(),
        requests=dict(app.requests),
        failed=dict(app.failed),
        snapshot=json.loads(snapshot.read_text()) if snapshot.exists() else {},
        new_roles=[r for r in _assumed_roles() if r.access_key_id not in before],
    )


@dataclass(frozen=True)
class Org:
    """The module's server, the seeded Organization, and one clean `scan --org` of it."""

    endpoint: str
    app: FaultyAws
    seeded: Seeded
    fidelity: MotoFidelity
    clean: Run

    def id(self, name: str) -> str:
        return self.seeded.accounts[name]

    @property
    def expected(self) -> set[tuple[str, str]]:
        """The seeded defects as `vpcaudit scan` sees them over HTTP: the CLI cannot install
        the demo's client-side fidelity layer, so moto's pending overlapping peering stays
        pending (and is reported as such) instead of failed."""
        return self.seeded.expected_without_fidelity

    @property
    def members(self) -> list[str]:
        return sorted(self.seeded.accounts.values())


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """Start one server, seed once, and run the clean org scan the module checks."""
    with serve(latency=0.0, faults=[]) as (endpoint, app):
        try:
            with pytest.MonkeyPatch.context() as mp:
                apply_env(mp, _env(endpoint))
                _reset_moto(endpoint)
                fidelity = MotoFidelity()
                seeded = seed(boto3.Session(), fidelity, dt.datetime.now(dt.UTC))
                clean = _scan(
                    app,
                    tmp_path_factory.mktemp("clean"),
                    "--org",
                    "--log-format",
                    "json",
                    "--log-level",
                    "info",
                )
            structlog.reset_defaults()
            yield Org(endpoint, app, seeded, fidelity, clean)
        finally:
            _reset_moto(endpoint)


@pytest.fixture
def env(org: Org, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    """Point this test's environment at the module's server, with no faults and zero counts."""
    apply_env(monkeypatch, _env(org.endpoint))
    org.app.faults.clear()
    org.app.reset_counts()
    yield org
    org.app.faults.clear()
    org.app.reset_counts()
    structlog.reset_defaults()


# --- the clean org scan ---------------------------------------------------------------------


def test_org_scan_finds_exactly_the_seeded_defects(env: Org) -> None:
    run = env.clean
    assert run.code == 1
    assert run.report["scan"]["complete"] is True
    assert run.report["scan"]["gaps"] == []
    assert sorted(run.report["scan"]["regions"]) == sorted(REGIONS)
    assert run.pairs == env.expected
    assert len(run.report["findings"]) == len(env.expected)


def test_cross_account_one_way_peering_is_found_and_two_way_is_not(env: Org) -> None:
    run = env.clean
    one_way = env.seeded.peerings["hub-spoke-b"]
    two_way = env.seeded.peerings["hub-spoke-a"]
    [finding] = [
        f
        for f in run.report["findings"]
        if f["rule_id"] == "peering-route-one-way" and f["resource_id"] == one_way
    ]
    # The side that lacks the route is spoke-b in app-prod; the hub (network) routes to it.
    assert finding["account_id"] == env.id("app-prod")
    assert env.seeded.vpcs["spoke-b"] in finding["message"]
    assert env.seeded.vpcs["hub"] in finding["message"]
    assert env.id("network") in finding["message"]
    one_way_checks = {
        f["resource_id"] for f in run.report["findings"] if f["rule_id"] == finding["rule_id"]
    } | {u["resource_id"] for u in run.report["unverified"] if u["rule_id"] == finding["rule_id"]}
    assert two_way not in one_way_checks, "routed on both sides: neither a finding nor unverified"


def test_partner_peering_is_unverified_as_outside_the_organization(env: Org) -> None:
    run = env.clean
    partner = env.seeded.peerings["hub-partner"]
    assert ("peering-route-one-way", partner) not in run.pairs
    entry = run.unverified[("peering-route-one-way", partner)]
    assert "outside the Organization" in entry["reason"]
    assert PARTNER_ACCOUNT in entry["reason"]
    assert entry["account_id"] == env.id("network")
    assert set(run.unverified) == env.seeded.unverifiable
    assert run.report["summary"]["unverified"] == 1


def test_org_scan_covers_the_members_through_the_default_role(env: Org) -> None:
    run = env.clean
    scan = run.report["scan"]
    assert scan["accounts"] == env.members
    assert MANAGEMENT_ACCOUNT not in scan["accounts"]
    assert scan["account_names"] == {v: k for k, v in env.seeded.accounts.items()}
    # Every (member, region) pair was read.
    assert sorted((r["account_id"], r["region"]) for r in run.snapshot["regions"]) == sorted(
        (a, r) for a in env.members for r in REGIONS
    )
    assert sorted(r.role_arn for r in run.new_roles) == [
        f"arn:aws:iam::{a}:role/{DEFAULT_ROLE}" for a in env.members
    ]
    assert {r.session_name for r in run.new_roles} == {"vpcaudit"}


def test_clean_org_scan_makes_the_minimum_calls(env: Org) -> None:
    run = env.clean
    # One paginated call per kind, account and region (moto does not paginate): never one
    # per VPC or subnet. With the nine core kinds alone that is 9 + 3 x 2 x 9 = 63 calls.
    assert set(CORE_OPS) <= set(REGION_OPS)
    expected = {
        "sts:GetCallerIdentity": 1,
        "organizations:DescribeOrganization": 1,
        "organizations:ListAccounts": 1,
        "sts:AssumeRole": 3,
        "ec2:DescribeRegions": 3,
        **{op: 3 * len(REGIONS) for op in REGION_OPS},
    }
    # Log groups are read only where a flow log delivers to CloudWatch Logs (the demo has
    # such a region): once per such region, and nowhere else.
    cwl_regions = [
        (r["account_id"], r["region"])
        for r in run.snapshot["regions"]
        if any(
            f.get("LogDestinationType") == "cloud-watch-logs"
            for f in r["resources"].get("flow_logs", [])
        )
    ]
    assert cwl_regions, "the demo has a flow log to CloudWatch Logs"
    conditional = {"logs:DescribeLogGroups": len(cwl_regions)}
    assert [
        (r["account_id"], r["region"])
        for r in run.snapshot["regions"]
        if "log_groups" in r["resources"]
    ] == cwl_regions
    expected |= conditional
    # TGW route tables and customer prefix lists have no bulk read: one call per table or
    # list, counted from what the scan read (the demo has both; never one per VPC).
    per_parent: dict[str, int] = {}
    for s in SPECS:
        if s.per is None:
            continue
        n = sum(len(s.per.parents(r["resources"])) for r in run.snapshot["regions"])
        per_parent[f"{s.service}:{s.operation}"] = n
    assert all(per_parent.values()), per_parent
    expected |= per_parent
    total = 9 + 3 * len(REGIONS) * len(REGION_OPS) + len(cwl_regions) + sum(per_parent.values())
    assert sum(expected.values()) == total
    stats = run.snapshot["extra"]["stats"]
    assert stats["calls_by_operation"] == expected
    assert stats["api_calls"] == total
    assert stats["http_attempts"] == total, "a clean scan needs no retry"
    # The server saw exactly the calls the scanner counted, and failed none.
    assert run.requests == expected
    assert run.failed == {}


def test_json_logs_are_json_lines_without_secrets(env: Org) -> None:
    run = env.clean
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines, "--log-level info logs at least the start and the end of the scan"
    events = [json.loads(line) for line in lines]
    assert all(isinstance(e, dict) and "event" in e and "level" in e for e in events)
    names = [e["event"] for e in events]
    assert "scan_start" in names
    assert "scan_done" in names
    [start] = [e for e in events if e["event"] == "scan_start"]
    assert start["accounts"] == 3
    # The secrets: the caller's, and those of every role session moto handed the scanner.
    assert len(run.new_roles) == 3
    secrets = {SECRET_KEY, SESSION_TOKEN}
    for role in run.new_roles:
        secrets |= {role.secret_access_key, role.session_token}
    leaked = [s for s in secrets if s in run.stderr]
    assert leaked == []


# --- selecting accounts ---------------------------------------------------------------------


def test_org_include_management_adds_the_management_account(env: Org, tmp_path: Path) -> None:
    run = _scan(env.app, tmp_path, "--org", "--org-include-management")
    assert run.code == 1
    assert run.report["scan"]["accounts"] == sorted([*env.members, MANAGEMENT_ACCOUNT])
    assert run.pairs >= env.expected
    # The management account is read with the caller's own credentials: no extra role.
    assert run.requests["sts:AssumeRole"] == 3
    assert run.requests["ec2:DescribeRegions"] == 4
    # Its only findings are its default VPCs, which have no flow logs.
    extra = [f for f in run.report["findings"] if f["account_id"] == MANAGEMENT_ACCOUNT]
    assert {f["region"] for f in extra} == set(REGIONS)
    assert {f["rule_id"] for f in extra} == {"vpc-flow-logs-missing"}
    assert all(f["evidence"]["is_default"] is True for f in extra)
    assert run.pairs - env.expected == {(f["rule_id"], f["resource_id"]) for f in extra}


def test_exclude_accounts_makes_a_peer_in_an_excluded_account_unverifiable(
    env: Org, tmp_path: Path
) -> None:
    network = env.id("network")
    run = _scan(env.app, tmp_path, "--org", "--exclude-accounts", network)
    assert run.code == 1
    assert run.report["scan"]["accounts"] == sorted([env.id("app-prod"), env.id("analytics")])
    assert run.requests["sts:AssumeRole"] == 2
    assert all(f["account_id"] != network for f in run.report["findings"])
    one_way = env.seeded.peerings["hub-spoke-b"]
    assert ("peering-route-one-way", one_way) not in run.pairs
    entry = run.unverified[("peering-route-one-way", one_way)]
    assert "not scanned" in entry["reason"]
    assert network in entry["reason"]
    assert "outside the Organization" not in entry["reason"]
    # What the excluded account's side cannot decide is never reported as a defect either way.
    two_way = env.seeded.peerings["hub-spoke-a"]
    assert ("peering-route-one-way", two_way) in run.unverified
    # Everything found is something the demo seeded.
    assert run.pairs <= env.expected
    assert ("vpc-flow-logs-missing", env.seeded.vpcs["spoke-b"]) in run.pairs


def test_accounts_filter_scans_only_the_listed_accounts(env: Org, tmp_path: Path) -> None:
    wanted = sorted([env.id("network"), env.id("app-prod")])
    run = _scan(env.app, tmp_path, "--org", "--accounts", ",".join(wanted))
    assert run.code == 1
    assert run.report["scan"]["accounts"] == wanted
    assert run.requests["sts:AssumeRole"] == 2
    assert {f["account_id"] for f in run.report["findings"]} <= set(wanted)
    # Both sides of hub-spoke-b were scanned, so the one-way route is still judged.
    assert ("peering-route-one-way", env.seeded.peerings["hub-spoke-b"]) in run.pairs
    waste = env.seeded.endpoints["analytics-s3-interface"]
    assert ("endpoint-interface-for-gateway-service", waste) not in run.pairs


def test_org_role_name_is_the_role_assumed(env: Org, tmp_path: Path) -> None:
    run = _scan(
        env.app,
        tmp_path,
        "--org",
        "--org-role-name",
        "VpcAuditReader",
        "--accounts",
        env.id("analytics"),
    )
    assert run.code == 1
    assert [r.role_arn for r in run.new_roles] == [
        f"arn:aws:iam::{env.id('analytics')}:role/VpcAuditReader"
    ]
    assert run.report["scan"]["accounts"] == [env.id("analytics")]


def test_role_arns_scan_just_their_accounts(env: Org, tmp_path: Path) -> None:
    network, app_prod = env.id("network"), env.id("app-prod")
    roles = [f"arn:aws:iam::{a}:role/Auditor" for a in (network, app_prod)]
    run = _scan(env.app, tmp_path, "--role-arn", roles[0], "--role-arn", roles[1])
    assert run.code == 1
    assert run.report["scan"]["accounts"] == sorted([network, app_prod])
    assert sorted(r.role_arn for r in run.new_roles) == sorted(roles)
    # No Organization is asked about: the roles name the accounts.
    assert not any(k.startswith("organizations:") for k in run.requests)
    assert run.requests["sts:AssumeRole"] == 2
    assert {f["account_id"] for f in run.report["findings"]} <= {network, app_prod}
    assert ("peering-route-one-way", env.seeded.peerings["hub-spoke-b"]) in run.pairs
    # Without --org the membership is unknown: the scanned accounts stand in for it, so the
    # request from analytics (not scanned) is flagged as from outside them, and says so.
    new_request = env.seeded.peerings["analytics-spoke-a"]
    [outside] = [
        f
        for f in run.report["findings"]
        if f["rule_id"] == "peering-external-account" and f["resource_id"] == new_request
    ]
    assert outside["evidence"]["basis"] == "scanned accounts"
    assert env.id("analytics") in outside["message"]
    assert run.pairs - {("peering-external-account", new_request)} <= env.expected


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::12345:role/Auditor",
        "arn:aws:iam::123456789012:user/Auditor",
        "Auditor",
    ],
)
def test_malformed_role_arn_is_one_usage_error(env: Org, tmp_path: Path, arn: str) -> None:
    run = _scan(env.app, tmp_path, "--role-arn", arn)
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("vpcaudit: error:")
    assert arn in lines[0]
    assert "Traceback" not in run.stderr
    assert run.report == {}
    assert run.requests == {}, "options are checked before any API call"


def test_list_accounts_access_denied_is_one_clear_error(env: Org, tmp_path: Path) -> None:
    denied = Fault(
        "AccessDeniedException", status=400, service="organizations", action="ListAccounts"
    )
    run = _scan(env.app, tmp_path, "--org", faults=(denied,))
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("vpcaudit: error:")
    assert "AccessDeniedException" in line
    assert "Organization" in line
    assert "management or delegated-administrator" in line
    assert "Traceback" not in run.stderr
    assert run.failed == {"organizations:ListAccounts": 1}
    assert not any(k.startswith("ec2:") or k == "sts:AssumeRole" for k in run.requests)
    assert run.report == {}


# --- progress -------------------------------------------------------------------------------


class Recorder:
    """A Progress that writes down every call it gets."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ready: list[PreparedAccount] = []
        self.done: list[RegionResult] = []

    def start(self, accounts: int) -> None:
        self.starts.append(accounts)

    def account_ready(self, prepared: PreparedAccount) -> None:
        self.ready.append(prepared)

    def region_done(self, result: RegionResult) -> None:
        self.done.append(result)


def test_progress_reports_accounts_and_regions(env: Org) -> None:
    rec = Recorder()
    # The library path can install the demo's fidelity layer, as `scan --demo` does.
    opts = ScanOptions(org=True, regions=REGIONS, session_hook=env.fidelity.install)
    snap = run_scan(opts, progress=rec)
    assert rec.starts == [3]
    assert sorted(p.account_id for p in rec.ready) == env.members
    for prepared in rec.ready:
        assert prepared.gaps == ()
        assert prepared.target is not None
        assert sorted(prepared.target.regions) == sorted(REGIONS)
    assert len(rec.done) == 6
    assert sorted((r.data.account_id, r.data.region) for r in rec.done) == sorted(
        (a, r) for a in env.members for r in REGIONS
    )
    assert all(r.gaps == () for r in rec.done)
    assert sorted(snap.accounts) == env.members
    # With the fidelity layer and the demo's intents, the org scan finds exactly the defects
    # the demo seeded.
    rules = {k: v.rule for k, v in load_rules().items()}
    policy = with_demo_intents(load_policy([], rules), rules)
    evaluation = evaluate(Inventory.from_snapshot(snap), rules, policy)
    assert {(f.rule_id, f.resource.resource_id) for f in evaluation.findings} == (
        env.seeded.expected
    )
