"""Rules of vpcaudit.rules.routing: blackholes, peering routes that go nowhere, CIDR overlaps."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    route,
    run_rule,
    without_kinds,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.routing import (
    PEERING_CIDR_OVERLAP,
    ROUTE_BLACKHOLE,
    ROUTE_NOT_TRANSITIVE,
    ROUTE_TOO_BROAD,
    VPC_CIDR_OVERLAP,
)


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


# -- route-blackhole ------------------------------------------------------------------------


def private_vpc(*routes: dict[str, str]) -> SnapshotBuilder:
    """vpc-a with one private subnet on rtb-a, whose routes are `routes` after the local one."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=list(routes))
    )


def test_blackhole_state_is_flagged_with_evidence_and_delete_command() -> None:
    snap = private_vpc(route("0.0.0.0/0", "i-0gone", state="blackhole")).build()
    f = only(run_rule(ROUTE_BLACKHOLE, snap))
    assert f.rule_id == "route-blackhole"
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "route-table"
    assert f.resource.resource_id == "rtb-a"
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:route-table/rtb-a"
    assert f.evidence == {
        "route_table_id": "rtb-a",
        "vpc_id": "vpc-a",
        "destination": "0.0.0.0/0",
        "target_type": "instance",
        "target_id": "i-0gone",
        "reason": "AWS reports as gone (route state blackhole)",
        "subnet_ids": ["subnet-a1"],
        "gateway_ids": [],
        "impact": "traffic from 1 subnet(s) to it is dropped",
    }
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 0.0.0.0/0"
    )


@pytest.mark.parametrize(
    ("destination", "target", "target_type", "flag"),
    [
        ("0.0.0.0/0", "igw-0detached", "gateway", "--destination-cidr-block"),
        ("192.168.0.0/16", "eni-0gone", "network-interface", "--destination-cidr-block"),
        ("::/0", "eigw-0gone", "egress-only-internet-gateway", "--destination-ipv6-cidr-block"),
        ("pl-0s3", "vpce-0gone", "gateway", "--destination-prefix-list-id"),
    ],
)
def test_blackhole_state_for_every_target_kind(
    destination: str, target: str, target_type: str, flag: str
) -> None:
    snap = private_vpc(route(destination, target, state="blackhole")).build()
    f = only(run_rule(ROUTE_BLACKHOLE, snap))
    assert (f.evidence["target_type"], f.evidence["target_id"]) == (target_type, target)
    assert f.evidence["destination"] == destination
    assert f"{flag} {destination}" in f.remediation


def test_each_blackhole_route_of_a_table_is_its_own_finding() -> None:
    snap = private_vpc(
        route("0.0.0.0/0", "i-0gone", state="blackhole"),
        route("172.16.0.0/12", "eni-0gone", state="blackhole"),
        route("192.168.0.0/16", "tgw-0hub"),
    ).build()
    result = run_rule(ROUTE_BLACKHOLE, snap)
    assert sorted(f.evidence["destination"] for f in result.findings) == [
        "0.0.0.0/0",
        "172.16.0.0/12",
    ]
    assert len({f.fingerprint for f in result.findings}) == 2


def test_active_routes_and_local_routes_are_fine() -> None:
    snap = (
        private_vpc(
            route("0.0.0.0/0", "nat-0live"),
            route("192.168.0.0/16", "tgw-0hub"),
            route("172.16.0.0/12", "i-0router"),
        )
        .nat_gateway("nat-0live", "vpc-a")
        .build()
    )
    assert run_rule(ROUTE_BLACKHOLE, snap).findings == ()


@pytest.mark.parametrize("state", ["deleted", "deleting", "failed"])
def test_nat_gateway_not_forwarding_is_flagged(state: str) -> None:
    # AWS may still call the route active for a moment; the NAT gateway's state decides.
    snap = private_vpc(route("0.0.0.0/0", "nat-0dead")).nat_gateway(
        "nat-0dead", "vpc-a", state=state
    )
    f = only(run_rule(ROUTE_BLACKHOLE, snap.build()))
    assert f.evidence["target_type"] == "nat-gateway"
    assert f.evidence["target_id"] == "nat-0dead"
    assert f.evidence["reason"] == f"is a NAT gateway in state {state}"
    assert f"nat-0dead, which is a NAT gateway in state {state}" in f.message


@pytest.mark.parametrize("state", ["available", "pending"])
def test_nat_gateway_available_or_pending_is_fine(state: str) -> None:
    snap = private_vpc(route("0.0.0.0/0", "nat-0ok")).nat_gateway("nat-0ok", "vpc-a", state=state)
    assert run_rule(ROUTE_BLACKHOLE, snap.build()).findings == ()


