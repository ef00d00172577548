"""The Transit Gateway rules of issue 12, one positive and one negative case per branch.

Every expectation is written from AWS's documented behaviour: an attachment's traffic is routed
by the one TGW route table it is associated with (longest prefix; static before propagated);
a reply is routed by the replying subnet's own table, then by the TGW route table of the
replier's attachment; a blackhole route drops what it matches and can be created on purpose
(create-transit-gateway-route --blackhole); default association and propagation affect new
attachments only; a TGW peering attachment waits in pendingAcceptance indefinitely and is
accepted by the accepter TGW's owner in the accepter's region; TGW flow logs are created by
the owner, with --resource-type TransitGateway and no --traffic-type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    route,
    run_rule,
    tgw_route,
    unverified_reasons,
    without_kinds,
)
from vpcaudit.awscli import ask
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Gap, Severity
from vpcaudit.rules import tgw_return
from vpcaudit.rules.tgw import AUTO_ACCEPT_SHARED, DEFAULT_ROUTE_TABLE_OPEN, FLOW_LOGS_MISSING
from vpcaudit.rules.tgw_attachments import ATTACHMENT_UNASSOCIATED, PEERING_PENDING
from vpcaudit.rules.tgw_one_way import ROUTE_ONE_WAY
from vpcaudit.rules.tgw_routes import ROUTE_BLACKHOLE
from vpcaudit.snapshot import RawItem, Snapshot

TGW = "tgw-0hub"
RT = "tgw-rtb-main"
ORG = (ACCOUNT, OTHER_ACCOUNT)


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


def clean(result: Evaluation) -> bool:
    """No finding and no unverifiable check."""
    return result.findings == () and result.unverified == ()


def spoke(
    b: SnapshotBuilder,
    name: str,
    n: int,
    *,
    routes: Sequence[RawItem] | None = None,
    account: str = ACCOUNT,
    ipv6: bool = False,
    association: bool = True,
) -> SnapshotBuilder:
    """vpc-<name> (10.<n>/16), subnet-<name>1 (10.<n>.1/24) on rtb-<name>, attached to the hub."""
    # Its table sends 10.0.0.0/8 to the TGW unless routes are given. The TGW owner's account
    # lists the attachment (the VPC owner's account owns the resource).
    v6 = [f"2600:1f18:{n}::/56"] if ipv6 else []
    b.vpc(f"vpc-{name}", f"10.{n}.0.0/16", account=account, ipv6=v6)
    b.subnet(
        f"subnet-{name}1",
        f"vpc-{name}",
        f"10.{n}.1.0/24",
        account=account,
        ipv6=[f"2600:1f18:{n}:1::/64"] if ipv6 else [],
    )
    default = [route("10.0.0.0/8", TGW)] + ([route("2600:1f18::/32", TGW)] if ipv6 else [])
    b.route_table(
        f"rtb-{name}",
        f"vpc-{name}",
        main=True,
        subnets=[f"subnet-{name}1"],
        routes=default if routes is None else routes,
        account=account,
    )
    b.tgw_attachment(
        f"tgw-attach-{name}",
        f"vpc-{name}",
        transit_gateway_id=TGW,
        subnets=[f"subnet-{name}1"],
        resource_owner=account,
        association=RT if association else None,
    )
    return b


def propagated(*names_n: tuple[str, int], ipv6: bool = False) -> list[RawItem]:
    """Propagated routes for each spoke's CIDR blocks to its attachment."""
    out = [
        tgw_route(f"10.{n}.0.0/16", [f"tgw-attach-{name}"], route_type="propagated")
        for name, n in names_n
    ]
    if ipv6:
        out += [
            tgw_route(f"2600:1f18:{n}::/56", [f"tgw-attach-{name}"], route_type="propagated")
            for name, n in names_n
        ]
    return out


def hub(
    *,
    app_routes: Sequence[RawItem] | None = None,
    db_routes: Sequence[RawItem] | None = None,
    table_routes: Sequence[RawItem] | None = None,
    db_account: str = ACCOUNT,
    ipv6: bool = False,
) -> SnapshotBuilder:
    """app (10.1/16) and db (10.2/16) on one TGW route table: each reaches the other and back."""
    b = SnapshotBuilder(org_account_ids=ORG)
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1, routes=app_routes, ipv6=ipv6)
    spoke(b, "db", 2, routes=db_routes, account=db_account, ipv6=ipv6)
    b.tgw_route_table(
        RT,
        TGW,
        associations=["tgw-attach-app", "tgw-attach-db"],
        propagations=["tgw-attach-app", "tgw-attach-db"],
        routes=propagated(("app", 1), ("db", 2), ipv6=ipv6)
        if table_routes is None
        else table_routes,
    )
    return b


def with_gap(snap: Snapshot, operation: str, account: str = ACCOUNT) -> Snapshot:
    """A snapshot whose call failed for some tables (the kind stays, the gap says so)."""
    gap = Gap(account, REGION, operation, "AccessDenied", "denied")
    return dataclasses.replace(snap, gaps=(*snap.gaps, gap))


# -- tgw-route-blackhole --------------------------------------------------------------------


