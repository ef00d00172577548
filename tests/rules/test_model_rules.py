"""Rules that now ask the network model (issue 10, part 4): peering-route-one-way judged per
subnet and per family by longest prefix, peering-route-too-broad against the union of the
peer's blocks, nat-traffic-for-gateway-service through a Transit Gateway to a central egress
NAT gateway, and endpoint-gateway-unused on tables no subnet uses.

Every expectation is written from AWS's documented behaviour: a reply is routed by the
replying subnet's own table (explicit association, else main), by longest prefix, IPv4 and
IPv6 apart; gateway endpoints serve only their own VPC's route tables.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    open_nacl_entries,
    permission,
    route,
    run_rule,
    tgw_route,
    unverified_reasons,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.endpoints import GATEWAY_UNUSED, NAT_TRAFFIC
from vpcaudit.rules.peering import ROUTE_ONE_WAY
from vpcaudit.rules.routing import ROUTE_TOO_BROAD
from vpcaudit.snapshot import Snapshot

PCX = "pcx-0ab"
A6, B6 = "2600:1f18:a::/56", "2600:1f18:b::/56"


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def by_missing_vpc(result: Evaluation) -> dict[str, Finding]:
    """One-way findings keyed by the VPC that lacks the route back."""
    out = {f.evidence["missing_side"]["vpc_id"]: f for f in result.findings}
    assert len(out) == len(result.findings)
    return out


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


def gaps(f: Finding) -> list[dict[str, Any]]:
    """The (family, table) entries of a one-way finding's missing side."""
    out: list[dict[str, Any]] = f.evidence["missing_side"]["without_return_route"]
    return out


# -- peering-route-one-way -------------------------------------------------------------------


def dual_stack(
    a_routes: list[dict[str, str]],
    b_routes: list[dict[str, str]],
    *,
    b_account: str = ACCOUNT,
    b_region: str = REGION,
    b_main: list[dict[str, str]] | None = None,
) -> SnapshotBuilder:
    """vpc-a (10.0.0.0/16 + A6) and vpc-b (10.1.0.0/16 + B6), one dual-stack subnet each on
    its own table (rtb-a, rtb-b; the main tables serve nothing), peered by PCX; b_main are
    the routes of vpc-b's main table."""
    where = {"account": b_account, "region": b_region}
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=[A6])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", ipv6=["2600:1f18:a:1::/64"])
        .route_table("rtb-amain", "vpc-a", main=True)
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=a_routes)
        .vpc("vpc-b", "10.1.0.0/16", ipv6=[B6], **where)
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24", ipv6=["2600:1f18:b:1::/64"], **where)
        .route_table("rtb-bmain", "vpc-b", main=True, routes=b_main or [], **where)
        .route_table("rtb-b", "vpc-b", subnets=["subnet-b1"], routes=b_routes, **where)
        .peering(PCX, "vpc-a", "vpc-b")
    )


def test_issue_each_side_routes_a_different_family_is_one_way_twice() -> None:
    # Issue 11 item 11 (a): A sends B's IPv4 through the peering, B sends A's IPv6 back.
    # Each side has *a* route through the peering (the old check passed), but IPv4 replies
    # from B and IPv6 replies from A have none: two one-way findings, one per missing side.
    snap = dual_stack([route("10.1.0.0/16", PCX)], [route(A6, PCX)]).build()
    found = by_missing_vpc(run_rule(ROUTE_ONE_WAY, snap))
    assert set(found) == {"vpc-a", "vpc-b"}
    b, a = found["vpc-b"], found["vpc-a"]
    assert b.evidence["families"] == ["IPv4"]
    assert a.evidence["families"] == ["IPv6"]
    assert b.evidence["routed_side"]["vpc_id"] == "vpc-a"
    assert b.evidence["routed_side"]["route_tables"] == ["rtb-a"]
    assert b.evidence["routed_side"]["subnet_ids"] == ["subnet-a1"]
    assert gaps(b) == [
        {
            "family": "IPv4",
            "route_table_id": "rtb-b",
            "subnet_ids": ["subnet-b1"],
            "unanswered": [
                {"subnet_id": "subnet-a1", "cidr": "10.0.1.0/24", "return_route": "no route"}
            ],
            "unanswered_count": 1,
        }
    ]
    assert [g["family"] for g in gaps(a)] == ["IPv6"]
    assert gaps(a)[0]["unanswered"][0]["cidr"] == "2600:1f18:b:1::/64"
    assert b.remediation == cmd(
        "aws ec2 create-route --route-table-id rtb-b --destination-cidr-block 10.0.0.0/16 "
        f"--vpc-peering-connection-id {PCX}"
    )
    assert a.remediation == cmd(
        f"aws ec2 create-route --route-table-id rtb-a --destination-ipv6-cidr-block {B6} "
        f"--vpc-peering-connection-id {PCX}"
    )
    assert "IPv4" in b.message and "replies cannot return" in b.message
    assert "IPv6" in a.message