def test_nat_gateway_gone_while_nat_gateways_were_read() -> None:
    snap = private_vpc(route("0.0.0.0/0", "nat-0gone")).nat_gateway("nat-0other", "vpc-a")
    f = only(run_rule(ROUTE_BLACKHOLE, snap.build()))
    assert f.evidence["reason"] == "is a NAT gateway that no longer exists"
    assert f.evidence["target_id"] == "nat-0gone"


def test_nat_gateway_gone_but_nat_gateways_not_read_is_not_judged() -> None:
    snap = private_vpc(route("0.0.0.0/0", "nat-0unknown")).gap("DescribeNatGateways").build()
    assert run_rule(ROUTE_BLACKHOLE, snap).findings == ()


def test_nat_gateway_not_read_in_that_region_is_not_judged() -> None:
    # The NAT gateways of another region were read; this region's were not.
    snap = (
        private_vpc(route("0.0.0.0/0", "nat-0unknown"))
        .nat_gateway("nat-0eu", "vpc-eu", region=OTHER_REGION)
        .gap("DescribeNatGateways")
        .build()
    )
    assert run_rule(ROUTE_BLACKHOLE, snap).findings == ()


def test_snapshot_without_nat_gateways_kind_does_not_claim_the_nat_is_gone() -> None:
    # A schema-1 snapshot written before the NAT collector existed (as the fixtures in
    # tests/fixtures are) has no nat_gateways at all and no gap for them: the NAT gateways
    # were never read, so the rule cannot know the NAT gateway is gone.
    snap = without_kinds(private_vpc(route("0.0.0.0/0", "nat-0live")).build(), "nat_gateways")
    assert run_rule(ROUTE_BLACKHOLE, snap).findings == ()


def test_routes_to_ended_or_vanished_peerings_are_left_to_peering_inactive_lingering() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16")
        .vpc("vpc-c", "10.2.0.0/16")
        .peering("pcx-deleted", "vpc-a", "vpc-b", status="deleted")
        .route_table(
            "rtb-a",
            "vpc-a",
            main=True,
            routes=[
                route("10.1.0.0/16", "pcx-deleted", state="blackhole"),
                route("10.2.0.0/16", "pcx-vanished", state="blackhole"),
            ],
        )
    )
    assert run_rule(ROUTE_BLACKHOLE, b.build()).findings == ()


def test_blackhole_route_to_an_active_peering_is_flagged() -> None:
    # The peering is up, yet AWS marks the route blackhole: that is not lingering, it is dead.
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16")
        .peering("pcx-1", "vpc-a", "vpc-b")
        .route_table(
            "rtb-a", "vpc-a", main=True, routes=[route("10.1.0.0/16", "pcx-1", state="blackhole")]
        )
    )
    f = only(run_rule(ROUTE_BLACKHOLE, b.build()))
    assert f.evidence["target_type"] == "vpc-peering-connection"
    assert f.evidence["reason"] == "AWS reports as gone (route state blackhole)"


def test_blackhole_is_located_in_the_route_table_owner_account() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-x", "10.9.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .route_table(
            "rtb-x",
            "vpc-x",
            routes=[route("0.0.0.0/0", "i-0gone", state="blackhole")],
            account=OTHER_ACCOUNT,
            region=OTHER_REGION,
        )
        .build()
    )
    f = only(run_rule(ROUTE_BLACKHOLE, snap))
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.remediation.endswith(f"--region {OTHER_REGION}  # as account {OTHER_ACCOUNT}")


# -- peering routes: a pair of peered VPCs ----------------------------------------------------