def blackhole_hub(*routes: RawItem, associations: Sequence[str] | None = None) -> Snapshot:
    """The hub with extra routes in its table (and, optionally, other associations)."""
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1)
    spoke(b, "db", 2)
    b.tgw_route_table(
        RT,
        TGW,
        associations=["tgw-attach-app", "tgw-attach-db"] if associations is None else associations,
        routes=[*propagated(("app", 1), ("db", 2)), *routes],
    )
    return b.build()


DEAD = tgw_route("10.9.0.0/16", ["tgw-attach-gone"], state="blackhole")


def test_blackhole_to_a_deleted_attachment_in_a_used_table_is_medium() -> None:
    f = only(run_rule(ROUTE_BLACKHOLE, blackhole_hub(DEAD)))
    assert f.rule_id == "tgw-route-blackhole"
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("transit-gateway-route-table", RT)
    assert f.resource.account_id == ACCOUNT
    assert "tgw-attach-app (vpc vpc-app)" in f.message and "tgw-attach-db" in f.message
    assert f.evidence["target_attachments"][0]["state"] == "gone"
    assert "its target tgw-attach-gone no longer exists" in f.message
    lines = f.remediation.splitlines()
    assert lines[0] == cmd(
        f"aws ec2 delete-transit-gateway-route --transit-gateway-route-table-id {RT} "
        "--destination-cidr-block 10.9.0.0/16"
    )
    assert "replace-transit-gateway-route" in f.remediation


def test_deleting_a_dead_blackhole_names_the_route_that_takes_over() -> None:
    egress = tgw_route("0.0.0.0/0", ["tgw-attach-db"])
    f = only(run_rule(ROUTE_BLACKHOLE, blackhole_hub(DEAD, egress)))
    assert f.evidence["broader_route"] == "0.0.0.0/0 -> tgw-attach-db"
    assert f.remediation.splitlines()[-1] == (
        "# once it is deleted, 0.0.0.0/0 (tgw-attach-db) carries that traffic: check it should"
    )


def test_blackhole_in_a_table_nothing_is_associated_with_is_low() -> None:
    f = only(run_rule(ROUTE_BLACKHOLE, blackhole_hub(DEAD, associations=[])))
    assert f.severity is Severity.LOW
    assert "drops nothing" in f.message


def test_blackhole_under_more_specific_routes_that_cover_it_is_low() -> None:
    dead = tgw_route("10.1.0.0/17", ["tgw-attach-gone"], state="blackhole")
    halves = [
        tgw_route("10.1.0.0/18", ["tgw-attach-app"]),
        tgw_route("10.1.64.0/18", ["tgw-attach-app"]),
    ]
    f = only(run_rule(ROUTE_BLACKHOLE, blackhole_hub(dead, *halves)))
    assert f.severity is Severity.LOW
    assert "more specific routes cover" in f.message


def test_deliberate_blackhole_carved_out_of_a_broader_route_is_left_alone() -> None:
    # Central egress: 0.0.0.0/0 to the egress VPC, RFC 1918 blackholed so that spokes do not
    # reach each other through it (create-transit-gateway-route --blackhole).
    egress = tgw_route("0.0.0.0/0", ["tgw-attach-db"])
    carve = tgw_route("172.16.0.0/12", state="blackhole")
    assert clean(run_rule(ROUTE_BLACKHOLE, blackhole_hub(egress, carve)))


def test_deliberate_catch_all_blackhole_under_specific_routes_is_left_alone() -> None:
    catch_all = tgw_route("10.0.0.0/8", state="blackhole")
    assert clean(run_rule(ROUTE_BLACKHOLE, blackhole_hub(catch_all)))


def test_guard_blackhole_naming_no_attachment_is_left_alone() -> None:
    # Production must not reach the sandbox, even if its range is propagated some day.
    guard = tgw_route("10.30.0.0/16", state="blackhole")
    assert clean(run_rule(ROUTE_BLACKHOLE, blackhole_hub(guard)))
    assert clean(run_rule(ROUTE_BLACKHOLE, blackhole_hub(guard, associations=[])))


def test_propagated_blackhole_is_stopped_at_its_source() -> None:
    dead = tgw_route("10.9.0.0/16", ["tgw-attach-gone"], route_type="propagated", state="blackhole")
    f = only(run_rule(ROUTE_BLACKHOLE, blackhole_hub(dead)))
    assert f.remediation == cmd(
        "aws ec2 disable-transit-gateway-route-table-propagation "
        f"--transit-gateway-route-table-id {RT} --transit-gateway-attachment-id tgw-attach-gone"
    )


def test_blackhole_to_a_vpn_attachment_that_exists_keeps_the_route() -> None:
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1)
    b.tgw_attachment("tgw-attach-vpn", "", resource_type="vpn", resource_id="vpn-0site")
    b.tgw_route_table(
        RT,
        TGW,
        associations=["tgw-attach-app"],
        routes=[tgw_route("192.168.0.0/16", ["tgw-attach-vpn"], state="blackhole")],
    )
    f = only(run_rule(ROUTE_BLACKHOLE, b.build()))
    assert f.severity is Severity.MEDIUM
    assert "exists but is not forwarding" in f.message
    assert f.remediation == (
        cmd("aws ec2 describe-vpn-connections --vpn-connection-ids vpn-0site")
        + "  # bring its tunnels up"
    )