def test_both_families_routed_both_ways_is_fine() -> None:
    snap = dual_stack(
        [route("10.1.0.0/16", PCX), route(B6, PCX)], [route("10.0.0.0/16", PCX), route(A6, PCX)]
    ).build()
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    assert result.unverified == ()


def test_ipv6_only_one_way_across_accounts_and_regions() -> None:
    # A variant: only IPv6 is routed (A -> B), B is another account in another region.
    snap = dual_stack([route(B6, PCX)], [], b_account=OTHER_ACCOUNT, b_region=OTHER_REGION).build()
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence["families"] == ["IPv6"]
    assert f.remediation == cmd(
        f"aws ec2 create-route --route-table-id rtb-b --destination-ipv6-cidr-block {A6} "
        f"--vpc-peering-connection-id {PCX}",
        OTHER_ACCOUNT,
        OTHER_REGION,
    )


def three_tables(
    b1: list[dict[str, str]], b2: list[dict[str, str]], b3: list[dict[str, str]]
) -> SnapshotBuilder:
    """vpc-a's two subnets (10.0.1.0/24, 10.0.2.0/24) send vpc-b's /16 through PCX; vpc-b has
    three subnets, each on its own table with the given routes."""
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24")
        .route_table(
            "rtb-a",
            "vpc-a",
            main=True,
            subnets=["subnet-a1", "subnet-a2"],
            routes=[route("10.1.0.0/16", PCX)],
        )
        .vpc("vpc-b", "10.1.0.0/16")
        .route_table("rtb-bmain", "vpc-b", main=True)
    )
    for i, routes in enumerate((b1, b2, b3), start=1):
        b.subnet(f"subnet-b{i}", "vpc-b", f"10.1.{i}.0/24")
        b.route_table(f"rtb-b{i}", "vpc-b", subnets=[f"subnet-b{i}"], routes=routes)
    return b.peering(PCX, "vpc-a", "vpc-b")


def test_issue_return_route_to_a_slash_24_holding_no_sender() -> None:
    # Issue 11 item 11 (b): one of vpc-b's three tables routes back only 10.0.9.0/24, which
    # holds neither of vpc-a's sending subnets: replies from subnet-b1 go nowhere.
    back = [route("10.0.0.0/16", PCX)]
    snap = three_tables([route("10.0.9.0/24", PCX)], back, back).build()
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert f.evidence["missing_side"]["vpc_id"] == "vpc-b"
    assert f.evidence["routed_side"]["subnet_ids"] == ["subnet-a1", "subnet-a2"]
    assert gaps(f) == [
        {
            "family": "IPv4",
            "route_table_id": "rtb-b1",
            "subnet_ids": ["subnet-b1"],
            "unanswered": [
                {"subnet_id": "subnet-a1", "cidr": "10.0.1.0/24", "return_route": "no route"},
                {"subnet_id": "subnet-a2", "cidr": "10.0.2.0/24", "return_route": "no route"},
            ],
            "unanswered_count": 2,
        }
    ]
    assert "rtb-b1" in f.message
    assert f.remediation == cmd(
        "aws ec2 create-route --route-table-id rtb-b1 --destination-cidr-block 10.0.0.0/16 "
        f"--vpc-peering-connection-id {PCX}"
    )


def test_slash_24_return_route_with_the_other_tables_unrouted() -> None:
    # The same /24, and the two other tables route nothing through the peering: those are
    # subnets kept off it on purpose (isolated), so only rtb-b1's mistake is reported.
    snap = three_tables([route("10.0.9.0/24", PCX)], [], []).build()
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert [g["route_table_id"] for g in gaps(f)] == ["rtb-b1"]


