"""peering-route-one-way: active peerings that only one side routes to."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    load_fixture,
    route,
    run_rule,
    unverified_reasons,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.peering import ROUTE_ONE_WAY

RULE_ID = "peering-route-one-way"
PCX = "pcx-0ab"
TO_B = route("10.1.0.0/16", PCX)
TO_A = route("10.0.0.0/16", PCX)


def two_vpcs(
    *,
    a_routes: bool,
    b_routes: bool,
    status: str = "active",
    b_account: str = ACCOUNT,
    b_region: str = REGION,
) -> SnapshotBuilder:
    """vpc-a (requester, 111 us-east-1) peered with vpc-b; each side's subnet uses its own table."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-amain", "vpc-a", main=True)
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[TO_B] if a_routes else [])
        .vpc("vpc-b", "10.1.0.0/16", account=b_account, region=b_region)
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24", account=b_account, region=b_region)
        .route_table("rtb-bmain", "vpc-b", main=True, account=b_account, region=b_region)
        .route_table(
            "rtb-b",
            "vpc-b",
            subnets=["subnet-b1"],
            routes=[TO_A] if b_routes else [],
            account=b_account,
            region=b_region,
        )
        .peering(PCX, "vpc-a", "vpc-b", status=status)
    )


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def test_both_sides_route_gives_no_finding() -> None:
    result = run_rule(ROUTE_ONE_WAY, two_vpcs(a_routes=True, b_routes=True).build())
    assert result.findings == ()
    assert result.unverified == ()


def test_neither_side_routes_gives_no_finding() -> None:
    result = run_rule(ROUTE_ONE_WAY, two_vpcs(a_routes=False, b_routes=False).build())
    assert result.findings == ()
    assert result.unverified == ()


def test_only_requester_routes_flags_the_accepter_side() -> None:
    f = only(run_rule(ROUTE_ONE_WAY, two_vpcs(a_routes=True, b_routes=False).build()))
    assert f.rule_id == RULE_ID
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "vpc-peering-connection"
    assert f.resource.resource_id == PCX
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence["routed_side"]["vpc_id"] == "vpc-a"
    assert f.evidence["routed_side"]["route_tables"] == ["rtb-a"]
    assert f.evidence["missing_side"]["vpc_id"] == "vpc-b"
    assert f.evidence["missing_side"]["serving_route_tables"] == ["rtb-b"]
    assert f.evidence["missing_side"]["routes_not_serving_or_inactive"] == []
    assert f.remediation == (
        "aws ec2 create-route --route-table-id rtb-b --destination-cidr-block 10.0.0.0/16 "
        f"--vpc-peering-connection-id {PCX} --region {REGION}  # as account {ACCOUNT}"
    )
    assert "vpc-b" in f.message
    assert "replies cannot return" in f.message


def test_only_accepter_routes_flags_the_requester_side() -> None:
    f = only(run_rule(ROUTE_ONE_WAY, two_vpcs(a_routes=False, b_routes=True).build()))
    assert f.evidence["routed_side"]["vpc_id"] == "vpc-b"
    assert f.evidence["missing_side"]["vpc_id"] == "vpc-a"
    assert f.evidence["missing_side"]["serving_route_tables"] == ["rtb-a"]
    assert "--route-table-id rtb-a --destination-cidr-block 10.1.0.0/16" in f.remediation


def test_route_in_a_table_no_subnet_uses_does_not_count() -> None:
    snap = (
        two_vpcs(a_routes=True, b_routes=False)
        .route_table("rtb-bspare", "vpc-b", routes=[TO_A])
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert f.evidence["missing_side"]["vpc_id"] == "vpc-b"
    assert f.evidence["missing_side"]["serving_route_tables"] == ["rtb-b"]
    assert f.evidence["missing_side"]["routes_not_serving_or_inactive"] == ["rtb-bspare (active)"]


def test_disassociated_subnet_does_not_make_a_table_serving() -> None:
    snap = (
        two_vpcs(a_routes=True, b_routes=False)
        .route_table("rtb-bold", "vpc-b", routes=[TO_A], disassociated_subnets=["subnet-b1"])
        .build()
    )
    assert only(run_rule(ROUTE_ONE_WAY, snap)).evidence["missing_side"]["vpc_id"] == "vpc-b"


def test_main_table_counts_when_a_subnet_is_unassociated() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[TO_B])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .subnet("subnet-b2", "vpc-b", "10.1.2.0/24")
        .route_table("rtb-bmain", "vpc-b", main=True, routes=[TO_A])
        .route_table("rtb-b", "vpc-b", subnets=["subnet-b1"])
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    # subnet-b2 has no explicit association, so it uses the main table, which routes back.
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    assert result.unverified == ()