def test_prefix_list_blackhole_is_removed_as_a_prefix_list_reference() -> None:
    dead = tgw_route("pl-0corp", ["tgw-attach-gone"], state="blackhole")
    f = only(run_rule(ROUTE_BLACKHOLE, blackhole_hub(dead)))
    assert f.remediation.splitlines()[0] == cmd(
        "aws ec2 delete-transit-gateway-prefix-list-reference "
        f"--transit-gateway-route-table-id {RT} --prefix-list-id pl-0corp"
    )


def test_active_routes_and_unread_routes_give_no_blackhole_finding() -> None:
    assert clean(run_rule(ROUTE_BLACKHOLE, blackhole_hub()))
    unread = with_gap(blackhole_hub(DEAD), "ec2:SearchTransitGatewayRoutes")
    assert clean(run_rule(ROUTE_BLACKHOLE, unread))


def test_blackhole_fix_runs_in_the_tgw_owners_account() -> None:
    b = SnapshotBuilder()
    b.transit_gateway(TGW, account=OTHER_ACCOUNT, default_association=False)
    b.tgw_route_table(RT, TGW, account=OTHER_ACCOUNT, associations=["tgw-attach-x"], routes=[DEAD])
    f = only(run_rule(ROUTE_BLACKHOLE, b.build()))
    assert f.resource.account_id == OTHER_ACCOUNT
    assert f.remediation.splitlines()[0].endswith(f"# as account {OTHER_ACCOUNT}")


# -- tgw-route-one-way ----------------------------------------------------------------------


def test_hub_routed_both_ways_is_not_one_way() -> None:
    assert clean(run_rule(ROUTE_ONE_WAY, hub().build()))


def test_replying_vpc_without_a_route_to_the_tgw_is_one_way() -> None:
    f = only(run_rule(ROUTE_ONE_WAY, hub(db_routes=[]).build()))
    assert f.rule_id == "tgw-route-one-way"
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "transit-gateway-attachment"
    assert f.resource.resource_id == "tgw-attach-db"
    assert f.evidence["families"] == ["IPv4"]
    assert [(s["vpc_id"], s["attachment_id"]) for s in f.evidence["senders"]] == [
        ("vpc-app", "tgw-attach-app")
    ]
    [side] = f.evidence["vpc_side"]
    assert side["route_table_id"] == "rtb-db"
    assert side["unanswered"] == [
        {
            "vpc_id": "vpc-app",
            "attachment_id": "tgw-attach-app",
            "subnet_id": "subnet-app1",
            "cidr": "10.1.1.0/24",
            "return_route": "no route",
        }
    ]
    assert f.evidence["tgw_side"] == []
    assert f.remediation == cmd(
        "aws ec2 create-route --route-table-id rtb-db --destination-cidr-block 10.1.0.0/16 "
        f"--transit-gateway-id {TGW}"
    )


def test_replies_sent_to_a_nat_gateway_are_lost() -> None:
    b = hub(db_routes=[route("0.0.0.0/0", "nat-0db")])
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    assert f.evidence["vpc_side"][0]["unanswered"][0]["return_route"] == "0.0.0.0/0 -> nat-0db"


def test_tgw_table_of_the_replier_without_a_route_back_is_one_way() -> None:
    # Segmented: app's table routes to db, db's table routes nowhere back to app.
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1, association=False)
    spoke(b, "db", 2, association=False)
    b.tgw_route_table(
        "tgw-rtb-app", TGW, associations=["tgw-attach-app"], routes=propagated(("db", 2))
    )
    b.tgw_route_table("tgw-rtb-db", TGW, associations=["tgw-attach-db"])
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    assert f.resource.resource_id == "tgw-attach-db"
    assert f.evidence["vpc_side"] == []
    [side] = f.evidence["tgw_side"]
    assert side["tgw_route_table_id"] == "tgw-rtb-db"
    assert side["unanswered"][0]["return_route"] == "no route"
    assert "TGW route table tgw-rtb-db" in f.message
    assert f.remediation == cmd(
        "aws ec2 enable-transit-gateway-route-table-propagation "
        "--transit-gateway-route-table-id tgw-rtb-db --transit-gateway-attachment-id "
        "tgw-attach-app"
    )


def test_already_propagating_sender_gets_a_static_route_instead() -> None:
    # The propagation is on, yet no route came of it: a static route is what AWS accepts.
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1, association=False)
    spoke(b, "db", 2, association=False)
    b.tgw_route_table(
        "tgw-rtb-app", TGW, associations=["tgw-attach-app"], routes=propagated(("db", 2))
    )
    b.tgw_route_table(
        "tgw-rtb-db", TGW, associations=["tgw-attach-db"], propagations=["tgw-attach-app"]
    )
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    assert f.remediation == cmd(
        "aws ec2 create-transit-gateway-route --transit-gateway-route-table-id tgw-rtb-db "
        "--destination-cidr-block 10.1.0.0/16 --transit-gateway-attachment-id tgw-attach-app"
    )


def test_route_back_covering_part_of_the_sender_subnet_is_one_way() -> None:
    b = hub(db_routes=[route("10.1.1.0/25", TGW)])
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    got = f.evidence["vpc_side"][0]["unanswered"][0]["return_route"]
    assert got == f"10.1.1.0/25 -> {TGW} (covers only part of 10.1.1.0/24)"


