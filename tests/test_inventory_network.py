"""Inventory of the network model's resources: NACLs, ENIs, SG rules, TGWs, VPNs, EIPs, ..."""

from __future__ import annotations

import ipaddress

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    nacl_entry,
    open_nacl_entries,
    permission,
    tgw_route,
)
from vpcaudit.inventory import Inventory, NaclEntry, SgRule, TgwAttachment, TgwRoute

V6 = "2600:1f18:abcd:1200::/56"


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def attachment(inv: Inventory, attachment_id: str, account: str = ACCOUNT) -> TgwAttachment:
    return next(
        a
        for a in inv.tgw_attachments
        if a.attachment_id == attachment_id and a.account_id == account
    )


# -- subnets and route tables -----------------------------------------------------------------


def test_subnet_ipv6_and_owner() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a", ipv6=[V6])
        .subnet("subnet-a1", "vpc-a", ipv6=["2600:1f18:abcd:1201::/64"])
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24")
        .inventory()
    )
    by_id = {s.subnet_id: s for s in inv.subnets}
    assert by_id["subnet-a1"].ipv6_cidrs == ("2600:1f18:abcd:1201::/64",)
    assert by_id["subnet-a2"].ipv6_cidrs == ()
    assert by_id["subnet-a1"].owner_id == ACCOUNT


def test_route_table_edge_gateways_and_ipv6_local_route() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=[V6])
        .route_table("rtb-edge", "vpc-a", gateways=["igw-a", "vgw-a"])
        .route_table("rtb-main", "vpc-a", main=True)
        .inventory()
    )
    tables = {t.route_table_id: t for t in inv.route_tables}
    assert tables["rtb-edge"].gateway_ids == ("igw-a", "vgw-a")
    assert tables["rtb-edge"].subnet_ids == ()
    assert not tables["rtb-edge"].is_main
    assert tables["rtb-main"].gateway_ids == ()
    local = [(r.destination, r.target_id) for r in tables["rtb-main"].routes]
    assert local == [("10.0.0.0/16", "local"), (V6, "local")]


# -- network ACLs -----------------------------------------------------------------------------


def test_nacl_entries_sorted_with_final_deny() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .network_acl(
            "acl-a",
            "vpc-a",
            subnets=["subnet-a2", "subnet-a1"],
            entries=[
                nacl_entry(200, "deny", protocol="6", cidr="10.9.0.0/16", ports=(22, 22)),
                nacl_entry(100, protocol="6", ports=(443, 443)),
                nacl_entry(100, egress=True, protocol="6", ports=(1024, 65535)),
                nacl_entry(110, protocol="1", icmp=(8, -1)),
            ],
        )
        .inventory()
    )
    (acl,) = inv.network_acls
    assert (acl.nacl_id, acl.vpc_id, acl.owner_id, acl.is_default) == (
        "acl-a",
        "vpc-a",
        ACCOUNT,
        False,
    )
    assert acl.subnet_ids == ("subnet-a1", "subnet-a2")
    world = net("0.0.0.0/0")
    assert acl.entries == (
        NaclEntry(100, False, "6", True, world, 443, 443, -1, -1),
        NaclEntry(110, False, "1", True, world, -1, -1, 8, -1),
        NaclEntry(200, False, "6", False, net("10.9.0.0/16"), 22, 22, -1, -1),
        NaclEntry(32767, False, "-1", False, world, -1, -1, -1, -1),
        NaclEntry(100, True, "6", True, world, 1024, 65535, -1, -1),
        NaclEntry(32767, True, "-1", False, world, -1, -1, -1, -1),
    )