def test_return_route_holding_the_sender_is_fine() -> None:
    # A /24 route back is enough when it holds the sending subnet (AWS's "specific routes").
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", main=True, routes=[route("10.1.1.0/24", PCX)])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .subnet("subnet-b2", "vpc-b", "10.1.2.0/24")
        .route_table("rtb-b1", "vpc-b", subnets=["subnet-b1"], routes=[route("10.0.1.0/24", PCX)])
        # subnet-b2 is not routed to by vpc-a and routes nothing back: nothing to reply to.
        .route_table("rtb-b2", "vpc-b", main=True, subnets=["subnet-b2"])
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()
    assert result.unverified == ()


def test_isolated_subnet_beside_routed_ones_is_left_alone() -> None:
    # vpc-a routes all of vpc-b; vpc-b's app subnet routes back, its database subnet's table
    # has no route through the peering at all: an isolated tier, not a forgotten route.
    back = [route("10.0.0.0/16", PCX)]
    snap = three_tables(back, back, []).build()
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()


def test_forward_route_shadowed_by_a_more_specific_route_sends_nothing() -> None:
    # vpc-a's route to vpc-b through the peering loses every vpc-b subnet to a longer route
    # through a Transit Gateway: nothing goes through the peering, so nothing is one-way.
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table(
            "rtb-a",
            "vpc-a",
            main=True,
            routes=[route("10.1.0.0/16", PCX), route("10.1.0.0/17", "tgw-0hub")],
        )
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table("rtb-b", "vpc-b", main=True)
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    assert run_rule(ROUTE_ONE_WAY, snap).findings == ()


def test_return_shadowed_by_a_more_specific_route_elsewhere() -> None:
    # vpc-b routes vpc-a's /16 back through the peering, but subnet-a1's own /24 to a Transit
    # Gateway: the longer route wins, so subnet-a1's replies do not use the peering. The fix
    # cannot be a create-route (that /24 exists): it says which route to replace, if wanted.
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", main=True, routes=[route("10.1.0.0/16", PCX)])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table(
            "rtb-b",
            "vpc-b",
            main=True,
            routes=[route("10.0.0.0/16", PCX), route("10.0.1.0/24", "tgw-0hub")],
        )
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    [gap] = gaps(f)
    assert gap["unanswered"] == [
        {"subnet_id": "subnet-a1", "cidr": "10.0.1.0/24", "return_route": "10.0.1.0/24 -> tgw-0hub"}
    ]
    assert "create-route" not in f.remediation
    assert f.remediation.startswith("# rtb-b sends 10.0.1.0/24 to tgw-0hub")


def test_return_route_covering_part_of_the_subnet() -> None:
    # A /25 back covers half of subnet-a1's addresses; the block route completes it.
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-a", "vpc-a", main=True, routes=[route("10.1.0.0/16", PCX)])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table("rtb-b", "vpc-b", main=True, routes=[route("10.0.1.0/25", PCX)])
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert gaps(f)[0]["unanswered"][0]["return_route"] == (
        f"10.0.1.0/25 -> {PCX} (covers only part of 10.0.1.0/24)"
    )
    assert f.remediation == cmd(
        "aws ec2 create-route --route-table-id rtb-b --destination-cidr-block 10.0.0.0/16 "
        f"--vpc-peering-connection-id {PCX}"
    )


def test_sender_in_a_secondary_block_gets_that_block_back() -> None:
    # Another CIDR split: vpc-a's sending subnet is in its secondary block 100.64.0.0/16;
    # vpc-b routes only the primary block back, so the fix routes the secondary one.
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", secondary=["100.64.0.0/16"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "100.64.1.0/24")
        .route_table(
            "rtb-a",
            "vpc-a",
            main=True,
            routes=[route("10.1.0.0/16", PCX)],
            subnets=["subnet-a1", "subnet-a2"],
        )
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table("rtb-b", "vpc-b", main=True, routes=[route("10.0.0.0/16", PCX)])
        .peering(PCX, "vpc-a", "vpc-b")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert [u["subnet_id"] for u in gaps(f)[0]["unanswered"]] == ["subnet-a2"]
    assert f.remediation == cmd(
        "aws ec2 create-route --route-table-id rtb-b --destination-cidr-block 100.64.0.0/16 "
        f"--vpc-peering-connection-id {PCX}"
    )