def test_isolated_subnet_of_an_engaged_vpc_is_not_judged() -> None:
    # db's second subnet (the attachment's own) uses a table with no route to the TGW.
    b = hub()
    b.subnet("subnet-db2", "vpc-db", "10.2.2.0/28")
    b.route_table("rtb-db-tgw", "vpc-db", subnets=["subnet-db2"])
    assert clean(run_rule(ROUTE_ONE_WAY, b.build()))


def test_replies_through_a_peering_or_a_blackhole_are_left_to_other_rules() -> None:
    peered = hub(db_routes=[route("10.1.0.0/16", "pcx-0ab")])
    assert clean(run_rule(ROUTE_ONE_WAY, peered.build()))
    vpc_hole = hub(db_routes=[route("10.1.0.0/16", "nat-0gone", state="blackhole")])
    assert clean(run_rule(ROUTE_ONE_WAY, vpc_hole.build()))
    tgw_hole = hub(
        table_routes=[
            *propagated(("db", 2)),
            tgw_route("10.1.0.0/16", state="blackhole"),
        ]
    )
    assert clean(run_rule(ROUTE_ONE_WAY, tgw_hole.build()))


def test_unassociated_replier_is_left_to_tgw_attachment_unassociated() -> None:
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1)
    spoke(b, "db", 2, association=False)
    b.tgw_route_table(RT, TGW, associations=["tgw-attach-app"], routes=propagated(("db", 2)))
    assert clean(run_rule(ROUTE_ONE_WAY, b.build()))


def test_vpc_that_sends_nothing_to_the_tgw_is_not_a_sender() -> None:
    # Neither VPC routes anything to the TGW: unused, not one-way.
    assert clean(run_rule(ROUTE_ONE_WAY, hub(app_routes=[], db_routes=[]).build()))


def test_only_the_family_without_a_route_back_is_reported() -> None:
    b = hub(ipv6=True, db_routes=[route("10.0.0.0/8", TGW)])
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    assert f.evidence["families"] == ["IPv6"]
    assert f.evidence["vpc_side"][0]["unanswered"][0]["cidr"] == "2600:1f18:1:1::/64"
    assert "--destination-ipv6-cidr-block 2600:1f18:1::/56" in f.remediation


def test_cross_account_replier_is_located_and_fixed_in_each_owners_account() -> None:
    b = SnapshotBuilder(org_account_ids=ORG)
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1, association=False)
    spoke(b, "db", 2, account=OTHER_ACCOUNT, routes=[], association=False)
    b.tgw_route_table(
        "tgw-rtb-app", TGW, associations=["tgw-attach-app"], routes=propagated(("db", 2))
    )
    b.tgw_route_table("tgw-rtb-db", TGW, associations=["tgw-attach-db"])
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    assert f.resource.account_id == OTHER_ACCOUNT
    lines = f.remediation.splitlines()
    assert lines[0].endswith(f"# as account {OTHER_ACCOUNT}")  # the VPC's route table
    assert lines[1].endswith(f"# as account {ACCOUNT}")  # the TGW route table


def test_only_the_senders_a_table_does_not_answer_are_reported() -> None:
    # app and db answer each other through 10.0.0.0/8; neither answers odd (172.16/16), which
    # sends to both: one finding per replying VPC, naming odd alone.
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1)
    spoke(b, "db", 2)
    b.vpc("vpc-odd", "172.16.0.0/16")
    b.subnet("subnet-odd1", "vpc-odd", "172.16.1.0/24")
    b.route_table("rtb-odd", "vpc-odd", main=True, routes=[route("10.0.0.0/8", TGW)])
    b.tgw_attachment("tgw-attach-odd", "vpc-odd", transit_gateway_id=TGW, subnets=["subnet-odd1"])
    odd = tgw_route("172.16.0.0/16", ["tgw-attach-odd"], route_type="propagated")
    b.tgw_route_table(
        RT,
        TGW,
        associations=["tgw-attach-app", "tgw-attach-db", "tgw-attach-odd"],
        routes=[*propagated(("app", 1), ("db", 2)), odd],
    )
    result = run_rule(ROUTE_ONE_WAY, b.build())
    assert sorted(f.evidence["vpc_id"] for f in result.findings) == ["vpc-app", "vpc-db"]
    for f in result.findings:
        assert [s["vpc_id"] for s in f.evidence["senders"]] == ["vpc-odd"]
        assert f.evidence["vpc_side"][0]["unanswered"][0]["return_route"] == "no route"
        assert f.evidence["tgw_side"] == []
        assert "--destination-cidr-block 172.16.0.0/16" in f.remediation


def test_a_vpc_losing_every_reply_is_reported_with_the_first_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tgw_return, "LIMIT", 1)
    f = only(run_rule(ROUTE_ONE_WAY, hub(db_routes=[]).build()))
    assert f.evidence["complete"] is False
    assert "the search stopped at 1 lost subnets" in f.message


