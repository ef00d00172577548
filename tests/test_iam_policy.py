"""The shipped IAM policies grant exactly what a full scan calls, and nothing that writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpcaudit.aws.collect import SPECS
from vpcaudit.aws.guard import CREDENTIAL_CALLS, is_read_only, scanner_operations
from vpcaudit.defaults import DEFAULT_ORG_ROLE
from vpcaudit.demo import run_demo_scan
from vpcaudit.scan import ScanOptions

IAM = Path(__file__).parent.parent / "policies" / "iam"


def _actions(name: str) -> set[str]:
    doc = json.loads((IAM / name).read_text())
    out: set[str] = set()
    for stmt in doc["Statement"]:
        assert stmt["Effect"] == "Allow"
        actions = stmt["Action"]
        out |= {actions} if isinstance(actions, str) else set(actions)
    return out


@pytest.fixture(scope="module")
def called() -> set[str]:
    """Every operation a full scan of the demo organization calls (org mode, two regions)."""
    snap = run_demo_scan(ScanOptions())
    return set(snap.extra["stats"]["calls_by_operation"])


def test_every_call_of_a_full_scan_is_granted(called: set[str]) -> None:
    granted = _actions("vpcaudit-readonly.json") | _actions("vpcaudit-org.json")
    assert called <= granted, f"calls not in the IAM policies: {sorted(called - granted)}"


def test_the_policies_grant_nothing_the_tool_does_not_call(called: set[str]) -> None:
    granted = _actions("vpcaudit-readonly.json") | _actions("vpcaudit-org.json")
    assert granted <= called, f"granted but never called: {sorted(granted - called)}"


def test_the_read_policy_is_read_only_and_matches_the_collectors() -> None:
    read = _actions("vpcaudit-readonly.json")
    for action in read:
        service, op = action.split(":")
        assert is_read_only(service, op), action
    collectors = {s.op for s in SPECS}
    assert read == collectors | {"ec2:DescribeRegions", "sts:GetCallerIdentity"}


def test_the_guard_allows_exactly_what_the_policies_grant() -> None:
    """One list (guard.scanner_operations) is the guard's allow-list and the policies' grant:
    the guard used to pass anything named Describe*, List* or Get*."""
    granted = _actions("vpcaudit-readonly.json") | _actions("vpcaudit-org.json")
    reads = {f"{s}:{o}" for s, o in scanner_operations()}
    credentials = {f"{s}:{o}" for s, o in CREDENTIAL_CALLS}
    assert granted - {"sts:AssumeRole"} == reads
    assert "sts:AssumeRole" in credentials


def test_the_org_policy_only_lists_and_assumes_the_member_role() -> None:
    doc = json.loads((IAM / "vpcaudit-org.json").read_text())
    for stmt in doc["Statement"]:
        actions = set(stmt["Action"])
        if actions == {"sts:AssumeRole"}:
            # Only the read-only member role, and only inside the caller's Organization.
            assert stmt["Resource"] == f"arn:aws:iam::*:role/{DEFAULT_ORG_ROLE}"
            assert stmt["Condition"] == {
                "StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}
            }
        else:
            assert all(a.split(":")[1].startswith(("Describe", "List")) for a in actions)
            assert all(is_read_only(*a.split(":")) for a in actions)


def test_the_deployment_example_role_reads_exactly_what_the_read_policy_grants() -> None:
    # docs/deploy/iam-job-role.json is copied by teams: a missing action there is a gap in
    # every scan they run.
    doc = json.loads((IAM.parent.parent / "docs" / "deploy" / "iam-job-role.json").read_text())
    scan = next(s for s in doc["Statement"] if s["Sid"] == "ScanReadOnly")
    assert set(scan["Action"]) == _actions("vpcaudit-readonly.json")