def test_blackhole_route_back_is_replaced_not_created() -> None:
    # create-route would fail on the existing destination; replace-route cuts nothing.
    snap = dual_stack(
        [route("10.1.0.0/16", PCX)], [route("10.0.0.0/16", PCX, state="blackhole")]
    ).build()
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert gaps(f)[0]["unanswered"][0]["return_route"] == f"10.0.0.0/16 -> {PCX} (blackhole)"
    assert f.remediation == cmd(
        "aws ec2 replace-route --route-table-id rtb-b --destination-cidr-block 10.0.0.0/16 "
        f"--vpc-peering-connection-id {PCX}"
    )


def test_subnet_on_the_main_table_replies_by_the_main_table() -> None:
    # subnet-b2 has no explicit association: its replies use rtb-bmain.
    back = [route("10.0.0.0/16", PCX)]
    snap = (
        dual_stack([route("10.1.0.0/16", PCX)], back)
        .subnet("subnet-b2", "vpc-b", "10.1.2.0/24")
        .build()
    )
    # rtb-bmain has no route through the peering at all while rtb-b does: isolated by design.
    assert run_rule(ROUTE_ONE_WAY, snap).findings == ()
    snap = (
        dual_stack([route("10.1.0.0/16", PCX)], back, b_main=[route("10.0.9.0/24", PCX)])
        .subnet("subnet-b2", "vpc-b", "10.1.2.0/24")
        .build()
    )
    f = only(run_rule(ROUTE_ONE_WAY, snap))
    assert gaps(f)[0]["route_table_id"] == "rtb-bmain"
    assert gaps(f)[0]["subnet_ids"] == ["subnet-b2"]


def test_route_back_through_a_customer_prefix_list_counts() -> None:
    # AWS routes a prefix-list entry like any CIDR route: vpc-b's route back to a
    # customer-managed list holding vpc-a's block through the peering answers subnet-a1.
    snap = (
        dual_stack([route("10.1.0.0/16", PCX)], [route("pl-0corp", PCX)])
        .prefix_list("pl-0corp", "corp-ranges", owner=ACCOUNT, entries=["10.0.0.0/16"])
        .build()
    )
    result = run_rule(ROUTE_ONE_WAY, snap)
    assert result.findings == ()


def test_many_unanswered_subnets_are_sampled_and_counted() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .route_table("rtb-a", "vpc-a", main=True, routes=[route("10.1.0.0/16", PCX)])
        .vpc("vpc-b", "10.1.0.0/16")
        .subnet("subnet-b1", "vpc-b", "10.1.1.0/24")
        .route_table("rtb-b", "vpc-b", main=True)
        .peering(PCX, "vpc-a", "vpc-b")
    )
    for i in range(12):
        b.subnet(f"subnet-a{i:02d}", "vpc-a", f"10.0.{i}.0/24")
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    [gap] = gaps(f)
    assert len(gap["unanswered"]) == 10
    assert gap["unanswered_count"] == 12
    # One route for the whole block answers all twelve.
    assert f.remediation.count("create-route") == 1


# -- peering-route-too-broad ------------------------------------------------------------------


def peer_of(
    *routes: dict[str, str], b: str = "10.1.0.0/17", b_more: tuple[str, ...] = ()
) -> Snapshot:
    """vpc-a's rtb-a routes `routes`; vpc-b (OTHER_ACCOUNT) has the blocks b + b_more."""
    v4 = [c for c in b_more if ":" not in c]
    v6 = [c for c in b_more if ":" in c]
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=[A6])
        .vpc("vpc-b", b, secondary=v4, ipv6=v6, account=OTHER_ACCOUNT)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .peering("pcx-1", "vpc-a", "vpc-b")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"], routes=list(routes))
        .build()
    )


def test_issue_route_equal_to_the_union_of_two_peer_blocks_is_fine() -> None:
    # 10.1.0.0/16 = 10.1.0.0/17 + 10.1.128.0/17: the route claims nothing the peer lacks.
    snap = peer_of(route("10.1.0.0/16", "pcx-1"), b_more=("10.1.128.0/17",))
    assert run_rule(ROUTE_TOO_BROAD, snap).findings == ()