def central_egress(*, public_back: bool) -> SnapshotBuilder:
    """A spoke whose 0.0.0.0/0 goes through the TGW to an egress VPC's NAT gateway."""
    # The egress VPC's attachment subnet routes to the NAT gateway in a public subnet, whose
    # table sends the spokes' range back to the TGW unless public_back is False.
    b = SnapshotBuilder()
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1, routes=[route("0.0.0.0/0", TGW)], association=False)
    b.vpc("vpc-egress", "100.64.0.0/16")
    b.subnet("subnet-egress-tgw", "vpc-egress", "100.64.0.0/28")
    b.subnet("subnet-egress-pub", "vpc-egress", "100.64.1.0/24")
    b.route_table(
        "rtb-egress-tgw",
        "vpc-egress",
        main=True,
        subnets=["subnet-egress-tgw"],
        routes=[route("0.0.0.0/0", "nat-0egress")],
    )
    back = [route("10.0.0.0/8", TGW)] if public_back else []
    b.route_table(
        "rtb-egress-pub",
        "vpc-egress",
        subnets=["subnet-egress-pub"],
        routes=[route("0.0.0.0/0", "igw-0egress"), *back],
    )
    b.tgw_attachment(
        "tgw-attach-egress", "vpc-egress", transit_gateway_id=TGW, subnets=["subnet-egress-tgw"]
    )
    b.tgw_route_table(
        "tgw-rtb-spokes",
        TGW,
        associations=["tgw-attach-app"],
        routes=[tgw_route("0.0.0.0/0", ["tgw-attach-egress"])],
    )
    b.tgw_route_table(
        "tgw-rtb-egress",
        TGW,
        associations=["tgw-attach-egress"],
        propagations=["tgw-attach-app"],
        routes=propagated(("app", 1)),
    )
    return b


def test_central_egress_with_routes_back_is_not_one_way() -> None:
    assert clean(run_rule(ROUTE_ONE_WAY, central_egress(public_back=True).build()))


def test_central_egress_whose_public_subnet_cannot_route_back_is_one_way() -> None:
    # The egress VPC routes nothing to the TGW: its subnets are judged (the attachment's own
    # subnet aside, which holds no host), and the NAT gateway's public subnet sends the
    # spokes' replies to the internet gateway.
    b = central_egress(public_back=False)
    f = only(run_rule(ROUTE_ONE_WAY, b.build()))
    assert f.evidence["vpc_id"] == "vpc-egress"
    [side] = f.evidence["vpc_side"]
    assert side["route_table_id"] == "rtb-egress-pub"
    assert side["unanswered"][0]["return_route"] == "0.0.0.0/0 -> igw-0egress"
    assert f.remediation == cmd(
        "aws ec2 create-route --route-table-id rtb-egress-pub --destination-cidr-block "
        f"10.1.0.0/16 --transit-gateway-id {TGW}"
    )


def test_unread_tgw_tables_make_the_check_unverifiable() -> None:
    result = run_rule(
        ROUTE_ONE_WAY, with_gap(hub(db_routes=[]).build(), "ec2:SearchTransitGatewayRoutes")
    )
    assert result.findings == ()
    [(rid, reason)] = unverified_reasons(result)
    assert rid == TGW and "could not be read" in reason


def test_unscanned_replier_vpc_is_unverifiable() -> None:
    # db is in an account that was not scanned: only the TGW owner's attachment is known.
    b = SnapshotBuilder(org_account_ids=ORG)
    b.transit_gateway(TGW, default_association=False, default_propagation=False)
    spoke(b, "app", 1)
    b.tgw_attachment(
        "tgw-attach-db", "vpc-db", transit_gateway_id=TGW, resource_owner=OTHER_ACCOUNT
    )
    b.tgw_route_table(
        RT,
        TGW,
        associations=["tgw-attach-app", "tgw-attach-db"],
        routes=propagated(("app", 1), ("db", 2)),
    )
    result = run_rule(ROUTE_ONE_WAY, b.build())
    assert result.findings == ()
    [(rid, reason)] = unverified_reasons(result)
    assert rid == "tgw-attach-db" and "vpc-db could not be read" in reason


# -- tgw-attachment-unassociated ------------------------------------------------------------


def lonely(*, routed: bool = False, state: str = "available", tables: int = 1) -> SnapshotBuilder:
    """The hub plus vpc-new attached but associated with no table."""
    b = hub()
    spoke(b, "new", 3, association=False)
    if state != "available":
        b = SnapshotBuilder()
        b.transit_gateway(TGW)
        b.vpc("vpc-new", "10.3.0.0/16")
        b.tgw_attachment("tgw-attach-new", "vpc-new", transit_gateway_id=TGW, state=state)
        b.tgw_route_table(RT, TGW)
    if routed:
        b.tgw_route_table(
            "tgw-rtb-shared", TGW, routes=[tgw_route("10.3.0.0/16", ["tgw-attach-new"])]
        )
    for i in range(tables - 1):
        b.tgw_route_table(f"tgw-rtb-extra{i}", TGW)
    return b


def test_unassociated_attachment_bills_for_nothing() -> None:
    f = only(run_rule(ATTACHMENT_UNASSOCIATED, lonely().build()))
    assert f.rule_id == "tgw-attachment-unassociated"
    assert f.severity is Severity.LOW
    assert f.resource.resource_id == "tgw-attach-new"
    assert f.evidence["monthly_cost_usd"] == 36.5
    assert f.evidence["route_tables"] == [RT]
    assert "$36.50 a month" in f.message
    lines = f.remediation.splitlines()
    assert lines[0] == cmd(
        f"aws ec2 associate-transit-gateway-route-table --transit-gateway-route-table-id {RT} "
        "--transit-gateway-attachment-id tgw-attach-new"
    )
    assert lines[2] == cmd(
        "aws ec2 delete-transit-gateway-vpc-attachment --transit-gateway-attachment-id "
        "tgw-attach-new"
    )