def test_default_nacl_of_an_ipv6_vpc_allows_all_and_denies_both_families_last() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a", ipv6=[V6])
        .network_acl("acl-d", "vpc-a", default=True, entries=open_nacl_entries())
        .inventory()
    )
    (acl,) = inv.network_acls
    assert acl.is_default
    summary = [(e.egress, e.rule_number, e.allow, str(e.cidr)) for e in acl.entries]
    assert sorted(summary) == summary
    for egress in (False, True):
        assert (egress, 100, True, "0.0.0.0/0") in summary
        assert (egress, 101, True, "::/0") in summary
        assert (egress, 32767, False, "0.0.0.0/0") in summary
        assert (egress, 32767, False, "::/0") in summary
    assert len(summary) == 8


def test_open_nacl_entries_ipv4_only() -> None:
    assert [(e["RuleNumber"], e["Egress"]) for e in open_nacl_entries(ipv6=False)] == [
        (100, False),
        (100, True),
    ]


def test_nacl_ipv6_entry_goes_to_ipv6_cidr_block() -> None:
    raw = nacl_entry(120, cidr="::/0", protocol="58")
    assert raw["Ipv6CidrBlock"] == "::/0"
    assert "CidrBlock" not in raw


# -- network interfaces -----------------------------------------------------------------------


def test_network_interface_addresses_groups_and_instance() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a", ipv6=[V6])
        .subnet("subnet-a1", "vpc-a", az="b")
        .network_interface(
            "eni-a",
            "subnet-a1",
            private_ip="10.0.1.10",
            secondary_ips=["10.0.1.11"],
            public_ip="203.0.113.5",
            ipv6=["2600:1f18:abcd:1201::10"],
            groups=["sg-web", "sg-0default"],
            instance_id="i-a",
            source_dest_check=False,
            description="web",
        )
        .network_interface(
            "eni-nat",
            "subnet-a1",
            private_ip="10.0.1.20",
            interface_type="nat_gateway",
            requester_managed=True,
            groups=(),
        )
        .inventory()
    )
    enis = {e.eni_id: e for e in inv.network_interfaces}
    eni = enis["eni-a"]
    assert (eni.vpc_id, eni.subnet_id, eni.availability_zone) == (
        "vpc-a",
        "subnet-a1",
        "us-east-1b",
    )
    assert eni.private_ips == ("10.0.1.10", "10.0.1.11")
    assert eni.public_ips == ("203.0.113.5",)
    assert eni.ipv6_ips == ("2600:1f18:abcd:1201::10",)
    assert eni.group_ids == ("sg-web", "sg-0default")
    assert eni.instance_id == "i-a"
    assert not eni.source_dest_check
    assert (eni.interface_type, eni.status, eni.description) == ("interface", "in-use", "web")
    nat = enis["eni-nat"]
    assert (nat.interface_type, nat.requester_managed, nat.instance_id) == ("nat_gateway", True, "")
    assert nat.public_ips == () and nat.group_ids == ()


def test_network_interface_needs_a_known_subnet_or_a_vpc() -> None:
    with pytest.raises(ValueError, match="subnet-x"):
        SnapshotBuilder().network_interface("eni-a", "subnet-x", private_ip="10.0.0.5")
    inv = (
        SnapshotBuilder()
        .network_interface("eni-a", "subnet-x", private_ip="10.0.0.5", vpc_id="vpc-x")
        .inventory()
    )
    assert inv.network_interfaces[0].vpc_id == "vpc-x"


# -- security group rules ---------------------------------------------------------------------


