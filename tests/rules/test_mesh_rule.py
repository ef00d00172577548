"""peering-quota-near and peering-mesh-consider-tgw.

Expected values come from AWS's documentation, not from running the rules: 50 active peerings
per VPC by default, adjustable to 125 (Service Quotas vpc/L-7E9ECCDB); a full mesh of n VPCs
needs n(n-1)/2 peerings; a Transit Gateway attachment costs $0.05 an hour and $0.02 per GB
processed (us-east-1), peering nothing within a zone and $0.01 per GB each way across zones.
"""

from __future__ import annotations

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    route,
    run_rule,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.mesh import MESH_CONSIDER_TGW, QUOTA_NEAR


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


def vpc_id(i: int) -> str:
    return f"vpc-{i:03d}"


def star(spokes: int, *, status: str = "active", hub: str = "vpc-hub") -> SnapshotBuilder:
    """A hub VPC peered with `spokes` spoke VPCs (vpc-000, vpc-001, ...) of ACCOUNT."""
    b = SnapshotBuilder().vpc(hub, "10.255.0.0/16")
    for i in range(spokes):
        b.vpc(vpc_id(i), f"10.{i}.0.0/16").peering(f"pcx-{i:03d}", hub, vpc_id(i), status=status)
    return b


def chain(n: int, *, region: str = REGION) -> SnapshotBuilder:
    """n VPCs of ACCOUNT, each peered with the next (n - 1 peerings)."""
    b = SnapshotBuilder()
    for i in range(n):
        b.vpc(vpc_id(i), f"10.{i}.0.0/16", region=region if i == n - 1 else REGION)
    for i in range(n - 1):
        b.peering(f"pcx-{i:03d}", vpc_id(i), vpc_id(i + 1))
    return b


# -- peering-quota-near ---------------------------------------------------------------------


def test_vpc_at_the_warning_share_of_the_default_quota_is_low() -> None:
    f = only(run_rule(QUOTA_NEAR, star(40).build()))  # 40 = 0.8 x 50
    assert f.rule_id == "peering-quota-near"
    assert f.severity is Severity.LOW
    assert f.resource.resource_type == "vpc"
    assert f.resource.resource_id == "vpc-hub"
    assert f.evidence["active_peerings"] == 40
    assert f.evidence["quota"] == 50
    assert f.evidence["adjustable_to"] == 125
    assert f.evidence["share_of_quota"] == 0.8
    assert f.evidence["count_complete"] is True
    assert f.evidence["peering_ids"] == [f"pcx-{i:03d}" for i in range(40)]
    assert "80%" in f.message
    assert f.remediation.splitlines()[:2] == [
        cmd("aws service-quotas get-service-quota --service-code vpc --quota-code L-7E9ECCDB"),
        cmd(
            "aws service-quotas request-service-quota-increase --service-code vpc "
            "--quota-code L-7E9ECCDB --desired-value 125"
        ),
    ]


def test_vpc_below_the_warning_share_is_left_alone() -> None:
    assert not run_rule(QUOTA_NEAR, star(39).build()).findings


def test_only_active_peerings_count() -> None:
    b = star(39)
    b.vpc("vpc-extra", "10.200.0.0/16").peering(
        "pcx-pending", "vpc-hub", "vpc-extra", status="pending-acceptance"
    )
    assert not run_rule(QUOTA_NEAR, b.build()).findings


def test_vpc_near_the_ceiling_no_increase_lifts_is_medium() -> None:
    # A team that raised its quota to 125 says so; 100 = 0.8 x 125 is then near the ceiling.
    f = only(run_rule(QUOTA_NEAR, star(100).build(), quota=125))
    assert f.severity is Severity.MEDIUM
    assert "125" in f.message
    assert "Transit Gateway" in f.message


def test_vpc_above_the_default_quota_says_it_was_raised() -> None:
    f = only(run_rule(QUOTA_NEAR, star(60).build()))  # 60 > 50, below 0.8 x 125
    assert f.severity is Severity.LOW
    assert "was raised" in f.message


def test_count_from_peerings_seen_by_others_is_a_lower_bound() -> None:
    # The hub's account was not scanned: its peerings are known only from the spokes' side.
    hub = Side(OTHER_ACCOUNT, REGION, "vpc-hub", ("10.255.0.0/16",))
    b = SnapshotBuilder()
    for i in range(40):
        b.vpc(vpc_id(i), f"10.{i}.0.0/16").peering(f"pcx-{i:03d}", hub, vpc_id(i))
    f = only(run_rule(QUOTA_NEAR, b.build()))
    assert f.resource.account_id == OTHER_ACCOUNT
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{OTHER_ACCOUNT}:vpc/vpc-hub"
    assert f.evidence["count_complete"] is False
    assert "at least 40" in f.message


# -- peering-mesh-consider-tgw --------------------------------------------------------------


