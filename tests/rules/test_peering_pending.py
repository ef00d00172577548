"""peering-pending-expiring: pending requests, graded by the time left before they lapse."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    hours_from_now,
    load_fixture,
    run_rule,
)
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.peering import PENDING_EXPIRING

RULE_ID = "peering-pending-expiring"
PEER = Side(OTHER_ACCOUNT, OTHER_REGION, "vpc-acc", ("10.1.0.0/16",))


def pending(expires: str | None, *, status: str = "pending-acceptance") -> SnapshotBuilder:
    """Account 111 (us-east-1) asks account 222 (eu-west-1) to peer; only 111 is scanned."""
    return (
        SnapshotBuilder()
        .vpc("vpc-req", "10.0.0.0/16", name="app")
        .peering("pcx-pending", "vpc-req", PEER, status=status, expires=expires)
    )


def only(findings: tuple[Finding, ...]) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(findings) == 1, findings
    return findings[0]


def test_expiry_beyond_the_window_is_low() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(hours_from_now(100)).build()).findings)
    assert f.rule_id == RULE_ID
    assert f.severity is Severity.LOW
    assert f.resource.resource_type == "vpc-peering-connection"
    assert f.resource.resource_id == "pcx-pending"
    assert f.evidence["status"] == "pending-acceptance"
    assert f.evidence["expiry_known"] is True
    assert f.evidence["hours_left"] == 100.0
    assert f.evidence["expiration_time"] == "2024-06-05T16:00:00Z"
    assert "4.2 days" in f.message


def test_expiry_within_the_default_48h_window_is_high() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(hours_from_now(47.5)).build()).findings)
    assert f.severity is Severity.HIGH
    assert f.evidence["hours_left"] == 47.5
    assert "expires in 47.5 h" in f.message


def test_expiry_exactly_at_the_window_edge_is_high() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(hours_from_now(48)).build()).findings)
    assert f.severity is Severity.HIGH


def test_expiry_already_passed_is_high() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(hours_from_now(-3)).build()).findings)
    assert f.severity is Severity.HIGH
    assert f.evidence["hours_left"] == -3.0
    assert "passed its expiry time" in f.message


def test_missing_expiration_time_is_medium_and_not_skipped() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(None).build()).findings)
    assert f.severity is Severity.MEDIUM
    assert f.evidence["expiry_known"] is False
    assert f.evidence["expiration_time"] is None
    assert f.evidence["hours_left"] is None
    assert "expiry time was not reported" in f.message


@pytest.mark.parametrize(
    ("window", "expected"),
    [(72.0, Severity.HIGH), (24.0, Severity.LOW)],
)
def test_custom_warn_window(window: float, expected: Severity) -> None:
    snap = pending(hours_from_now(60)).build()
    default = only(run_rule(PENDING_EXPIRING, snap).findings)
    custom = only(run_rule(PENDING_EXPIRING, snap, warn_window_hours=window).findings)
    assert default.severity is Severity.LOW
    assert custom.severity is expected


@pytest.mark.parametrize(
    "status",
    ["active", "deleted", "rejected", "expired", "failed", "provisioning", "initiating-request"],
)
def test_other_statuses_are_ignored(status: str) -> None:
    result = run_rule(PENDING_EXPIRING, pending(hours_from_now(1), status=status).build())
    assert result.findings == ()
    assert result.unverified == ()


def test_evidence_names_the_accepter_that_must_accept() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(hours_from_now(10)).build()).findings)
    assert f.evidence["must_accept_account"] == OTHER_ACCOUNT
    assert f.evidence["must_accept_region"] == OTHER_REGION
    assert f.evidence["requester"]["account_id"] == ACCOUNT
    assert f.evidence["requester"]["vpc_id"] == "vpc-req"
    assert f.evidence["requester"]["vpc_name"] == "app"
    assert f.evidence["requester"]["scanned"] is True
    assert f.evidence["accepter"]["account_id"] == OTHER_ACCOUNT
    assert f.evidence["accepter"]["region"] == OTHER_REGION
    assert f.evidence["accepter"]["scanned"] is False
    assert f"awaits acceptance by account {OTHER_ACCOUNT} in {OTHER_REGION}" in f.message
    assert f.remediation.startswith(
        "aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id pcx-pending "
        f"--region {OTHER_REGION}  # as account {OTHER_ACCOUNT}"
    )
    assert "reject-vpc-peering-connection" in f.remediation


def test_finding_sits_on_the_requester_when_the_accepter_was_not_scanned() -> None:
    f = only(run_rule(PENDING_EXPIRING, pending(hours_from_now(10)).build()).findings)
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-peering-connection/pcx-pending"


def test_seen_from_both_accounts_gives_one_finding_on_the_accepter() -> None:
    snap = (
        pending(hours_from_now(10))
        .vpc("vpc-acc", "10.1.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    # The request is listed in both accounts' regions, as DescribeVpcPeeringConnections does.
    listed = [r.account_id for r in snap.regions if r.resources["peerings"]]
    assert sorted(listed) == [ACCOUNT, OTHER_ACCOUNT]
    f = only(run_rule(PENDING_EXPIRING, snap).findings)
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.severity is Severity.HIGH
    assert f.evidence["accepter"]["scanned"] is True


def test_fixture_snapshot_pending_request() -> None:
    snap = load_fixture("cross_account_peering.json")
    f = only(run_rule(PENDING_EXPIRING, snap).findings)
    assert f.rule_id == RULE_ID
    assert f.resource.resource_id == "pcx-0pending"
    assert f.resource.account_id == OTHER_ACCOUNT
    assert f.severity is Severity.HIGH
    assert f.evidence["must_accept_account"] == OTHER_ACCOUNT
    assert f.evidence["hours_left"] == 20.0