def test_sg_rules_flatten_cidrs_prefix_lists_and_groups() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .security_group(
            "sg-a",
            "vpc-a",
            ingress=[
                permission("tcp", 443, cidrs=["10.0.0.0/8"], ipv6=["::/0"], prefix_lists=["pl-1"]),
                permission("tcp", 8000, 8080, groups=["sg-b"]),
                permission(
                    "-1",
                    groups=[f"{OTHER_ACCOUNT}/sg-peer"],
                    peering_status="active",
                    group_vpc="vpc-peer",
                ),
            ],
            egress=[permission("udp", 53, cidrs=["10.0.0.2/32"])],
        )
        .inventory()
    )
    (sg,) = inv.security_groups
    assert sg.ingress == (
        SgRule(False, "tcp", 443, 443, net("10.0.0.0/8"), "", "", "", "", ""),
        SgRule(False, "tcp", 443, 443, net("::/0"), "", "", "", "", ""),
        SgRule(False, "tcp", 443, 443, None, "pl-1", "", "", "", ""),
        SgRule(False, "tcp", 8000, 8080, None, "", "sg-b", ACCOUNT, "", ""),
        SgRule(False, "-1", -1, -1, None, "", "sg-peer", OTHER_ACCOUNT, "vpc-peer", "active"),
    )
    assert sg.egress == (SgRule(True, "udp", 53, 53, net("10.0.0.2/32"), "", "", "", "", ""),)
    assert sg.open_ingress == ("tcp 443 from ::/0",)


def test_sg_default_egress_allows_all_and_ipv6_only_in_an_ipv6_vpc() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-4")
        .vpc("vpc-6", "10.1.0.0/16", ipv6=[V6])
        .security_group("sg-4", "vpc-4")
        .security_group("sg-6", "vpc-6")
        .security_group("sg-none", "vpc-6", egress=())
        .inventory()
    )
    groups = {g.group_id: g for g in inv.security_groups}
    assert [str(r.cidr) for r in groups["sg-4"].egress] == ["0.0.0.0/0"]
    assert [(r.protocol, str(r.cidr)) for r in groups["sg-6"].egress] == [
        ("-1", "0.0.0.0/0"),
        ("-1", "::/0"),
    ]
    assert groups["sg-none"].egress == ()
    assert groups["sg-4"].ingress == ()


# -- Transit Gateways -------------------------------------------------------------------------


def test_transit_gateway_options() -> None:
    inv = (
        SnapshotBuilder()
        .transit_gateway(
            "tgw-a",
            default_association=False,
            propagation_default_rt="tgw-rtb-p",
            auto_accept_shared=True,
            sg_referencing=True,
            name="hub",
        )
        .transit_gateway("tgw-b", association_default_rt="tgw-rtb-b", owner=OTHER_ACCOUNT)
        .inventory()
    )
    tgws = {t.tgw_id: t for t in inv.transit_gateways}
    a, b = tgws["tgw-a"], tgws["tgw-b"]
    assert (a.default_association, a.default_propagation) == (False, True)
    assert (a.association_default_rt, a.propagation_default_rt) == ("", "tgw-rtb-p")
    assert (a.auto_accept_shared, a.sg_referencing, a.state) == (True, True, "available")
    assert a.tags == (("Name", "hub"),)
    assert (b.default_association, b.association_default_rt) == (True, "tgw-rtb-b")
    assert (b.auto_accept_shared, b.sg_referencing) == (False, False)
    assert (b.owner_id, b.account_id) == (OTHER_ACCOUNT, ACCOUNT)


def _hub() -> SnapshotBuilder:
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.1.0.0/16")
        .transit_gateway("tgw-0hub", association_default_rt="tgw-rtb-main")
        .tgw_attachment("tgw-attach-a", "vpc-a", subnets=["subnet-a2", "subnet-a1"])
        .tgw_attachment("tgw-attach-b", "vpc-b", appliance_mode=True, association="tgw-rtb-main")
        .tgw_attachment(
            "tgw-attach-vpn", "", resource_type="vpn", resource_id="vpn-1", association="tgw-rtb-x"
        )
    )