def test_issue_route_wider_than_a_single_peer_block_still_fires() -> None:
    f = only(run_rule(ROUTE_TOO_BROAD, peer_of(route("10.1.0.0/16", "pcx-1"))))
    assert f.severity is Severity.LOW
    assert f.evidence["outside_peer"] == ["10.1.128.0/17"]
    assert "wider than the peer's 10.1.0.0/17." in f.message
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-route --route-table-id rtb-a --destination-cidr-block 10.1.0.0/17 "
            "--vpc-peering-connection-id pcx-1"
        ),
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 10.1.0.0/16"),
    ]


@pytest.mark.parametrize(
    ("blocks", "outside"),
    [
        (("10.1.128.0/18", "10.1.192.0/18"), []),
        (("10.1.128.0/18",), ["10.1.192.0/18"]),
        (("10.1.192.0/18",), ["10.1.128.0/18"]),
    ],
)
def test_three_way_split(blocks: tuple[str, ...], outside: list[str]) -> None:
    # Another split: /17 + /18 + /18 fill the /16; drop either /18 and that /18 is extra.
    result = run_rule(ROUTE_TOO_BROAD, peer_of(route("10.1.0.0/16", "pcx-1"), b_more=blocks))
    assert [f.evidence["outside_peer"] for f in result.findings] == ([outside] if outside else [])


def test_ipv6_union_of_two_halves_is_fine_and_one_half_fires() -> None:
    halves = ("2600:1f18:b::/57", "2600:1f18:b:80::/57")
    whole = peer_of(route("2600:1f18:b::/56", "pcx-1"), b_more=halves)
    assert run_rule(ROUTE_TOO_BROAD, whole).findings == ()
    half = peer_of(route("2600:1f18:b::/56", "pcx-1"), b_more=halves[:1])
    f = only(run_rule(ROUTE_TOO_BROAD, half))
    assert f.evidence["outside_peer"] == ["2600:1f18:b:80::/57"]
    assert "--destination-ipv6-cidr-block 2600:1f18:b::/57" in f.remediation


def test_block_already_routed_alone_is_not_created_again() -> None:
    # rtb-a already routes the peer's /17; the fix only deletes the wide route.
    snap = peer_of(route("10.1.0.0/17", "pcx-1"), route("10.1.0.0/16", "pcx-1"))
    f = only(run_rule(ROUTE_TOO_BROAD, snap))
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 10.1.0.0/16"
    )


def test_route_inside_a_peer_block_or_outside_every_block_is_not_too_broad() -> None:
    # Inside: fine. Outside every block: peering-route-not-transitive's finding, not this one.
    snap = peer_of(route("10.1.0.0/18", "pcx-1"), route("10.2.0.0/16", "pcx-1"))
    assert run_rule(ROUTE_TOO_BROAD, snap).findings == ()


# -- nat-traffic-for-gateway-service through a Transit Gateway --------------------------------