def peered(
    *routes: dict[str, str],
    a_secondary: tuple[str, ...] = (),
    b_secondary: tuple[str, ...] = (),
    a_ipv6: tuple[str, ...] = (),
    b_ipv6: tuple[str, ...] = (),
    status: str = "active",
) -> SnapshotBuilder:
    """vpc-a (10.0.0.0/16, ours) peered by pcx-1 with vpc-b (10.1.0.0/16, OTHER_ACCOUNT);
    rtb-a serves vpc-a's subnet with `routes`."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", secondary=a_secondary, ipv6=a_ipv6)
        .vpc("vpc-b", "10.1.0.0/16", secondary=b_secondary, ipv6=b_ipv6, account=OTHER_ACCOUNT)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .peering("pcx-1", "vpc-a", "vpc-b", status=status)
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=list(routes))
    )


# -- peering-route-not-transitive -----------------------------------------------------------


def test_route_through_peering_to_a_third_network_is_flagged() -> None:
    snap = peered(route("10.1.0.0/16", "pcx-1"), route("10.2.0.0/16", "pcx-1")).build()
    f = only(run_rule(ROUTE_NOT_TRANSITIVE, snap))
    assert f.rule_id == "peering-route-not-transitive"
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("route-table", "rtb-a")
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence["route_table_id"] == "rtb-a"
    assert f.evidence["local_vpc_id"] == "vpc-a"
    assert f.evidence["destination"] == "10.2.0.0/16"
    assert f.evidence["peering_id"] == "pcx-1"
    assert f.evidence["peer"]["vpc_id"] == "vpc-b"
    assert f.evidence["peer"]["account_id"] == OTHER_ACCOUNT
    assert f.evidence["peer"]["cidrs"] == ["10.1.0.0/16"]
    assert "not transitive" in f.message
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 10.2.0.0/16"
    )


def test_destination_outside_primary_and_secondary_blocks_is_flagged() -> None:
    snap = peered(route("10.3.0.0/16", "pcx-1"), b_secondary=("10.5.0.0/16",)).build()
    f = only(run_rule(ROUTE_NOT_TRANSITIVE, snap))
    assert f.evidence["destination"] == "10.3.0.0/16"
    assert f.evidence["peer"]["cidrs"] == ["10.1.0.0/16", "10.5.0.0/16"]
    assert "10.1.0.0/16, 10.5.0.0/16" in f.message


def test_destination_inside_a_secondary_block_is_fine() -> None:
    snap = peered(
        route("10.1.0.0/16", "pcx-1"), route("10.5.4.0/24", "pcx-1"), b_secondary=("10.5.0.0/16",)
    ).build()
    assert run_rule(ROUTE_NOT_TRANSITIVE, snap).findings == ()


def test_secondary_block_known_only_from_the_scanned_peer_vpc_counts() -> None:
    # The peering reports the peer's primary block only; the scanned VPC has the secondary.
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16", secondary=("10.5.0.0/16",), account=OTHER_ACCOUNT)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .peering("pcx-1", "vpc-a", Side(OTHER_ACCOUNT, REGION, "vpc-b", ("10.1.0.0/16",)))
        .route_table(
            "rtb-a", "vpc-a", subnets=["subnet-a1"], routes=[route("10.5.0.0/24", "pcx-1")]
        )
    )
    assert run_rule(ROUTE_NOT_TRANSITIVE, b.build()).findings == ()


def test_ipv6_destination_outside_the_peer_ipv6_block_is_flagged() -> None:
    snap = peered(
        route("2600:1f18:b::/56", "pcx-1"),
        route("2600:1f18:c::/56", "pcx-1"),
        a_ipv6=("2600:1f18:a::/56",),
        b_ipv6=("2600:1f18:b::/56",),
    ).build()
    f = only(run_rule(ROUTE_NOT_TRANSITIVE, snap))
    assert f.evidence["destination"] == "2600:1f18:c::/56"
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-ipv6-cidr-block 2600:1f18:c::/56"
    )


def test_routes_to_the_peer_and_broad_routes_are_not_transitive_findings() -> None:
    # Default and supernet routes overlap the peer: peering-route-too-broad judges them.
    snap = peered(
        route("10.1.0.0/16", "pcx-1"),
        route("10.1.8.0/24", "pcx-1"),
        route("0.0.0.0/0", "pcx-1"),
        route("10.0.0.0/8", "pcx-1"),
    ).build()
    assert run_rule(ROUTE_NOT_TRANSITIVE, snap).findings == ()


@pytest.mark.parametrize("status", ["pending-acceptance", "deleted", "rejected"])
def test_routes_through_a_peering_that_is_not_active_are_not_judged(status: str) -> None:
    snap = peered(route("10.2.0.0/16", "pcx-1"), status=status).build()
    assert run_rule(ROUTE_NOT_TRANSITIVE, snap).findings == ()


def test_prefix_list_destination_through_peering_is_not_judged() -> None:
    snap = peered(route("pl-0abc", "pcx-1")).build()
    assert run_rule(ROUTE_NOT_TRANSITIVE, snap).findings == ()


def test_accepter_side_route_is_judged_against_the_requester_blocks() -> None:
    snap = (
        peered(route("10.1.0.0/16", "pcx-1"))
        .route_table(
            "rtb-b",
            "vpc-b",
            main=True,
            routes=[route("10.0.0.0/16", "pcx-1"), route("172.16.0.0/12", "pcx-1")],
            account=OTHER_ACCOUNT,
        )
        .build()
    )
    f = only(run_rule(ROUTE_NOT_TRANSITIVE, snap))
    assert (f.resource.resource_id, f.resource.account_id) == ("rtb-b", OTHER_ACCOUNT)
    assert f.evidence["local_vpc_id"] == "vpc-b"
    assert f.evidence["peer"]["vpc_id"] == "vpc-a"
    assert f.evidence["destination"] == "172.16.0.0/12"


# -- peering-route-too-broad ----------------------------------------------------------------


def test_default_route_through_peering_is_medium() -> None:
    snap = peered(route("0.0.0.0/0", "pcx-1")).build()
    f = only(run_rule(ROUTE_TOO_BROAD, snap))
    assert f.rule_id == "peering-route-too-broad"
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("route-table", "rtb-a")
    assert f.evidence["destination"] == "0.0.0.0/0"
    assert f.evidence["peering_id"] == "pcx-1"
    assert f.evidence["peer"]["vpc_id"] == "vpc-b"
    assert f.evidence["local_cidrs"] == ["10.0.0.0/16"]
    assert f.evidence["overlaps_local"] == ["10.0.0.0/16"]
    assert "default route" in f.message
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-route --route-table-id rtb-a --destination-cidr-block 10.1.0.0/16 "
            "--vpc-peering-connection-id pcx-1"
        ),
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 0.0.0.0/0"),
    ]


def test_ipv6_default_route_through_peering_is_medium() -> None:
    snap = peered(
        route("::/0", "pcx-1"), a_ipv6=("2600:1f18:a::/56",), b_ipv6=("2600:1f18:b::/56",)
    ).build()
    f = only(run_rule(ROUTE_TOO_BROAD, snap))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["destination"] == "::/0"
    assert f.evidence["overlaps_local"] == ["2600:1f18:a::/56"]
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-route --route-table-id rtb-a --destination-ipv6-cidr-block "
            "2600:1f18:b::/56 --vpc-peering-connection-id pcx-1"
        ),
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-ipv6-cidr-block ::/0"),
    ]


def test_prefix_wider_than_the_peer_block_is_low() -> None:
    snap = peered(route("10.0.0.0/8", "pcx-1"), b_secondary=("10.7.0.0/16",)).build()
    f = only(run_rule(ROUTE_TOO_BROAD, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["destination"] == "10.0.0.0/8"
    assert f.evidence["overlaps_local"] == ["10.0.0.0/16"]
    assert "wider than the peer's 10.1.0.0/16, 10.7.0.0/16" in f.message
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-route --route-table-id rtb-a --destination-cidr-block 10.1.0.0/16 "
            "--vpc-peering-connection-id pcx-1"
        ),
        cmd(
            "aws ec2 create-route --route-table-id rtb-a --destination-cidr-block 10.7.0.0/16 "
            "--vpc-peering-connection-id pcx-1"
        ),
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 10.0.0.0/8"),
    ]


def test_wide_prefix_not_overlapping_the_local_vpc() -> None:
    snap = peered(route("10.6.0.0/15", "pcx-1"), b_secondary=("10.6.0.0/16",)).build()
    f = only(run_rule(ROUTE_TOO_BROAD, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["overlaps_local"] == []
    assert "wider than the peer's 10.6.0.0/16." in f.message


@pytest.mark.parametrize("destination", ["10.1.0.0/16", "10.1.128.0/17", "10.1.3.0/24"])
def test_exact_or_narrower_peer_route_is_fine(destination: str) -> None:
    snap = peered(route(destination, "pcx-1")).build()
    assert run_rule(ROUTE_TOO_BROAD, snap).findings == ()


def test_broad_route_through_an_inactive_route_is_not_judged() -> None:
    snap = peered(route("0.0.0.0/0", "pcx-1", state="blackhole")).build()
    assert run_rule(ROUTE_TOO_BROAD, snap).findings == ()


# -- peering-cidr-overlap -------------------------------------------------------------------


def overlapping_pair(status: str) -> SnapshotBuilder:
    """vpc-a and vpc-b (another account) whose secondary blocks overlap, peered by pcx-1."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", secondary=("10.5.0.0/16",))
        .vpc("vpc-b", "10.1.0.0/16", secondary=("10.5.128.0/20",), account=OTHER_ACCOUNT)
        .peering("pcx-1", "vpc-a", "vpc-b", status=status)
    )