def test_unassociated_attachment_that_tables_still_route_to_is_medium() -> None:
    f = only(run_rule(ATTACHMENT_UNASSOCIATED, lonely(routed=True).build()))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["routed_from"] == ["tgw-rtb-shared"]
    assert "delete" not in f.remediation  # traffic reaches it: associate, never delete


def test_unassociated_attachment_prices_are_parameters() -> None:
    result = run_rule(ATTACHMENT_UNASSOCIATED, lonely().build(), hourly_price=0.1)
    assert only(result).evidence["monthly_cost_usd"] == 73.0


def test_with_several_tables_the_segment_is_the_owners_choice() -> None:
    f = only(run_rule(ATTACHMENT_UNASSOCIATED, lonely(tables=2).build()))
    first = f.remediation.splitlines()[0]
    assert first == f"# choose the route table of its segment among tgw-rtb-extra0, {RT}"
    assert (
        "--transit-gateway-route-table-id " + ask("TGW_ROUTE_TABLE_ID", "the TGW route table")
        in f.remediation
    )


def test_associated_or_not_available_attachments_are_not_flagged() -> None:
    assert clean(run_rule(ATTACHMENT_UNASSOCIATED, hub().build()))
    assert clean(run_rule(ATTACHMENT_UNASSOCIATED, lonely(state="pendingAcceptance").build()))


def test_unread_associations_make_it_unverifiable() -> None:
    snap = lonely().gap("GetTransitGatewayRouteTableAssociations").build()
    result = run_rule(ATTACHMENT_UNASSOCIATED, snap)
    assert result.findings == ()
    assert [rid for rid, _ in unverified_reasons(result)] == ["tgw-attach-new"]


# -- tgw-default-route-table-open -----------------------------------------------------------


def segmented(
    *, association: bool = True, propagation: bool = True, tables: int = 2, prop_rt: str = RT
) -> SnapshotBuilder:
    """A TGW with `tables` route tables and the given defaults."""
    b = SnapshotBuilder()
    b.transit_gateway(
        TGW,
        default_association=association,
        default_propagation=propagation,
        association_default_rt=RT,
        propagation_default_rt=prop_rt,
    )
    b.tgw_route_table(RT, TGW, default_association=True, default_propagation=True)
    for i in range(tables - 1):
        b.tgw_route_table(f"tgw-rtb-seg{i}", TGW)
    return b


def test_segmented_tgw_with_both_defaults_on_is_open() -> None:
    f = only(run_rule(DEFAULT_ROUTE_TABLE_OPEN, segmented().build()))
    assert f.rule_id == "tgw-default-route-table-open"
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("transit-gateway", TGW)
    assert f.evidence["route_tables"] == [RT, "tgw-rtb-seg0"]
    assert f.remediation.splitlines()[0] == cmd(
        f"aws ec2 modify-transit-gateway --transit-gateway-id {TGW} --options "
        "DefaultRouteTableAssociation=disable,DefaultRouteTablePropagation=disable"
    )
    assert f.remediation.splitlines()[1].startswith(
        "# existing associations and propagations are kept"
    )


def test_flat_or_deliberately_wired_tgws_are_not_open() -> None:
    assert clean(run_rule(DEFAULT_ROUTE_TABLE_OPEN, segmented(tables=1).build()))
    assert clean(run_rule(DEFAULT_ROUTE_TABLE_OPEN, segmented(association=False).build()))
    assert clean(run_rule(DEFAULT_ROUTE_TABLE_OPEN, segmented(prop_rt="tgw-rtb-seg0").build()))


def test_unread_tables_make_the_segmentation_unverifiable() -> None:
    snap = segmented().gap("DescribeTransitGatewayRouteTables").build()
    result = run_rule(DEFAULT_ROUTE_TABLE_OPEN, snap)
    assert result.findings == ()
    assert [rid for rid, _ in unverified_reasons(result)] == [TGW]


# -- tgw-auto-accept-shared-attachments -----------------------------------------------------


def auto_accept(*, foreign: str | None, defaults: bool = True) -> SnapshotBuilder:
    """A TGW with auto-accept on, and an attachment of a VPC owned by `foreign` (or none)."""
    b = SnapshotBuilder(org_account_ids=ORG)
    b.transit_gateway(
        TGW, auto_accept_shared=True, default_association=defaults, default_propagation=defaults
    )
    if foreign is not None:
        b.tgw_attachment("tgw-attach-x", "vpc-x", transit_gateway_id=TGW, resource_owner=foreign)
    return b


def test_visibly_shared_tgw_wiring_new_attachments_in_is_high() -> None:
    f = only(run_rule(AUTO_ACCEPT_SHARED, auto_accept(foreign=OTHER_ACCOUNT).build()))
    assert f.rule_id == "tgw-auto-accept-shared-attachments"
    assert f.severity is Severity.HIGH
    assert f.evidence["foreign_accounts"] == [OTHER_ACCOUNT]
    assert f.remediation == cmd(
        f"aws ec2 modify-transit-gateway --transit-gateway-id {TGW} "
        "--options AutoAcceptSharedAttachments=disable"
    )