def test_tgw_route_table_routes_associations_propagations() -> None:
    inv = (
        _hub()
        .tgw_route_table(
            "tgw-rtb-main",
            "tgw-0hub",
            default_association=True,
            routes=[
                tgw_route("10.0.0.0/16", ["tgw-attach-a"], route_type="propagated"),
                tgw_route("10.1.0.0/16", ["tgw-attach-b"]),
                tgw_route("0.0.0.0/0", ["tgw-attach-vpn", "tgw-attach-b"]),
                tgw_route("192.168.0.0/16", state="blackhole"),
                tgw_route("pl-1", ["tgw-attach-b"]),
            ],
            associations=["tgw-attach-b", "tgw-attach-a"],
            propagations=["tgw-attach-a"],
        )
        .inventory()
    )
    (rt,) = inv.tgw_route_tables
    assert (rt.route_table_id, rt.tgw_id, rt.state) == ("tgw-rtb-main", "tgw-0hub", "available")
    assert (rt.is_default_association, rt.is_default_propagation) == (True, False)
    assert rt.routes_read
    assert rt.routes == (
        TgwRoute("10.0.0.0/16", "propagated", "active", ("tgw-attach-a",)),
        TgwRoute("10.1.0.0/16", "static", "active", ("tgw-attach-b",)),
        TgwRoute("0.0.0.0/0", "static", "active", ("tgw-attach-b", "tgw-attach-vpn")),
        TgwRoute("192.168.0.0/16", "static", "blackhole", ()),
        TgwRoute("pl-1", "static", "active", ("tgw-attach-b",)),
    )
    assert rt.associations == ("tgw-attach-a", "tgw-attach-b")
    assert rt.propagations == ("tgw-attach-a",)
    # Read from the tables: the VPN attachment's Association field (tgw-rtb-x) is not believed.
    assert attachment(inv, "tgw-attach-a").association_rt_id == "tgw-rtb-main"
    assert attachment(inv, "tgw-attach-b").association_rt_id == "tgw-rtb-main"
    assert attachment(inv, "tgw-attach-vpn").association_rt_id == ""


def test_tgw_route_attachments_carry_their_resources_in_the_raw_snapshot() -> None:
    snap = (
        _hub()
        .tgw_route_table(
            "tgw-rtb-main",
            "tgw-0hub",
            routes=[tgw_route("0.0.0.0/0", ["tgw-attach-vpn", "tgw-attach-zzz"])],
            associations=["tgw-attach-a"],
        )
        .build()
    )
    res = snap.regions[0].resources
    (raw,) = res["tgw_routes"]
    assert raw["TransitGatewayRouteTableId"] == "tgw-rtb-main"
    assert raw["TransitGatewayAttachments"] == [
        {
            "TransitGatewayAttachmentId": "tgw-attach-vpn",
            "ResourceId": "vpn-1",
            "ResourceType": "vpn",
        },
        {"TransitGatewayAttachmentId": "tgw-attach-zzz", "ResourceId": "", "ResourceType": "vpc"},
    ]
    (assoc,) = res["tgw_associations"]
    assert assoc == {
        "TransitGatewayAttachmentId": "tgw-attach-a",
        "State": "associated",
        "TransitGatewayRouteTableId": "tgw-rtb-main",
        "ResourceId": "vpc-a",
        "ResourceType": "vpc",
    }


def test_tgw_vpc_attachment_subnets_appliance_mode_and_owner() -> None:
    inv = _hub().inventory()
    a, b = attachment(inv, "tgw-attach-a"), attachment(inv, "tgw-attach-b")
    assert a.subnet_ids == ("subnet-a1", "subnet-a2")
    assert (a.appliance_mode, b.appliance_mode) == (False, True)
    assert (a.resource_type, a.resource_id, a.tgw_owner_id, a.resource_owner_id) == (
        "vpc",
        "vpc-a",
        ACCOUNT,
        ACCOUNT,
    )
    vpn = attachment(inv, "tgw-attach-vpn")
    assert (vpn.resource_type, vpn.resource_id, vpn.subnet_ids) == ("vpn", "vpn-1", ())


def test_attachment_association_from_its_own_field_when_no_tgw_table_was_read() -> None:
    inv = _hub().inventory()
    assert attachment(inv, "tgw-attach-a").association_rt_id == ""  # no Association field
    assert attachment(inv, "tgw-attach-b").association_rt_id == "tgw-rtb-main"
    assert attachment(inv, "tgw-attach-vpn").association_rt_id == "tgw-rtb-x"


