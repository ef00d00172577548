"""The demo's Transit Gateway network (vpcaudit/demo/seed_network.py) and what `vpcaudit path`
answers on it.

One in-process moto seeded with the demo organization serves the module: the seeding is read
back with boto3 (moto as it is, and through the fidelity layer where moto falls short), then the
demo is scanned and every `Seeded.paths` question is put to the network model.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from vpcaudit.demo import demo_options, seeded_demo
from vpcaudit.demo.accounts import EU_REGION, HUB_REGION, assume
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.seed import Seeded
from vpcaudit.inventory import Inventory
from vpcaudit.network import CODES, NetworkModel
from vpcaudit.scan import ScanOptions
from vpcaudit.snapshot import Snapshot

PATH_NAMES = {
    "reachable",
    "blocked-by-route",
    "blocked-by-security-group",
    "blocked-by-nacl-return",
    "unknown",
}
INSTANCES = {
    # name: (private IP, seeded subnet, security groups by "vpc/name")
    "app": ("10.20.1.10", "prod-app-a", {"prod-app/app-tier"}),
    "reports": ("10.20.3.10", "prod-app-reports", {"prod-app/https-internal"}),
    "web": ("10.10.1.10", "shared-services-a", {"shared-services/https-corp"}),
    "admin": ("10.10.2.10", "shared-services-b", {"shared-services/ssh-from-app"}),
    "edge": ("10.10.1.20", "shared-services-a", {"shared-services/https-public"}),
    "sandbox-api": ("10.30.1.10", "sandbox-a", {"sandbox/https-internal"}),
}


@dataclass(frozen=True)
class World:
    """The seeded demo, a session in its network account as moto answers it and one through
    the fidelity layer, and a scan of the whole demo."""

    seeded: Seeded
    raw: boto3.Session
    faithful: boto3.Session
    snapshot: Snapshot
    fidelity: MotoFidelity

    def ec2(self, region: str = HUB_REGION, *, fidelity: bool = True) -> Any:
        return (self.faithful if fidelity else self.raw).client("ec2", region_name=region)

    def ec2_of(self, account: str, *, fidelity: bool = True) -> Any:
        """A us-east-1 client in another demo account (by name)."""
        session = assume(boto3.Session(), self.seeded.accounts[account])
        if fidelity:
            self.fidelity.install(session)
        return session.client("ec2", region_name=HUB_REGION)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with seeded_demo() as (seeded, fidelity):
        network = seeded.accounts["network"]
        raw, faithful = assume(boto3.Session(), network), assume(boto3.Session(), network)
        fidelity.install(faithful)
        snapshot = _scan(fidelity)
        yield World(seeded, raw, faithful, snapshot, fidelity)


def _scan(fidelity: MotoFidelity) -> Snapshot:
    from vpcaudit.scan import run_scan  # noqa: PLC0415 - kept beside its one use

    return run_scan(demo_options(ScanOptions(), fidelity))


def _routes(ec2: Any, table: str, types: tuple[str, ...] = ("static", "propagated")) -> Any:
    return ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table, Filters=[{"Name": "type", "Values": list(types)}]
    )["Routes"]


def _by_cidr(routes: Any) -> dict[str, tuple[str, str, set[str]]]:
    """destination -> (type, state, attachment ids)."""
    return {
        r["DestinationCidrBlock"]: (
            r["Type"],
            r["State"],
            {a["TransitGatewayAttachmentId"] for a in r.get("TransitGatewayAttachments") or []},
        )
        for r in routes
    }


# -- the Transit Gateways -------------------------------------------------------------------


def test_the_hub_tgw_has_default_association_and_propagation_off(world: World) -> None:
    tgws = world.ec2().describe_transit_gateways()["TransitGateways"]
    assert [t["TransitGatewayId"] for t in tgws] == [world.seeded.transit_gateways["core-tgw"]]
    options = tgws[0]["Options"]
    assert options["DefaultRouteTableAssociation"] == "disable"
    assert options["DefaultRouteTablePropagation"] == "disable"
    # EC2 makes no default table then; moto makes one, which the fidelity layer hides.
    assert "AssociationDefaultRouteTableId" not in options
    assert (
        "AssociationDefaultRouteTableId"
        in (world.ec2(fidelity=False).describe_transit_gateways()["TransitGateways"][0]["Options"])
    )
    tables = world.ec2().describe_transit_gateway_route_tables()["TransitGatewayRouteTables"]
    s = world.seeded.tgw_route_tables
    assert {t["TransitGatewayRouteTableId"] for t in tables} == {s["prod"], s["shared"]}


def test_route_tables_associations_and_propagations(world: World) -> None:
    s, att = world.seeded.tgw_route_tables, world.seeded.tgw_attachments
    peering = att["core-eu-peering"]
    expected = {
        # table: (associated, propagating)
        "prod": ({att["prod-app"]}, {att["shared-services"]}),
        "shared": (
            {att["shared-services"], att["sandbox"], peering},
            {att["prod-app"], att["shared-services"], att["sandbox"]},
        ),
        "eu": ({att["eu-shared"], peering}, {att["eu-shared"]}),
    }
    for name, (associated, propagating) in expected.items():
        ec2 = world.ec2(EU_REGION if name == "eu" else HUB_REGION, fidelity=False)
        assocs = ec2.get_transit_gateway_route_table_associations(
            TransitGatewayRouteTableId=s[name]
        )["Associations"]
        props = ec2.get_transit_gateway_route_table_propagations(
            TransitGatewayRouteTableId=s[name]
        )["TransitGatewayRouteTablePropagations"]
        assert {a["TransitGatewayAttachmentId"] for a in assocs} == associated, name
        assert {a["State"] for a in assocs} == {"associated"}
        assert {p["TransitGatewayAttachmentId"] for p in props} == propagating, name
        assert {p["State"] for p in props} == {"enabled"}


def test_attachments_report_their_true_association(world: World) -> None:
    s, att = world.seeded.tgw_route_tables, world.seeded.tgw_attachments
    core, eu_tgw = (
        world.seeded.transit_gateways["core-tgw"],
        world.seeded.transit_gateways["eu-tgw"],
    )
    us = {
        a["TransitGatewayAttachmentId"]: a
        for a in world.ec2().describe_transit_gateway_attachments()["TransitGatewayAttachments"]
    }
    assert us[att["prod-app"]]["Association"]["TransitGatewayRouteTableId"] == s["prod"]
    assert us[att["sandbox"]]["Association"]["TransitGatewayRouteTableId"] == s["shared"]
    assert us[att["prod-app"]]["ResourceId"] == world.seeded.vpcs["prod-app"]
    subnets = {
        a["TransitGatewayAttachmentId"]: set(a["SubnetIds"])
        for a in world.ec2().describe_transit_gateway_vpc_attachments()[
            "TransitGatewayVpcAttachments"
        ]
    }
    sn = world.seeded.subnets
    assert subnets == {
        att["prod-app"]: {sn["prod-app-a"], sn["prod-app-b"]},
        att["shared-services"]: {sn["shared-services-a"], sn["shared-services-b"]},
        att["sandbox"]: {sn["sandbox-a"]},
    }
    # The peering, from each side: its own TGW, the other as the resource.
    peering = att["core-eu-peering"]
    assert (us[peering]["TransitGatewayId"], us[peering]["ResourceId"]) == (core, eu_tgw)
    eu = {
        a["TransitGatewayAttachmentId"]: a
        for a in world.ec2(EU_REGION).describe_transit_gateway_attachments()[
            "TransitGatewayAttachments"
        ]
    }
    assert (eu[peering]["TransitGatewayId"], eu[peering]["ResourceId"]) == (eu_tgw, core)
    assert eu[peering]["Association"]["TransitGatewayRouteTableId"] == s["eu"]


def test_the_tgw_peering_to_europe_is_available(world: World) -> None:
    peering = world.seeded.tgw_attachments["core-eu-peering"]
    for region in (HUB_REGION, EU_REGION):
        (found,) = world.ec2(region).describe_transit_gateway_peering_attachments(
            TransitGatewayAttachmentIds=[peering]
        )["TransitGatewayPeeringAttachments"]
        assert found["State"] == "available"
        assert found["Status"]["Code"] == "active"
        assert found["RequesterTgwInfo"]["Region"] == HUB_REGION
        assert found["AccepterTgwInfo"]["Region"] == EU_REGION
        assert (
            found["AccepterTgwInfo"]["TransitGatewayId"]
            == (world.seeded.transit_gateways["eu-tgw"])
        )


def test_static_blackhole_and_propagated_routes(world: World) -> None:
    s, att = world.seeded.tgw_route_tables, world.seeded.tgw_attachments
    peering = att["core-eu-peering"]
    prod = _by_cidr(_routes(world.ec2(), s["prod"]))
    assert prod == {
        "10.10.0.0/16": ("propagated", "active", {att["shared-services"]}),
        "172.24.0.0/16": ("static", "active", {peering}),
        "0.0.0.0/0": ("static", "active", {att["shared-services"]}),
        "10.30.0.0/16": ("static", "blackhole", set()),
    }
    shared = _by_cidr(_routes(world.ec2(), s["shared"]))
    assert shared == {
        "10.10.0.0/16": ("propagated", "active", {att["shared-services"]}),
        "10.20.0.0/16": ("propagated", "active", {att["prod-app"]}),
        "10.30.0.0/16": ("propagated", "active", {att["sandbox"]}),
        "172.24.0.0/16": ("static", "active", {peering}),
    }
    eu = _by_cidr(_routes(world.ec2(EU_REGION), s["eu"]))
    assert eu == {
        "172.24.0.0/16": ("propagated", "active", {att["eu-shared"]}),
        "10.0.0.0/8": ("static", "active", {peering}),
    }
    # A route names its attachment's resource as seen from the table's TGW.
    (to_core,) = _routes(world.ec2(EU_REGION), s["eu"], ("static",))
    assert (
        to_core["TransitGatewayAttachments"][0]["ResourceId"]
        == (world.seeded.transit_gateways["core-tgw"])
    )


def test_route_filters_apply_to_the_propagated_routes(world: World) -> None:
    prod = world.seeded.tgw_route_tables["prod"]
    assert {r["Type"] for r in _routes(world.ec2(), prod, ("static",))} == {"static"}
    assert _by_cidr(_routes(world.ec2(), prod, ("propagated",))) == {
        "10.10.0.0/16": ("propagated", "active", {world.seeded.tgw_attachments["shared-services"]})
    }


def test_moto_alone_lacks_what_the_fidelity_layer_adds(world: World) -> None:
    """If moto learns these, the matching part of the layer can go."""
    s = world.seeded.tgw_route_tables
    raw = _routes(world.ec2(fidelity=False), s["shared"])
    assert {r["Type"] for r in raw} == {"static"}, "moto now propagates TGW routes"
    assert [r.get("TransitGatewayAttachments") for r in raw] == [[]]


def test_a_static_route_to_a_deleted_attachment_is_a_blackhole(world: World) -> None:
    """app-tgw's route to web's deleted attachment: moto keeps it active and the attachment
    associated; EC2 (and the layer) make it a blackhole and drop the association."""
    default = world.seeded.tgw_route_tables["app-tgw-default"]
    web = world.seeded.tgw_attachments["web"]
    for fidelity, state in ((True, "blackhole"), (False, "active")):
        ec2 = world.ec2_of("app-prod", fidelity=fidelity)
        routes = _by_cidr(_routes(ec2, default, ("static",)))
        assert routes["10.5.0.0/16"][1] == state
        assocs = ec2.get_transit_gateway_route_table_associations(
            TransitGatewayRouteTableId=default
        )["Associations"]
        assert (web in {a["TransitGatewayAttachmentId"] for a in assocs}) is not fidelity
    att = world.seeded.tgw_attachments
    faithful = _by_cidr(_routes(world.ec2_of("app-prod"), default))
    assert faithful == {
        "10.1.0.0/16": ("propagated", "active", {att["spoke-a"]}),
        "10.2.0.0/16": ("propagated", "active", {att["spoke-b"]}),
        "10.5.0.0/16": ("static", "blackhole", {web}),
    }


def test_group_pairs_across_a_peering_carry_its_status(world: World) -> None:
    """moto drops UserIdGroupPairs[].PeeringStatus; EC2 (and the layer) report it."""

    def pair(ec2: Any, group: str) -> Any:
        (found,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
        ((only,),) = [p["UserIdGroupPairs"] for p in found["IpPermissions"]]
        return only

    groups, peerings = world.seeded.security_groups, world.seeded.peerings
    stale = pair(world.ec2(), groups["hub/db-from-retired"])
    assert (stale["VpcPeeringConnectionId"], stale["PeeringStatus"]) == (
        peerings["hub-retired"],
        "deleted",
    )
    assert "PeeringStatus" not in pair(world.ec2(fidelity=False), groups["hub/db-from-retired"])
    active = pair(world.ec2_of("analytics"), groups["data-hub/from-project-01"])
    assert (active["VpcPeeringConnectionId"], active["PeeringStatus"]) == (
        peerings["data-hub-project-01"],
        "active",
    )


# -- hosts and filters ----------------------------------------------------------------------


def test_instances_sit_at_their_fixed_addresses(world: World) -> None:
    sn, groups = world.seeded.subnets, world.seeded.security_groups
    reservations = world.ec2().describe_instances()["Reservations"]
    found = {
        next(t["Value"] for t in i["Tags"] if t["Key"] == "Name"): i
        for r in reservations
        for i in r["Instances"]
    }
    for name, (ip, subnet, sgs) in INSTANCES.items():
        inst = found[name]
        assert inst["InstanceId"] == world.seeded.instances[name]
        assert inst["PrivateIpAddress"] == ip, name
        assert inst["SubnetId"] == sn[subnet], name
        assert {g["GroupId"] for g in inst["SecurityGroups"]} == {groups[g] for g in sgs}, name
    assert found["hub-tools"]["PrivateIpAddress"] == "10.0.1.10"
    (eu_api,) = [
        i for r in world.ec2(EU_REGION).describe_instances()["Reservations"] for i in r["Instances"]
    ]
    assert (eu_api["PrivateIpAddress"], eu_api["SubnetId"]) == ("172.24.1.10", sn["eu-shared-a"])


def _ingress(ec2: Any, group_id: str) -> list[tuple[str, int, int, str]]:
    (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return sorted(
        (p["IpProtocol"], p["FromPort"], p["ToPort"], peer)
        for p in group["IpPermissions"]
        for peer in [r["CidrIp"] for r in p["IpRanges"]]
        + [r["PrefixListId"] for r in p["PrefixListIds"]]
    )


def test_security_groups(world: World) -> None:
    g, corp = world.seeded.security_groups, world.seeded.prefix_lists["corp-networks"]
    ec2 = world.ec2()
    assert _ingress(ec2, g["prod-app/app-tier"]) == []
    assert _ingress(ec2, g["prod-app/https-internal"]) == [("tcp", 443, 443, "10.0.0.0/8")]
    assert _ingress(ec2, g["shared-services/https-corp"]) == [("tcp", 443, 443, corp)]
    assert _ingress(ec2, g["shared-services/ssh-from-app"]) == [("tcp", 22, 22, "10.20.1.10/32")]
    assert _ingress(ec2, g["shared-services/https-public"]) == [("tcp", 443, 443, "0.0.0.0/0")]
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=corp)["Entries"]
    assert sorted(e["Cidr"] for e in entries) == ["10.0.0.0/8", "172.16.0.0/12"]


def test_the_reports_acl_lets_no_reply_out(world: World) -> None:
    acl_id = world.seeded.network_acls["reports"]
    (acl,) = world.ec2().describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"]
    assert [a["SubnetId"] for a in acl["Associations"]] == [
        world.seeded.subnets["prod-app-reports"]
    ]
    rules = sorted(
        (
            e["Egress"],
            e["RuleNumber"],
            e["RuleAction"],
            e["Protocol"],
            e.get("CidrBlock") or e.get("Ipv6CidrBlock"),
            (e.get("PortRange") or {}).get("From"),
            (e.get("PortRange") or {}).get("To"),
        )
        for e in acl["Entries"]
    )
    assert rules == [
        (False, 100, "allow", "6", "10.0.0.0/8", 443, 443),
        (False, 110, "allow", "6", "0.0.0.0/0", 1024, 65535),
        # The final "*" rules EC2 lists (moto does not: the fidelity layer adds them).
        (False, 32767, "deny", "-1", "0.0.0.0/0", None, None),
        (False, 32768, "deny", "-1", "::/0", None, None),
        (True, 100, "allow", "6", "0.0.0.0/0", 443, 443),
        (True, 32767, "deny", "-1", "0.0.0.0/0", None, None),
        (True, 32768, "deny", "-1", "::/0", None, None),
    ]


def test_the_gateways_at_the_edges(world: World) -> None:
    gw, vpcs, ec2 = world.seeded.gateways, world.seeded.vpcs, world.ec2()
    (eigw,) = ec2.describe_egress_only_internet_gateways()["EgressOnlyInternetGateways"]
    assert eigw["EgressOnlyInternetGatewayId"] == gw["prod-app-eigw"]
    assert eigw["Attachments"] == [{"State": "attached", "VpcId": vpcs["prod-app"]}]
    (prod_rt,) = ec2.describe_route_tables(RouteTableIds=[world.seeded.route_tables["prod-app"]])[
        "RouteTables"
    ]
    by_dest = {
        r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock"): r
        for r in prod_rt["Routes"]
    }
    assert by_dest["::/0"]["EgressOnlyInternetGatewayId"] == gw["prod-app-eigw"]
    assert by_dest["10.0.0.0/8"]["TransitGatewayId"] == world.seeded.transit_gateways["core-tgw"]
    assert by_dest["10.64.0.0/16"]["CoreNetworkArn"].endswith(
        ":core-network/core-network-0de70c0de70c0de70"
    )
    (eip,) = ec2.describe_addresses()["Addresses"]
    assert (eip["AllocationId"], eip["InstanceId"], eip["PrivateIpAddress"]) == (
        gw["edge-eip"],
        world.seeded.instances["edge"],
        "10.10.1.20",
    )
    (vpn,) = ec2.describe_vpn_connections()["VpnConnections"]
    assert (vpn["VpnConnectionId"], vpn["VpnGatewayId"], vpn["CustomerGatewayId"]) == (
        gw["hub-vpn"],
        gw["hub-vgw"],
        gw["corp-dc-cgw"],
    )
    (igw,) = ec2.describe_internet_gateways(InternetGatewayIds=[gw["shared-services-igw"]])[
        "InternetGateways"
    ]
    assert igw["Attachments"][0]["VpcId"] == vpcs["shared-services"]


# -- the questions and the network model's answers ------------------------------------------


def test_the_path_questions_are_well_formed(world: World) -> None:
    paths = world.seeded.paths
    assert set(paths) >= PATH_NAMES
    addresses = {ip for ip, _, _ in INSTANCES.values()} | {"10.0.1.10", "172.24.1.10"}
    for name, p in paths.items():
        ipaddress.ip_address(p.source)
        ipaddress.ip_address(p.destination)
        assert p.source in addresses, name
        assert p.protocol == "tcp"
        assert p.port is not None
        assert p.verdict in ("reachable", "not-reachable", "unknown"), name
        assert (p.code == "") == (p.verdict == "reachable"), name
        assert p.code == "" or p.code in CODES, name


def test_the_network_model_answers_as_aws_would(world: World) -> None:
    model = NetworkModel(Inventory.from_snapshot(world.snapshot))
    for name, p in world.seeded.paths.items():
        answer = model.path(p.source, p.destination, protocol=p.protocol, port=p.port)
        assert (answer.verdict, answer.code) == (p.verdict, p.code), name
        where = "" if p.verdict == "reachable" else "forward"
        if name == "blocked-by-nacl-return":
            where = "return"
        assert answer.direction == where, name
    nacl = world.seeded.paths["blocked-by-nacl-return"]
    answer = model.path(nacl.source, nacl.destination, protocol=nacl.protocol, port=nacl.port)
    assert answer.blocking is not None
    assert (answer.blocking.id, answer.blocking.rule) == (
        world.seeded.network_acls["reports"],
        "32767",
    )


def test_the_demo_scan_is_complete(world: World) -> None:
    assert world.snapshot.gaps == ()
    stats = world.snapshot.extra["stats"]["calls_by_operation"]
    # One per live TGW route table (the network account's two in us-east-1 and one in
    # eu-west-1, app-tgw's two in app-prod), one per customer list.
    assert stats["ec2:SearchTransitGatewayRoutes"] == 5
    assert stats["ec2:GetManagedPrefixListEntries"] == 1
