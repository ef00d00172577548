"""vpc-flow-logs-missing: VPCs with no ACTIVE flow log on the VPC itself."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    load_fixture,
    run_rule,
    unverified_reasons,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.flowlogs import FLOW_LOGS_MISSING

RULE_ID = "vpc-flow-logs-missing"


def one_vpc(
    *, is_default: bool = False, secondary: list[str] | None = None, ipv6: list[str] | None = None
) -> SnapshotBuilder:
    """vpc-a (named "app", 10.0.0.0/16) with one subnet, in 111 us-east-1."""
    return (
        SnapshotBuilder()
        .vpc(
            "vpc-a",
            "10.0.0.0/16",
            name="app",
            is_default=is_default,
            secondary=secondary or [],
            ipv6=ipv6 or [],
        )
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
    )


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def test_vpc_without_flow_log_is_flagged() -> None:
    f = only(run_rule(FLOW_LOGS_MISSING, one_vpc().build()))
    assert f.rule_id == RULE_ID
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "vpc"
    assert f.resource.resource_id == "vpc-a"
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-a"
    assert f.evidence == {
        "vpc_name": "app",
        "cidrs": ["10.0.0.0/16"],
        "is_default": False,
        "inactive_flow_logs": [],
        "other_flow_logs": [],
    }
    assert f.message == "VPC vpc-a (app) has no active flow log: its traffic is not recorded."
    assert f.remediation.startswith(
        "aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-a --traffic-type ALL"
    )
    assert f.remediation.endswith(f"--region {REGION}  # as account {ACCOUNT}")


@pytest.mark.parametrize("destination_type", ["s3", "cloud-watch-logs", "kinesis-data-firehose"])
def test_active_flow_log_on_the_vpc_is_enough(destination_type: str) -> None:
    snap = one_vpc().flow_log("fl-a", "vpc-a", destination_type=destination_type).build()
    result = run_rule(FLOW_LOGS_MISSING, snap)
    assert result.findings == ()
    assert result.unverified == ()


def test_only_an_inactive_flow_log_is_flagged_and_listed() -> None:
    snap = one_vpc().flow_log("fl-old", "vpc-a", status="INACTIVE").build()
    f = only(run_rule(FLOW_LOGS_MISSING, snap))
    assert f.resource.resource_id == "vpc-a"
    assert f.evidence["inactive_flow_logs"] == ["fl-old (INACTIVE)"]


def test_active_beside_inactive_is_enough() -> None:
    snap = (
        one_vpc().flow_log("fl-old", "vpc-a", status="INACTIVE").flow_log("fl-new", "vpc-a").build()
    )
    assert run_rule(FLOW_LOGS_MISSING, snap).findings == ()


def test_only_subnet_level_flow_logs_is_left_to_flow_logs_subnet_only() -> None:
    # One problem, one finding: a VPC logged on some subnets is flow-logs-subnet-only's (the
    # more specific rule, which lists the dark subnets); this rule stays silent.
    snap = (
        one_vpc()
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b")
        .flow_log("fl-s1", "subnet-a1")
        .flow_log("fl-s2", "subnet-a2", status="INACTIVE")
        .build()
    )
    assert run_rule(FLOW_LOGS_MISSING, snap).findings == ()


def test_only_an_inactive_subnet_log_is_still_flagged() -> None:
    snap = one_vpc().flow_log("fl-s1", "subnet-a1", status="INACTIVE").build()
    f = only(run_rule(FLOW_LOGS_MISSING, snap))
    assert f.evidence["other_flow_logs"] == []


def test_only_interface_level_flow_logs_is_flagged_and_listed() -> None:
    snap = (
        one_vpc()
        .network_interface("eni-a1", "subnet-a1", private_ip="10.0.1.10", instance_id="i-a1")
        .flow_log("fl-e1", "eni-a1")
        .build()
    )
    f = only(run_rule(FLOW_LOGS_MISSING, snap))
    assert f.evidence["other_flow_logs"] == ["fl-e1 on eni-a1"]
    assert "only 1 interface-level log(s) exist" in f.message


def test_flow_log_on_another_vpc_does_not_count() -> None:
    snap = one_vpc().vpc("vpc-b", "10.1.0.0/16").flow_log("fl-b", "vpc-b").build()
    f = only(run_rule(FLOW_LOGS_MISSING, snap))
    assert f.resource.resource_id == "vpc-a"


def test_secondary_and_ipv6_cidrs_in_evidence() -> None:
    snap = one_vpc(secondary=["100.64.0.0/16"], ipv6=["2600:1f18:1::/56"]).build()
    f = only(run_rule(FLOW_LOGS_MISSING, snap))
    assert f.evidence["cidrs"] == ["10.0.0.0/16", "100.64.0.0/16", "2600:1f18:1::/56"]


def shared_vpc(*, owner_scanned: bool, owner_logs: bool) -> SnapshotBuilder:
    """vpc-shared, owned by 222, shared with participant 111 (which sees it too)."""
    b = SnapshotBuilder().vpc("vpc-shared", "10.7.0.0/16", owner=OTHER_ACCOUNT, name="shared")
    b.subnet("subnet-part", "vpc-shared", "10.7.1.0/24", owner=OTHER_ACCOUNT)
    if owner_scanned:
        b.vpc("vpc-shared", "10.7.0.0/16", account=OTHER_ACCOUNT, name="shared")
        if owner_logs:
            b.flow_log("fl-shared", "vpc-shared", account=OTHER_ACCOUNT)
    return b


def test_shared_vpc_is_judged_in_the_owner_account_only() -> None:
    result = run_rule(FLOW_LOGS_MISSING, shared_vpc(owner_scanned=True, owner_logs=False).build())
    f = only(result)
    assert f.resource.resource_id == "vpc-shared"
    assert f.resource.account_id == OTHER_ACCOUNT
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{OTHER_ACCOUNT}:vpc/vpc-shared"
    assert f.remediation.endswith(f"# as account {OTHER_ACCOUNT}")
    assert result.unverified == ()


def test_shared_vpc_with_owner_flow_log_is_clean_from_both_accounts() -> None:
    result = run_rule(FLOW_LOGS_MISSING, shared_vpc(owner_scanned=True, owner_logs=True).build())
    assert result.findings == ()
    assert result.unverified == ()


def test_shared_vpc_whose_owner_was_not_scanned_is_unverifiable() -> None:
    result = run_rule(FLOW_LOGS_MISSING, shared_vpc(owner_scanned=False, owner_logs=False).build())
    assert result.findings == ()
    [(resource_id, reason)] = unverified_reasons(result)
    assert resource_id == "vpc-shared"
    assert result.unverified[0].item.resource.account_id == OTHER_ACCOUNT
    assert f"owned by {OTHER_ACCOUNT}, which was not scanned" in reason


def test_gap_on_describe_flow_logs_is_unverifiable_not_a_finding() -> None:
    snap = one_vpc().gap("DescribeFlowLogs", code="AccessDenied").build()
    result = run_rule(FLOW_LOGS_MISSING, snap)
    assert result.findings == ()
    [(resource_id, reason)] = unverified_reasons(result)
    assert resource_id == "vpc-a"
    assert reason == f"flow logs of {ACCOUNT} {REGION} could not be read"


def test_gap_in_another_region_does_not_hide_this_one() -> None:
    snap = one_vpc().gap("DescribeFlowLogs", region=OTHER_REGION).build()
    result = run_rule(FLOW_LOGS_MISSING, snap)
    assert only(result).resource.resource_id == "vpc-a"
    assert result.unverified == ()


def test_account_wide_gap_is_unverifiable() -> None:
    snap = one_vpc().gap("*", region="*", code="AccessDenied").build()
    result = run_rule(FLOW_LOGS_MISSING, snap)
    assert result.findings == ()
    assert len(result.unverified) == 1


def test_default_vpc_is_flagged_by_default() -> None:
    f = only(run_rule(FLOW_LOGS_MISSING, one_vpc(is_default=True).build()))
    assert f.evidence["is_default"] is True


def test_include_default_vpcs_false_skips_default_vpcs_only() -> None:
    snap = one_vpc(is_default=True).vpc("vpc-b", "10.1.0.0/16").build()
    f = only(run_rule(FLOW_LOGS_MISSING, snap, include_default_vpcs=False))
    assert f.resource.resource_id == "vpc-b"


def test_fixture_snapshot_flow_logs() -> None:
    result = run_rule(FLOW_LOGS_MISSING, load_fixture("cross_account_peering.json"))
    assert result.unverified == ()
    f = only(result)
    assert f.resource.resource_id == "vpc-0app"
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, REGION)
    assert f.evidence["vpc_name"] == "app"
    # vpc-0data in eu-west-1 logs to CloudWatch Logs and is not flagged.
    assert OTHER_REGION not in {x.resource.region for x in result.findings}


def test_shared_vpc_seen_by_two_participants_is_one_unverifiable_check() -> None:
    snap = (
        shared_vpc(owner_scanned=False, owner_logs=False)
        .vpc("vpc-shared", "10.7.0.0/16", owner=OTHER_ACCOUNT, account="333333333333")
        .build()
    )
    result = run_rule(FLOW_LOGS_MISSING, snap)
    assert result.findings == ()
    assert len(result.unverified) == 1