def test_shared_within_the_organization_without_default_wiring_is_medium() -> None:
    snap = auto_accept(foreign=OTHER_ACCOUNT, defaults=False).build()
    assert only(run_rule(AUTO_ACCEPT_SHARED, snap)).severity is Severity.MEDIUM


def test_shared_with_an_account_outside_the_organization_is_high() -> None:
    f = only(
        run_rule(AUTO_ACCEPT_SHARED, auto_accept(foreign=EXTERNAL_ACCOUNT, defaults=False).build())
    )
    assert f.severity is Severity.HIGH
    assert f.evidence["outside_organization"] == [EXTERNAL_ACCOUNT]


def test_no_sign_of_sharing_asks_to_confirm() -> None:
    f = only(run_rule(AUTO_ACCEPT_SHARED, auto_accept(foreign=None).build()))
    assert f.severity is Severity.LOW
    assert "vpcaudit does not read RAM shares" in f.message
    assert f.remediation.splitlines() == [
        cmd("aws ram list-resources --resource-owner SELF --resource-type ec2:TransitGateway"),
        "# if it lists the Transit Gateway (it is shared):",
        cmd(
            f"aws ec2 modify-transit-gateway --transit-gateway-id {TGW} "
            "--options AutoAcceptSharedAttachments=disable"
        ),
    ]


def test_tgw_seen_from_a_participant_account_is_shared() -> None:
    b = SnapshotBuilder(org_account_ids=ORG)
    b.transit_gateway(TGW, owner=OTHER_ACCOUNT, auto_accept_shared=True, default_association=False)
    f = only(run_rule(AUTO_ACCEPT_SHARED, b.build()))
    assert f.severity is Severity.MEDIUM
    assert f.resource.account_id == OTHER_ACCOUNT  # the fix runs in the owner's account
    assert f.remediation.endswith(f"# as account {OTHER_ACCOUNT}")


def test_auto_accept_off_is_not_flagged() -> None:
    b = SnapshotBuilder()
    b.transit_gateway(TGW)
    b.tgw_attachment("tgw-attach-x", "vpc-x", transit_gateway_id=TGW, resource_owner=OTHER_ACCOUNT)
    assert clean(run_rule(AUTO_ACCEPT_SHARED, b.build()))


# -- tgw-flow-logs-missing ------------------------------------------------------------------


def test_tgw_without_a_flow_log_is_flagged() -> None:
    f = only(run_rule(FLOW_LOGS_MISSING, hub().build()))
    assert f.rule_id == "tgw-flow-logs-missing"
    assert f.severity is Severity.MEDIUM
    assert f.evidence["attachments"] == ["tgw-attach-app", "tgw-attach-db"]
    assert f.remediation == cmd(
        f"aws ec2 create-flow-logs --resource-type TransitGateway --resource-ids {TGW} "
        "--log-destination-type s3 --log-destination arn:aws:s3:::"
        + ask("LOG_BUCKET", "the S3 bucket for flow logs")
        + "/tgw-flow-logs/"
    )
    assert "--traffic-type" not in f.remediation  # AWS refuses it for TGW flow logs


def test_active_tgw_flow_log_or_one_per_attachment_is_enough() -> None:
    assert clean(run_rule(FLOW_LOGS_MISSING, hub().flow_log("fl-tgw", TGW).build()))
    per_attachment = hub().flow_log("fl-a", "tgw-attach-app").flow_log("fl-d", "tgw-attach-db")
    assert clean(run_rule(FLOW_LOGS_MISSING, per_attachment.build()))


def test_inactive_tgw_flow_log_does_not_count() -> None:
    f = only(run_rule(FLOW_LOGS_MISSING, hub().flow_log("fl-tgw", TGW, status="INACTIVE").build()))
    assert f.evidence["inactive_flow_logs"] == ["fl-tgw (INACTIVE)"]


def test_tgw_whose_vpcs_are_all_logged_is_low() -> None:
    b = hub().flow_log("fl-app", "vpc-app").flow_log("fl-db", "vpc-db")
    assert only(run_rule(FLOW_LOGS_MISSING, b.build())).severity is Severity.LOW


def test_unread_flow_logs_or_unscanned_owner_are_unverifiable() -> None:
    result = run_rule(FLOW_LOGS_MISSING, hub().gap("DescribeFlowLogs").build())
    assert result.findings == () and len(result.unverified) == 1
    b = SnapshotBuilder()
    b.transit_gateway(TGW, owner=OTHER_ACCOUNT)
    result = run_rule(FLOW_LOGS_MISSING, b.build())
    assert result.findings == ()
    [(_, reason)] = unverified_reasons(result)
    assert "only the owner can create its flow logs" in reason


# -- tgw-peering-pending --------------------------------------------------------------------

EAST = ("tgw-0east", ACCOUNT, REGION)
WEST = ("tgw-0west", OTHER_ACCOUNT, OTHER_REGION)