@pytest.mark.parametrize(
    ("status", "severity"),
    [
        ("active", Severity.HIGH),
        ("pending-acceptance", Severity.MEDIUM),
        ("provisioning", Severity.MEDIUM),
        ("failed", Severity.LOW),
    ],
)
def test_secondary_block_overlap_is_graded_by_status(status: str, severity: Severity) -> None:
    f = only(run_rule(PEERING_CIDR_OVERLAP, overlapping_pair(status).build()))
    assert f.rule_id == "peering-cidr-overlap"
    assert f.severity is severity
    assert f.resource.resource_type == "vpc-peering-connection"
    assert f.resource.resource_id == "pcx-1"
    # Located on the accepter, whose account was scanned.
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, REGION)
    assert f.evidence["status"] == status
    assert f.evidence["overlaps"] == ["10.5.0.0/16 ~ 10.5.128.0/20"]
    assert f.evidence["requester"]["vpc_id"] == "vpc-a"
    assert f.evidence["accepter"]["vpc_id"] == "vpc-b"
    assert f.evidence["requester"]["cidrs"] == ["10.0.0.0/16", "10.5.0.0/16"]
    assert "vpc-a" in f.remediation and "vpc-b" in f.remediation


@pytest.mark.parametrize("status", ["deleted", "deleting", "rejected", "expired"])
def test_ended_peerings_are_ignored(status: str) -> None:
    assert run_rule(PEERING_CIDR_OVERLAP, overlapping_pair(status).build()).findings == ()