def test_shared_tgw_whose_owner_was_not_scanned_uses_the_association_field() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .tgw_attachment(
            "tgw-attach-s",
            "vpc-a",
            transit_gateway_id="tgw-shared",
            tgw_owner=OTHER_ACCOUNT,
            association="tgw-rtb-owner",
        )
        # Another TGW's tables were read here: they say nothing about tgw-shared.
        .transit_gateway("tgw-local")
        .tgw_route_table("tgw-rtb-local", "tgw-local", associations=["tgw-attach-l"])
        .inventory()
    )
    att = attachment(inv, "tgw-attach-s")
    assert (att.tgw_owner_id, att.association_rt_id) == (OTHER_ACCOUNT, "tgw-rtb-owner")


def test_shared_tgw_tables_read_in_the_owner_account_decide_the_association() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .tgw_attachment(
            "tgw-attach-s",
            "vpc-a",
            transit_gateway_id="tgw-shared",
            tgw_owner=OTHER_ACCOUNT,
            association="tgw-rtb-stale",
        )
        .transit_gateway("tgw-shared", account=OTHER_ACCOUNT)
        .tgw_route_table(
            "tgw-rtb-spokes", "tgw-shared", associations=["tgw-attach-s"], account=OTHER_ACCOUNT
        )
        .inventory()
    )
    assert attachment(inv, "tgw-attach-s").association_rt_id == "tgw-rtb-spokes"


def test_tgw_route_gap_leaves_routes_unread_and_association_gap_falls_back() -> None:
    builder = _hub().tgw_route_table(
        "tgw-rtb-main",
        "tgw-0hub",
        routes=[tgw_route("10.0.0.0/16", ["tgw-attach-a"])],
        associations=["tgw-attach-a"],
    )
    inv = (
        builder.gap("SearchTransitGatewayRoutes")
        .gap("GetTransitGatewayRouteTableAssociations")
        .inventory()
    )
    (rt,) = inv.tgw_route_tables
    assert not rt.routes_read and rt.routes == () and rt.associations == ()
    assert not inv.was_read(ACCOUNT, REGION, "tgw_routes")
    # The association lists were not read: the attachments' own Association fields are used.
    assert attachment(inv, "tgw-attach-a").association_rt_id == ""
    assert attachment(inv, "tgw-attach-b").association_rt_id == "tgw-rtb-main"