def test_main_table_does_not_count_when_every_subnet_is_associated() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[TO_B])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table("rtb-bmain", "vpc-b", main=True, routes=[TO_A])
        .route_table("rtb-b", "vpc-b", subnets=["subnet-b1"])
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert f.evidence["missing_side"]["vpc_id"] == "vpc-b"
    assert f.evidence["missing_side"]["serving_route_tables"] == ["rtb-b"]
    assert f.evidence["missing_side"]["routes_not_serving_or_inactive"] == ["rtb-bmain (active)"]


def test_blackhole_route_does_not_count() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[TO_B])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table(
            "rtb-b",
            "vpc-b",
            subnets=["subnet-b1"],
            routes=[route("10.0.0.0/16", PCX, state="blackhole")],
        )
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert f.evidence["missing_side"]["vpc_id"] == "vpc-b"
    assert f.evidence["missing_side"]["routes_not_serving_or_inactive"] == ["rtb-b (blackhole)"]
    assert "--route-table-id rtb-b " in f.remediation


def test_cross_account_both_scanned_flags_the_account_that_lacks_the_route() -> None:
    snap = two_vpcs(
        a_routes=True, b_routes=False, b_account=OTHER_ACCOUNT, b_region=OTHER_REGION
    ).build()
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.resource.arn == (
        f"arn:aws:ec2:{OTHER_REGION}:{OTHER_ACCOUNT}:vpc-peering-connection/{PCX}"
    )
    assert f.evidence["missing_side"]["account_id"] == OTHER_ACCOUNT
    assert f.evidence["missing_side"]["scanned"] is True
    assert f.evidence["routed_side"]["account_id"] == ACCOUNT
    assert f.remediation.endswith(f"--region {OTHER_REGION}  # as account {OTHER_ACCOUNT}")


def test_cross_account_both_scanned_and_both_routed_gives_no_finding() -> None:
    snap = two_vpcs(
        a_routes=True, b_routes=True, b_account=OTHER_ACCOUNT, b_region=OTHER_REGION
    ).build()
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    assert result.unverified == ()


def _with_unscanned_peer(peer_account: str, org: list[str] | None) -> SnapshotBuilder:
    return (
        SnapshotBuilder(org_account_ids=org)
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[TO_B])
        .peering(PCX, "vpc-a", Side(peer_account, REGION, "vpc-b", ("10.1.0.0/16",)))
    )


def test_peer_account_not_scanned_is_unverifiable_not_a_finding() -> None:
    result = run_rule(ROUTE_ONE_WAY, _with_unscanned_peer(OTHER_ACCOUNT, None).build())
    assert result.findings == ()
    [(resource_id, reason)] = unverified_reasons(result)
    assert resource_id == PCX
    assert result.unverified[0].rule_id == RULE_ID
    assert result.unverified[0].item.resource.account_id == ACCOUNT
    assert f"vpc-b is in {OTHER_ACCOUNT} {REGION}, an account that was not scanned" in reason


def test_peer_in_organization_but_not_scanned_says_not_scanned() -> None:
    snap = _with_unscanned_peer(OTHER_ACCOUNT, [ACCOUNT, OTHER_ACCOUNT]).build()
    [(_, reason)] = unverified_reasons(run_rule(ROUTE_ONE_WAY, snap))
    assert "an account that was not scanned" in reason
    assert "external" not in reason