def test_disjoint_peered_vpcs_are_fine() -> None:
    snap = peered(
        a_secondary=("10.5.0.0/16",),
        b_secondary=("10.6.0.0/16",),
        a_ipv6=("2600:1f18:a::/56",),
        b_ipv6=("2600:1f18:b::/56",),
    ).build()
    assert run_rule(PEERING_CIDR_OVERLAP, snap).findings == ()


def test_ipv6_overlap_between_peers_is_flagged() -> None:
    snap = peered(a_ipv6=("2600:1f18:a::/56",), b_ipv6=("2600:1f18:a::/64",)).build()
    f = only(run_rule(PEERING_CIDR_OVERLAP, snap))
    assert f.evidence["overlaps"] == ["2600:1f18:a::/56 ~ 2600:1f18:a::/64"]


def test_overlap_with_an_unscanned_peer_is_located_on_the_requester() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .peering("pcx-1", "vpc-a", Side(OTHER_ACCOUNT, REGION, "vpc-x", ("10.0.128.0/17",)))
        .build()
    )
    f = only(run_rule(PEERING_CIDR_OVERLAP, snap))
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence["overlaps"] == ["10.0.0.0/16 ~ 10.0.128.0/17"]
    assert f.evidence["accepter"]["scanned"] is False


# -- vpc-cidr-overlap -----------------------------------------------------------------------