def test_pending_peering_names_both_ends_and_only_the_accepter_accepts() -> None:
    """The requester cannot accept (AWS refuses it): the one command is the accepter's, in
    its account and region, as the peering attachment's AccepterTgwInfo names it."""
    b = SnapshotBuilder(org_account_ids=ORG)
    b.tgw_peering("tgw-attach-peer", requester=EAST, accepter=WEST, state="pendingAcceptance")
    f = only(run_rule(PEERING_PENDING, b.build()))
    assert f.rule_id == "tgw-peering-pending"
    assert f.severity is Severity.LOW
    assert f.resource.resource_id == "tgw-attach-peer"
    assert [e["transit_gateway_id"] for e in f.evidence["ends"]] == ["tgw-0east", "tgw-0west"]
    assert f"tgw-0west ({OTHER_ACCOUNT} {OTHER_REGION})" in f.message
    assert f"its accepter, tgw-0west, must accept it in account {OTHER_ACCOUNT}" in f.message
    assert f.evidence["accepter"] == {"account_id": OTHER_ACCOUNT, "region": OTHER_REGION}
    accept = "aws ec2 accept-transit-gateway-peering-attachment --transit-gateway-attachment-id "
    assert f.remediation == cmd(accept + "tgw-attach-peer", OTHER_ACCOUNT, OTHER_REGION)
    assert "confirm" not in f.message
    # Located as before the accepter was known (a moved finding would read as new in a diff).
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)


def test_the_requesters_copy_alone_still_names_the_accepter() -> None:
    """Each side's DescribeTransitGatewayPeeringAttachments names both roles."""
    b = SnapshotBuilder(org_account_ids=ORG)
    b.tgw_peering(
        "tgw-attach-peer",
        requester=EAST,
        accepter=WEST,
        state="pendingAcceptance",
        sides=("requester",),
    )
    f = only(run_rule(PEERING_PENDING, b.build()))
    accept = "aws ec2 accept-transit-gateway-peering-attachment --transit-gateway-attachment-id "
    assert f.remediation == cmd(accept + "tgw-attach-peer", OTHER_ACCOUNT, OTHER_REGION)
    assert (f.resource.account_id, f.resource.region) == EAST[1:]  # where it was read


def test_without_the_peering_attachments_both_ends_get_their_command() -> None:
    """DescribeTransitGatewayPeeringAttachments not read: which end accepts is not known."""
    b = SnapshotBuilder(org_account_ids=ORG)
    b.tgw_peering("tgw-attach-peer", requester=EAST, accepter=WEST, state="pendingAcceptance")
    f = only(run_rule(PEERING_PENDING, without_kinds(b.build(), "tgw_peering_attachments")))
    accept = "aws ec2 accept-transit-gateway-peering-attachment --transit-gateway-attachment-id "
    assert f.remediation.splitlines() == [
        f"# if tgw-0east ({ACCOUNT} {REGION}) is the accepter:",
        cmd(accept + "tgw-attach-peer"),
        f"# if tgw-0west ({OTHER_ACCOUNT} {OTHER_REGION}) is the accepter:",
        cmd(accept + "tgw-attach-peer", OTHER_ACCOUNT, OTHER_REGION),
    ]
    assert f.evidence["accepter"] == {}


def test_pending_peering_within_one_account_and_region_is_accepted_there() -> None:
    b = SnapshotBuilder(org_account_ids=ORG)
    b.tgw_peering(
        "tgw-attach-peer",
        requester=EAST,
        accepter=("tgw-0east2", ACCOUNT, REGION),
        state="pendingAcceptance",
    )
    f = only(run_rule(PEERING_PENDING, b.build()))
    assert f.evidence["accepter"] == {"account_id": ACCOUNT, "region": REGION}
    assert f.remediation == cmd(
        "aws ec2 accept-transit-gateway-peering-attachment --transit-gateway-attachment-id "
        "tgw-attach-peer"
    )


def test_pending_peering_with_an_outside_end_asks_to_confirm() -> None:
    b = SnapshotBuilder(org_account_ids=ORG)
    outside = ("tgw-0them", EXTERNAL_ACCOUNT, REGION)
    b.tgw_peering(
        "tgw-attach-peer",
        requester=outside,
        accepter=EAST,
        state="pendingAcceptance",
        sides=["accepter"],
    )
    f = only(run_rule(PEERING_PENDING, b.build()))
    assert "confirm the request is expected" in f.message
    assert all(
        line.endswith("# once the request is confirmed as expected")
        for line in f.remediation.splitlines()
        if not line.startswith("#")
    )


def test_available_peering_is_not_pending() -> None:
    b = SnapshotBuilder(org_account_ids=ORG)
    b.tgw_peering("tgw-attach-peer", requester=EAST, accepter=WEST)
    assert clean(run_rule(PEERING_PENDING, b.build()))


def test_a_pending_peering_is_located_where_it_was_read() -> None:
    """Found by the demo: the finding sat on the first end by TGW id, even in an account the
    scan never read, where nobody can act on it or waive it."""
    b = SnapshotBuilder(org_account_ids=ORG)
    # The peer TGW sorts first ("tgw-0aaa") but its account is not scanned; only the
    # requester's copy of the attachment was read.
    b.scan()
    b.tgw_peering(
        "tgw-attach-peer",
        requester=EAST,
        accepter=("tgw-0aaa", OTHER_ACCOUNT, OTHER_REGION),
        state="pendingAcceptance",
        sides=("requester",),
    )
    f = only(run_rule(PEERING_PENDING, b.build()))
    assert (f.resource.account_id, f.resource.region) == EAST[1:]