def central_egress(
    *,
    spoke_account: str = ACCOUNT,
    egress_account: str = ACCOUNT,
    egress_scanned: bool = True,
    tgw_default: str = "att-egress",
    egress_routes: list[dict[str, str]] | None = None,
) -> SnapshotBuilder:
    """AWS's centralized-egress pattern: vpc-spoke (10.1.0.0/16) sends 0.0.0.0/0 to tgw-0hub;
    the spoke table sends it to the egress VPC's attachment, whose subnet's table sends it to
    nat-egress, whose public subnet goes out through igw-egress. Default NACLs, open.
    egress_routes: more routes of the egress VPC's attachment-subnet table."""
    b = SnapshotBuilder(org_account_ids=[ACCOUNT, OTHER_ACCOUNT])
    b.transit_gateway("tgw-0hub", default_association=False, default_propagation=False)
    spoke = {"account": spoke_account}
    b.vpc("vpc-spoke", "10.1.0.0/16", **spoke)
    b.subnet("subnet-app1", "vpc-spoke", "10.1.1.0/24", az="a", **spoke)
    b.subnet("subnet-app2", "vpc-spoke", "10.1.2.0/24", az="b", **spoke)
    b.subnet("subnet-spoketgw", "vpc-spoke", "10.1.255.0/28", az="a", **spoke)
    b.route_table(
        "rtb-spoke",
        "vpc-spoke",
        subnets=["subnet-app1", "subnet-app2"],
        routes=[route("0.0.0.0/0", "tgw-0hub")],
        **spoke,
    )
    b.route_table("rtb-spokemain", "vpc-spoke", main=True, **spoke)
    b.network_acl(
        "acl-spoke",
        "vpc-spoke",
        default=True,
        subnets=["subnet-app1", "subnet-app2", "subnet-spoketgw"],
        entries=open_nacl_entries(ipv6=False),
        **spoke,
    )
    # The TGW owner lists every attachment; the spoke's account lists its own too.
    b.tgw_attachment(
        "att-spoke",
        "vpc-spoke",
        subnets=["subnet-spoketgw"],
        resource_owner=spoke_account,
        tgw_owner=ACCOUNT,
    )
    if spoke_account != ACCOUNT:
        b.tgw_attachment(
            "att-spoke", "vpc-spoke", subnets=["subnet-spoketgw"], tgw_owner=ACCOUNT, **spoke
        )
    b.tgw_attachment(
        "att-egress",
        "vpc-egress",
        subnets=["subnet-egresstgw"],
        resource_owner=egress_account,
        tgw_owner=ACCOUNT,
    )
    b.tgw_route_table(
        "tgw-rtb-spokes",
        "tgw-0hub",
        associations=["att-spoke"],
        routes=[tgw_route("0.0.0.0/0", [tgw_default])],
    )
    b.tgw_route_table(
        "tgw-rtb-egress",
        "tgw-0hub",
        associations=["att-egress"],
        routes=[tgw_route("10.1.0.0/16", ["att-spoke"])],
    )
    if not egress_scanned:
        return b
    egress = {"account": egress_account}
    b.vpc("vpc-egress", "10.0.0.0/16", **egress)
    b.subnet("subnet-egresstgw", "vpc-egress", "10.0.0.0/28", az="a", **egress)
    b.subnet("subnet-egresspub", "vpc-egress", "10.0.1.0/24", az="a", **egress)
    b.route_table(
        "rtb-egresstgw",
        "vpc-egress",
        subnets=["subnet-egresstgw"],
        routes=[route("0.0.0.0/0", "nat-egress"), *(egress_routes or [])],
        **egress,
    )
    b.route_table(
        "rtb-egresspub",
        "vpc-egress",
        main=True,
        subnets=["subnet-egresspub"],
        routes=[route("0.0.0.0/0", "igw-egress"), route("10.0.0.0/8", "tgw-0hub")],
        **egress,
    )
    b.internet_gateway("igw-egress", "vpc-egress", **egress)
    b.nat_gateway("nat-egress", "vpc-egress", "subnet-egresspub", private_ip="10.0.1.10", **egress)
    b.network_acl(
        "acl-egress",
        "vpc-egress",
        default=True,
        subnets=["subnet-egresstgw", "subnet-egresspub"],
        entries=open_nacl_entries(ipv6=False),
        **egress,
    )
    return b


def nat_findings(snap_builder: SnapshotBuilder) -> dict[str, Finding]:
    """nat-traffic findings keyed by route table."""
    result = run_rule(NAT_TRAFFIC, snap_builder.build())
    return {f.resource.resource_id: f for f in result.findings}


def test_default_route_to_a_tgw_ending_in_a_central_nat_flags_the_source_table() -> None:
    found = nat_findings(central_egress())
    # The spoke table pays TGW and NAT processing; the egress VPC's own NAT-routed table is
    # judged by the direct branch, as before (one finding each, none twice).
    assert set(found) == {"rtb-spoke", "rtb-egresstgw"}
    f = found["rtb-spoke"]
    assert f.severity is Severity.MEDIUM
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence["nat_gateway_id"] == "nat-egress"
    assert f.evidence["nat_vpc_id"] == "vpc-egress"
    assert f.evidence["transit_gateway_id"] == "tgw-0hub"
    assert f.evidence["missing_services"] == ["s3", "dynamodb"]
    assert f.evidence["subnet_ids"] == ["subnet-app1", "subnet-app2"]
    path = f.evidence["path"]
    assert "route-table rtb-spoke: route 0.0.0.0/0 -> tgw-0hub" in path
    assert "transit-gateway-route-table tgw-rtb-spokes: route 0.0.0.0/0 -> att-egress" in path
    assert "nat-gateway nat-egress: source NAT" in path
    assert "Transit Gateway tgw-0hub" in f.message and "nat-egress" in f.message
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-spoke "
            f"--service-name com.amazonaws.{REGION}.{s} --route-table-ids rtb-spoke"
        )
        for s in ("s3", "dynamodb")
    ]
    assert "transit_gateway_id" not in found["rtb-egresstgw"].evidence