def test_group_of_six_is_reported_with_its_mesh_gap_and_cost() -> None:
    b = chain(6)
    # Each peering routed on both sides: 10 routes a hub would replace.
    for i in range(5):
        b.route_table(
            f"rtb-{i}-fwd",
            vpc_id(i),
            main=True,
            routes=[route(f"10.{i + 1}.0.0/16", f"pcx-{i:03d}")],
        )
        b.route_table(
            f"rtb-{i}-back",
            vpc_id(i + 1),
            routes=[route(f"10.{i}.0.0/16", f"pcx-{i:03d}")],
        )
    f = only(run_rule(MESH_CONSIDER_TGW, b.build()))
    assert f.rule_id == "peering-mesh-consider-tgw"
    assert f.severity is Severity.INFO
    assert f.resource.resource_type == "vpc"
    assert f.resource.resource_id == "vpc-000"  # the group's lowest VPC id
    ev = f.evidence
    assert ev["vpc_count"] == 6
    assert ev["vpcs"] == [vpc_id(i) for i in range(6)]
    assert ev["peering_count"] == 5
    assert ev["peerings"] == [f"pcx-{i:03d}" for i in range(5)]
    assert ev["full_mesh_peerings"] == 15
    assert ev["missing_for_full_mesh"] == 10
    assert ev["busiest_vpc"] == "vpc-001"  # 2 peerings; the lowest id among equals
    assert ev["max_peerings_per_vpc"] == 2
    assert ev["quota_headroom"] == 48
    assert ev["peering_routes"] == 10
    assert ev["regions"] == [REGION]
    assert ev["accounts"] == [ACCOUNT]
    cost = ev["monthly_cost_comparison_usd"]
    # 6 x 0.05 x 730 = 219 + 6 x 100 GB x 0.02 = 12 -> 231; peering: 600 GB x 50% x 0.01 x 2.
    assert cost["transit_gateway"] == 231.0
    assert cost["peering"] == 6.0
    assert cost["cheaper"] == "peering"
    assert cost["difference"] == 225.0
    assert any("estimate" in a for a in cost["assumptions"])
    assert "peering is still cheaper by $225.00 a month" in f.message
    assert f.remediation.splitlines()[0] == cmd(
        "aws ec2 create-transit-gateway --description 'Hub for the 6 VPCs peered with vpc-000'"
    )


def test_group_below_min_vpcs_is_left_alone() -> None:
    assert not run_rule(MESH_CONSIDER_TGW, chain(5).build()).findings
    assert only(run_rule(MESH_CONSIDER_TGW, chain(5).build(), min_vpcs=5))


def test_small_group_near_the_quota_is_reported() -> None:
    # 4 spokes: a group of 5, below min_vpcs, but the hub has 4 of a quota of 5 (80%).
    f = only(run_rule(MESH_CONSIDER_TGW, star(4).build(), quota=5))
    assert f.evidence["busiest_vpc"] == "vpc-hub"
    assert f.evidence["quota_headroom"] == 1


def test_inactive_peerings_join_no_group() -> None:
    assert not run_rule(MESH_CONSIDER_TGW, star(8, status="deleted").build()).findings
    assert not run_rule(MESH_CONSIDER_TGW, star(8, status="pending-acceptance").build()).findings


def test_each_group_gets_its_own_finding() -> None:
    b = chain(6)
    for i in range(100, 106):
        b.vpc(vpc_id(i), f"10.{i}.0.0/16")
    for i in range(100, 105):
        b.peering(f"pcx-{i:03d}", vpc_id(i), vpc_id(i + 1))
    result = run_rule(MESH_CONSIDER_TGW, b.build())
    assert sorted(f.resource.resource_id for f in result.findings) == ["vpc-000", "vpc-100"]
    assert all(f.evidence["vpc_count"] == 6 for f in result.findings)


def test_evidence_of_a_huge_group_is_bounded() -> None:
    f = only(run_rule(MESH_CONSIDER_TGW, chain(8).build(), evidence_sample=3))
    assert f.evidence["vpc_count"] == 8
    assert f.evidence["vpcs"] == ["vpc-000", "vpc-001", "vpc-002"]
    assert f.evidence["peering_count"] == 7
    assert len(f.evidence["peerings"]) == 3


def test_group_across_regions_needs_a_transit_gateway_per_region() -> None:
    f = only(run_rule(MESH_CONSIDER_TGW, chain(6, region=OTHER_REGION).build()))
    assert f.evidence["regions"] == [OTHER_REGION, REGION]
    assert "create-transit-gateway-peering-attachment" in f.remediation


def test_says_so_when_a_transit_gateway_would_be_cheaper() -> None:
    # Only with inputs unlike AWS's prices: cross-zone peering at $1/GB on all traffic.
    f = only(
        run_rule(
            MESH_CONSIDER_TGW,
            chain(6).build(),
            peering_cross_az_per_gb=1.0,
            cross_az_share=1.0,
        )
    )
    assert f.evidence["monthly_cost_comparison_usd"]["cheaper"] == "transit-gateway"
    assert "a Transit Gateway would be cheaper" in f.message