def test_identical_blocks_across_accounts_are_info() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", name="prod")
        .vpc("vpc-b", "10.0.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    result = run_rule(VPC_CIDR_OVERLAP, snap)
    assert [f.resource.resource_id for f in result.findings] == ["vpc-a", "vpc-b"]
    a, b = result.findings
    assert a.rule_id == "vpc-cidr-overlap"
    assert a.severity is Severity.INFO
    assert a.resource.resource_type == "vpc"
    assert (a.resource.account_id, a.resource.region) == (ACCOUNT, REGION)
    assert (b.resource.account_id, b.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert a.evidence == {
        "cidrs": ["10.0.0.0/16"],
        "overlap_count": 1,
        "overlapping": [
            {
                "vpc_id": "vpc-b",
                "cidr": "10.0.0.0/16",
                "account_id": OTHER_ACCOUNT,
                "region": OTHER_REGION,
            }
        ],
    }
    assert b.evidence["overlapping"] == [
        {"vpc_id": "vpc-a", "cidr": "10.0.0.0/16", "account_id": ACCOUNT, "region": REGION}
    ]
    assert "vpc-a (prod)" in a.message


def test_nested_blocks_across_accounts_both_report() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-big", "10.0.0.0/8", account=OTHER_ACCOUNT)
        .vpc("vpc-a", "10.20.0.0/16")
        .vpc("vpc-c", "10.30.0.0/16", secondary=("192.168.0.0/16",))
        .vpc("vpc-d", "172.16.0.0/16")
        .build()
    )
    result = run_rule(VPC_CIDR_OVERLAP, snap)
    by_id = {f.resource.resource_id: f for f in result.findings}
    assert sorted(by_id) == ["vpc-a", "vpc-big", "vpc-c"]
    assert by_id["vpc-big"].evidence["overlap_count"] == 2
    assert {o["vpc_id"] for o in by_id["vpc-big"].evidence["overlapping"]} == {"vpc-a", "vpc-c"}
    assert by_id["vpc-a"].evidence["overlap_count"] == 1
    assert by_id["vpc-a"].evidence["overlapping"][0]["cidr"] == "10.0.0.0/8"
    assert by_id["vpc-c"].evidence["overlapping"] == [
        {"vpc_id": "vpc-big", "cidr": "10.0.0.0/8", "account_id": OTHER_ACCOUNT, "region": REGION}
    ]


def test_secondary_and_ipv6_blocks_count() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", secondary=("10.9.0.0/16",), ipv6=("2600:1f18:a::/56",))
        .vpc("vpc-b", "10.1.0.0/16", secondary=("10.9.8.0/24",))
        .vpc("vpc-c", "10.2.0.0/16", ipv6=("2600:1f18:a:10::/64",))
        .build()
    )
    by_id = {f.resource.resource_id: f for f in run_rule(VPC_CIDR_OVERLAP, snap).findings}
    assert sorted(by_id) == ["vpc-a", "vpc-b", "vpc-c"]
    assert by_id["vpc-a"].evidence["overlap_count"] == 2
    assert by_id["vpc-b"].evidence["overlapping"][0]["cidr"] == "10.9.0.0/16"
    assert by_id["vpc-c"].evidence["overlapping"][0]["cidr"] == "2600:1f18:a::/56"


def test_disjoint_vpcs_are_fine() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16", account=OTHER_ACCOUNT)
        .vpc("vpc-c", "10.2.0.0/16", region=OTHER_REGION, ipv6=("2600:1f18:a::/56",))
        .vpc("vpc-d", "10.3.0.0/16", ipv6=("2600:1f18:b::/56",))
        .build()
    )
    assert run_rule(VPC_CIDR_OVERLAP, snap).findings == ()


def test_default_vpcs_are_ignored_unless_asked() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-def1", "172.31.0.0/16", is_default=True)
        .vpc("vpc-def2", "172.31.0.0/16", is_default=True, region=OTHER_REGION)
        .vpc("vpc-a", "10.0.0.0/16")
        .build()
    )
    assert run_rule(VPC_CIDR_OVERLAP, snap).findings == ()
    result = run_rule(VPC_CIDR_OVERLAP, snap, ignore_default_vpcs=False)
    assert sorted(f.resource.resource_id for f in result.findings) == ["vpc-def1", "vpc-def2"]
    assert all(f.evidence["overlap_count"] == 1 for f in result.findings)


def test_shared_vpc_seen_from_two_accounts_does_not_overlap_itself() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-shared", "10.0.0.0/16")
        .vpc("vpc-shared", "10.0.0.0/16", account=OTHER_ACCOUNT, owner=ACCOUNT)
        .build()
    )
    assert run_rule(VPC_CIDR_OVERLAP, snap).findings == ()


def test_sample_parameter_bounds_the_named_vpcs() -> None:
    b = SnapshotBuilder()
    for i in range(6):
        b.vpc(f"vpc-{i}", "10.0.0.0/16")
    result = run_rule(VPC_CIDR_OVERLAP, b.build(), sample=2)
    assert len(result.findings) == 6
    for f in result.findings:
        assert f.evidence["overlap_count"] == 5
        assert len(f.evidence["overlapping"]) == 2
        assert f.resource.resource_id not in {o["vpc_id"] for o in f.evidence["overlapping"]}


def test_two_thousand_identical_vpcs_each_report_1999_with_a_bounded_sample() -> None:
    n = 2000
    b = SnapshotBuilder()
    for i in range(n):
        b.vpc(f"vpc-{i:05d}", "10.0.0.0/16", account=f"{100000000000 + i % 40:012d}")
    result = run_rule(VPC_CIDR_OVERLAP, b.build())
    assert len(result.findings) == n
    assert len({f.resource.resource_id for f in result.findings}) == n
    for f in result.findings:
        assert f.evidence["overlap_count"] == n - 1
        assert len(f.evidence["overlapping"]) == 5
        named = {o["vpc_id"] for o in f.evidence["overlapping"]}
        assert len(named) == 5
        assert f.resource.resource_id not in named