def test_spoke_with_its_own_gateway_endpoints_is_fine() -> None:
    b = (
        central_egress()
        .endpoint("vpce-s3", "vpc-spoke", "s3", endpoint_type="Gateway", route_tables=["rtb-spoke"])
        .endpoint(
            "vpce-ddb", "vpc-spoke", "dynamodb", endpoint_type="Gateway", route_tables=["rtb-spoke"]
        )
    )
    assert set(nat_findings(b)) == {"rtb-egresstgw"}


def test_spoke_with_only_an_s3_gateway_endpoint_pays_for_dynamodb() -> None:
    b = central_egress().endpoint(
        "vpce-s3", "vpc-spoke", "s3", endpoint_type="Gateway", route_tables=["rtb-spoke"]
    )
    assert nat_findings(b)["rtb-spoke"].evidence["missing_services"] == ["dynamodb"]


def test_gateway_endpoint_in_the_egress_vpc_does_not_serve_the_spoke() -> None:
    # Gateway endpoints serve only their own VPC's route tables: the spoke still pays.
    b = central_egress().endpoint(
        "vpce-s3e", "vpc-egress", "s3", endpoint_type="Gateway", route_tables=["rtb-egresstgw"]
    )
    assert nat_findings(b)["rtb-spoke"].evidence["missing_services"] == ["s3", "dynamodb"]


def test_interface_endpoint_with_private_dns_takes_its_service_off_the_nat_path() -> None:
    # With private DNS, S3's name resolves to the endpoint's interface in the spoke: S3 does
    # not cross the TGW (endpoint-interface-for-gateway-service weighs that endpoint), while
    # DynamoDB still pays for the NAT gateway.
    b = (
        central_egress()
        .endpoint(
            "vpce-s3if",
            "vpc-spoke",
            "s3",
            subnets=["subnet-app1"],
            groups=["sg-ep"],
            network_interfaces=["eni-s3if"],
        )
        .network_interface(
            "eni-s3if",
            "subnet-app1",
            private_ip="10.1.1.50",
            groups=["sg-ep"],
            interface_type="vpc_endpoint",
            requester_managed=True,
        )
        .security_group(
            "sg-ep", "vpc-spoke", ingress=[permission("tcp", 443, cidrs=["10.1.0.0/16"])]
        )
    )
    f = nat_findings(b)["rtb-spoke"]
    assert f.evidence["missing_services"] == ["dynamodb"]
    assert "dynamodb" in f.remediation and ".s3 " not in f.remediation


def test_a_service_route_in_the_egress_vpc_is_not_nat_for_that_service() -> None:
    # The egress VPC's attachment-subnet table has a DynamoDB prefix-list route: DynamoDB
    # traffic does not reach the NAT gateway there (AWS does not let traffic from outside a
    # VPC use its gateway endpoint, so it is not NATed either way); S3 still is.
    pl = "pl-02cd2c6b"
    b = central_egress(egress_routes=[route(pl, "vpce-ddbe")])
    b.prefix_list(pl, f"com.amazonaws.{REGION}.dynamodb")
    b.endpoint(
        "vpce-ddbe",
        "vpc-egress",
        "dynamodb",
        endpoint_type="Gateway",
        route_tables=["rtb-egresstgw"],
    )
    found = nat_findings(b)
    assert found["rtb-spoke"].evidence["missing_services"] == ["s3"]


def test_spoke_in_another_account_of_a_shared_tgw() -> None:
    # A variant: the spoke is another account's VPC on the network account's shared TGW.
    found = nat_findings(central_egress(spoke_account=OTHER_ACCOUNT))
    f = found["rtb-spoke"]
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, REGION)
    assert f.evidence["nat_gateway_id"] == "nat-egress"
    assert f.remediation.endswith(f"# as account {OTHER_ACCOUNT}")