def test_tgw_peering_seen_from_both_sides() -> None:
    inv = (
        SnapshotBuilder()
        .transit_gateway("tgw-east")
        .transit_gateway("tgw-west", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .tgw_peering(
            "tgw-attach-peer",
            requester=("tgw-east", ACCOUNT, REGION),
            accepter=("tgw-west", OTHER_ACCOUNT, OTHER_REGION),
        )
        .inventory()
    )
    east = attachment(inv, "tgw-attach-peer", ACCOUNT)
    west = attachment(inv, "tgw-attach-peer", OTHER_ACCOUNT)
    assert (east.transit_gateway_id, east.resource_type, east.resource_id) == (
        "tgw-east",
        "peering",
        "tgw-west",
    )
    assert (east.peer_tgw_id, east.peer_account_id, east.peer_region) == (
        "tgw-west",
        OTHER_ACCOUNT,
        OTHER_REGION,
    )
    assert (west.transit_gateway_id, west.region, west.resource_id) == (
        "tgw-west",
        OTHER_REGION,
        "tgw-east",
    )
    assert (west.peer_tgw_id, west.peer_account_id, west.peer_region) == (
        "tgw-east",
        ACCOUNT,
        REGION,
    )


def test_tgw_peering_one_side_only() -> None:
    inv = (
        SnapshotBuilder()
        .tgw_peering(
            "tgw-attach-peer",
            requester=("tgw-east", ACCOUNT, REGION),
            accepter=("tgw-ext", OTHER_ACCOUNT, OTHER_REGION),
            state="pendingAcceptance",
            sides=["requester"],
        )
        .inventory()
    )
    (att,) = inv.tgw_attachments
    assert (att.account_id, att.state, att.peer_tgw_id) == (ACCOUNT, "pendingAcceptance", "tgw-ext")
    assert inv.scanned_regions == frozenset({(ACCOUNT, REGION)})


def test_existing_tgw_attachment_callers_keep_working() -> None:
    inv = SnapshotBuilder().vpc("vpc-a").tgw_attachment("tgw-attach-1", "vpc-a").inventory()
    (att,) = inv.tgw_attachments_of("vpc-a")
    assert (att.transit_gateway_id, att.state, att.association_rt_id) == (
        "tgw-0hub",
        "available",
        "",
    )


# -- gateways, VPNs, addresses, prefix lists --------------------------------------------------


def test_egress_only_igw() -> None:
    inv = SnapshotBuilder().vpc("vpc-a", ipv6=[V6]).egress_only_igw("eigw-a", "vpc-a").inventory()
    (g,) = inv.egress_only_igws
    assert (g.gateway_id, g.attached_vpc_ids) == ("eigw-a", ("vpc-a",))


def test_vpn_connections_static_routes_and_tunnels() -> None:
    inv = (
        SnapshotBuilder()
        .vpn_connection(
            "vpn-1", vpn_gateway="vgw-a", static_routes=["192.168.0.0/16", "172.16.0.0/12"]
        )
        .vpn_connection("vpn-2", transit_gateway="tgw-0hub", tunnels_up=1)
        .vpn_connection("vpn-3", vpn_gateway="vgw-a", tunnels_up=0, state="pending")
        .inventory()
    )
    vpns = {v.vpn_id: v for v in inv.vpn_connections}
    v1, v2, v3 = vpns["vpn-1"], vpns["vpn-2"], vpns["vpn-3"]
    assert (v1.vpn_gateway_id, v1.transit_gateway_id, v1.customer_gateway_id) == (
        "vgw-a",
        "",
        "cgw-0onprem",
    )
    assert v1.static_routes == ("192.168.0.0/16", "172.16.0.0/12")
    assert (v1.tunnels_up, v1.tunnels, v1.state) == (2, 2, "available")
    assert (v2.transit_gateway_id, v2.vpn_gateway_id, v2.static_routes) == ("tgw-0hub", "", ())
    assert (v2.tunnels_up, v2.tunnels) == (1, 2)
    assert (v3.tunnels_up, v3.state) == (0, "pending")


def test_elastic_ips() -> None:
    inv = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .subnet("subnet-a1", "vpc-a")
        .network_interface("eni-a", "subnet-a1", private_ip="10.0.1.10", instance_id="i-a")
        .elastic_ip("eipalloc-1", "198.51.100.7", eni="eni-a", instance="i-a")
        .elastic_ip("eipalloc-2", "198.51.100.8", eni="eni-x", private_ip="10.0.1.99")
        .elastic_ip("eipalloc-3", "198.51.100.9")
        .inventory()
    )
    eips = {e.allocation_id: e for e in inv.elastic_ips}
    one = eips["eipalloc-1"]
    assert (one.public_ip, one.eni_id, one.private_ip, one.instance_id) == (
        "198.51.100.7",
        "eni-a",
        "10.0.1.10",
        "i-a",
    )
    assert one.association_id == "eipassoc-eipalloc-1"
    assert (eips["eipalloc-2"].eni_id, eips["eipalloc-2"].private_ip) == ("eni-x", "10.0.1.99")
    idle = eips["eipalloc-3"]
    assert (idle.association_id, idle.eni_id, idle.private_ip, idle.instance_id) == ("", "", "", "")