def test_peer_outside_the_organization_says_external() -> None:
    snap = _with_unscanned_peer(EXTERNAL_ACCOUNT, [ACCOUNT, OTHER_ACCOUNT]).build()
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    [(_, reason)] = unverified_reasons(result)
    assert f"{EXTERNAL_ACCOUNT} {REGION}, an external account outside the Organization" in reason


@pytest.mark.parametrize("operation", ["DescribeRouteTables", "DescribeSubnets"])
def test_gap_in_one_sides_region_is_unverifiable(operation: str) -> None:
    snap = (
        two_vpcs(a_routes=True, b_routes=False, b_account=OTHER_ACCOUNT, b_region=OTHER_REGION)
        .gap(operation, account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    [(resource_id, reason)] = unverified_reasons(result)
    assert resource_id == PCX
    # Located on the side that was read, where someone can look.
    assert result.unverified[0].item.resource.account_id == ACCOUNT
    assert "a region whose route tables or subnets could not be read" in reason


def test_region_wide_gap_is_unverifiable() -> None:
    snap = (
        two_vpcs(a_routes=True, b_routes=False, b_account=OTHER_ACCOUNT, b_region=OTHER_REGION)
        .gap("*", account=OTHER_ACCOUNT, region=OTHER_REGION, code="AuthFailure")
        .build()
    )
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    assert len(result.unverified) == 1


def test_gap_on_an_unrelated_operation_still_judges() -> None:
    snap = (
        two_vpcs(a_routes=True, b_routes=False, b_account=OTHER_ACCOUNT, b_region=OTHER_REGION)
        .gap("DescribeFlowLogs", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert only(result).evidence["missing_side"]["vpc_id"] == "vpc-b"
    assert result.unverified == ()


@pytest.mark.parametrize(
    "status", ["pending-acceptance", "deleted", "rejected", "expired", "failed", "provisioning"]
)
def test_non_active_peering_is_ignored(status: str) -> None:
    snap = two_vpcs(a_routes=True, b_routes=False, status=status).build()
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    assert result.unverified == ()


def test_remediation_covers_every_missing_table_with_the_sending_block_only() -> None:
    # vpc-a also has a secondary block and an IPv6 block, but its only sending subnet is in
    # 10.0.0.0/16 and it routes no IPv6 to vpc-b: routes to the other blocks would be
    # routes nothing needs (the old rule proposed all three blocks in every table).
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", secondary=["100.64.0.0/16"], ipv6=["2600:1f18:1::/56"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[TO_B])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .subnet("subnet-b2", "vpc-b", "10.1.2.0/24")
        .route_table("rtb-b1", "vpc-b", subnets=["subnet-b1"])
        .route_table("rtb-b2", "vpc-b", subnets=["subnet-b2"])
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert f.evidence["missing_side"]["serving_route_tables"] == ["rtb-b1", "rtb-b2"]
    assert f.evidence["families"] == ["IPv4"]
    tail = f"--vpc-peering-connection-id {PCX} --region {REGION}  # as account {ACCOUNT}"
    assert f.remediation.splitlines() == [
        f"aws ec2 create-route --route-table-id {t} --destination-cidr-block 10.0.0.0/16 {tail}"
        for t in ("rtb-b1", "rtb-b2")
    ]


def test_fixture_snapshot_one_way_and_two_way() -> None:
    result = run_rule(ROUTE_ONE_WAY, load_fixture("cross_account_peering.json"))
    f = only(result)
    assert result.unverified == ()
    assert f.rule_id == RULE_ID
    assert f.resource.resource_id == "pcx-0oneway"
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence["routed_side"]["vpc_id"] == "vpc-0hub"
    assert f.evidence["routed_side"]["route_tables"] == ["rtb-0hubmain"]
    assert f.evidence["missing_side"]["vpc_name"] == "data"
    assert f.evidence["missing_side"]["in_organization"] is True
    assert f.evidence["missing_side"]["serving_route_tables"] == ["rtb-0dataused"]
    assert f.evidence["missing_side"]["routes_not_serving_or_inactive"] == [
        "rtb-0dataspare (active)"
    ]
    assert "create-route --route-table-id rtb-0dataused" in f.remediation