def test_egress_vpc_in_an_account_not_scanned_is_unverifiable() -> None:
    b = central_egress(egress_account=OTHER_ACCOUNT, egress_scanned=False)
    result = run_rule(NAT_TRAFFIC, b.build())
    assert result.findings == ()
    [(resource_id, reason)] = unverified_reasons(result)
    assert resource_id == "rtb-spoke"
    assert "UNSCANNED_ACCOUNT" in reason
    assert OTHER_ACCOUNT in reason


def test_tgw_default_route_to_on_premises_is_not_nat_traffic() -> None:
    # Egress inspected on-premises (a VPN attachment), not through a NAT gateway.
    b = central_egress(tgw_default="att-vpn")
    b.vpn_connection("vpn-0dc", transit_gateway="tgw-0hub")
    b.tgw_attachment("att-vpn", "", resource_type="vpn", resource_id="vpn-0dc")
    found = nat_findings(b)
    assert "rtb-spoke" not in found


def test_tgw_routes_not_read_is_unverifiable() -> None:
    b = central_egress().gap("SearchTransitGatewayRoutes")
    result = run_rule(NAT_TRAFFIC, b.build())
    assert "rtb-spoke" not in {f.resource.resource_id for f in result.findings}
    assert [r for r, _ in unverified_reasons(result)] == ["rtb-spoke"]


# -- endpoint-gateway-unused ------------------------------------------------------------------


def every_subnet_associated(*, account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
    """vpc-a: two subnets, each explicitly on its own table; the main table serves none."""
    where = {"account": account, "region": region}
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", **where)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", **where)
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", **where)
        .route_table("rtb-main", "vpc-a", main=True, **where)
        .route_table("rtb-a1", "vpc-a", subnets=["subnet-a1"], **where)
        .route_table("rtb-a2", "vpc-a", subnets=["subnet-a2"], **where)
    )


def test_issue_endpoint_only_on_the_main_table_no_subnet_uses_is_unused() -> None:
    snap = (
        every_subnet_associated()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-main"])
        .build()
    )
    f = only(run_rule(GATEWAY_UNUSED, snap))
    assert f.evidence == {
        "service": f"com.amazonaws.{REGION}.s3",
        "vpc_id": "vpc-a",
        "serving_route_tables": ["rtb-a1", "rtb-a2"],
        "associated_route_tables": ["rtb-main"],
    }
    assert "none uses the main table" in f.message
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-a1 rtb-a2"
    )


def test_endpoint_on_a_custom_table_no_subnet_uses_in_another_account_and_region() -> None:
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    snap = (
        every_subnet_associated(**where)
        .route_table("rtb-spare", "vpc-a", **where)
        .endpoint(
            "vpce-ddb",
            "vpc-a",
            "dynamodb",
            endpoint_type="Gateway",
            route_tables=["rtb-spare"],
            **where,
        )
        .build()
    )
    f = only(run_rule(GATEWAY_UNUSED, snap))
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence["associated_route_tables"] == ["rtb-spare"]
    assert "main table" not in f.message


def test_main_table_serving_an_unassociated_subnet_is_used() -> None:
    snap = (
        every_subnet_associated()
        .subnet("subnet-a3", "vpc-a", "10.0.3.0/24")
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-main"])
        .build()
    )
    assert run_rule(GATEWAY_UNUSED, snap).findings == ()


def test_main_and_a_serving_table_is_used() -> None:
    # Partly used: endpoint-gateway-partial's concern, not this rule's.
    snap = (
        every_subnet_associated()
        .endpoint(
            "vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-main", "rtb-a1"]
        )
        .build()
    )
    assert run_rule(GATEWAY_UNUSED, snap).findings == ()


def test_vpc_without_subnets_yet_is_left_alone() -> None:
    # An idle new VPC: its first subnets will use the main table, and the endpoint.
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .route_table("rtb-main", "vpc-a", main=True)
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-main"])
        .build()
    )
    assert run_rule(GATEWAY_UNUSED, snap).findings == ()


@pytest.mark.parametrize("operation", ["DescribeRouteTables", "DescribeSubnets"])
def test_tables_or_subnets_not_read_are_not_judged(operation: str) -> None:
    snap = (
        every_subnet_associated()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-main"])
        .gap(operation)
        .build()
    )
    assert run_rule(GATEWAY_UNUSED, snap).findings == ()