def test_customer_prefix_list_is_expanded_and_aws_managed_is_not() -> None:
    inv = (
        SnapshotBuilder()
        .prefix_list("pl-s3", "com.amazonaws.us-east-1.s3")
        .prefix_list("pl-corp", "corp", owner=ACCOUNT, entries=["10.50.0.0/16", "192.168.0.0/24"])
        .prefix_list("pl-empty", "empty", owner=ACCOUNT)
        .inventory()
    )
    pls = {p.prefix_list_id: p for p in inv.prefix_lists}
    assert pls["pl-s3"].cidrs is None and pls["pl-s3"].owner_id == "AWS"
    assert pls["pl-corp"].cidrs == (net("10.50.0.0/16"), net("192.168.0.0/24"))
    assert (pls["pl-corp"].owner_id, pls["pl-corp"].name) == (ACCOUNT, "corp")
    assert pls["pl-empty"].cidrs == ()
    assert inv.prefix_list_names[(REGION, "pl-corp")] == "corp"


def test_prefix_list_entries_gap_leaves_customer_lists_unexpanded() -> None:
    inv = (
        SnapshotBuilder()
        .prefix_list("pl-corp", "corp", owner=ACCOUNT, entries=["10.50.0.0/16"])
        .gap("GetManagedPrefixListEntries")
        .inventory()
    )
    assert inv.prefix_lists[0].cidrs is None


def test_nat_gateway_addresses() -> None:
    inv = (
        SnapshotBuilder()
        .nat_gateway("nat-default", "vpc-a")
        .nat_gateway("nat-pub", "vpc-a", private_ip="10.0.0.50", public_ip="198.51.100.50")
        .nat_gateway("nat-priv", "vpc-a", connectivity="private", private_ip="10.0.3.9")
        .nat_gateway("nat-nopub", "vpc-a", public_ip=None)
        .inventory()
    )
    nats = {n.nat_gateway_id: (n.eni_id, n.private_ip, n.public_ip) for n in inv.nat_gateways}
    assert nats == {
        "nat-default": ("eni-nat-default", "10.0.0.10", "203.0.113.10"),
        "nat-pub": ("eni-nat-pub", "10.0.0.50", "198.51.100.50"),
        "nat-priv": ("eni-nat-priv", "10.0.3.9", ""),
        "nat-nopub": ("eni-nat-nopub", "10.0.0.10", ""),
    }


def test_endpoint_network_interfaces() -> None:
    inv = (
        SnapshotBuilder()
        .endpoint("vpce-gen", "vpc-a", "sqs", subnets=["subnet-a1", "subnet-a2"])
        .endpoint("vpce-given", "vpc-a", "sqs", subnets=["subnet-a1"], network_interfaces=["eni-1"])
        .endpoint("vpce-gw", "vpc-a", "s3", endpoint_type="Gateway")
        .inventory()
    )
    eps = {e.endpoint_id: e.network_interface_ids for e in inv.endpoints}
    assert eps == {
        "vpce-gen": ("eni-vpce-gen-subnet-a1", "eni-vpce-gen-subnet-a2"),
        "vpce-given": ("eni-1",),
        "vpce-gw": (),
    }


# -- scanned kinds and gaps -------------------------------------------------------------------


def test_scan_marks_every_new_kind_read_and_a_gap_removes_it() -> None:
    inv = SnapshotBuilder().scan().gap("DescribeNetworkAcls").inventory()
    assert not inv.was_read(ACCOUNT, REGION, "network_acls")
    for kind in (
        "network_interfaces",
        "transit_gateways",
        "tgw_route_tables",
        "tgw_routes",
        "tgw_associations",
        "tgw_propagations",
        "egress_only_igws",
        "vpn_connections",
        "addresses",
        "prefix_list_entries",
    ):
        assert inv.was_read(ACCOUNT, REGION, kind), kind
    assert inv.network_acls == ()
