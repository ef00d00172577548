"""The demo's Transit Gateway network, for `vpcaudit path`: instances behind security groups
and network ACLs, routed through a TGW hub with two route tables and a peering to Europe.

All of it is in the network account: moto keeps a TGW in its owner's account only (its RAM
shares nothing), so an attachment from another account's VPC fails there. Addresses are fixed,
ids are not.

us-east-1, TGW core-tgw (default route-table association and propagation off):
- prod-app 10.20.0.0/16, with an IPv6 block and an egress-only internet gateway for ::/0.
  app 10.20.1.10 (subnet a): the client of the questions. reports 10.20.3.10 (subnet
  10.20.3.0/24): its custom network ACL admits https from 10/8 and lets out only https, so its
  replies to a client's ephemeral port are dropped. Routes 10/8 and 172.24/16 to the TGW and
  10.64/16 to a Cloud WAN core network. Attached in subnets a and b, associated with "prod".
- shared-services 10.10.0.0/16, with an internet gateway: web 10.10.1.10 (https from the
  corp-networks prefix list: 10/8, 172.16/12); admin 10.10.2.10 (ssh from app's /32 only);
  edge 10.10.1.20 with an Elastic IP (https from anywhere). Associated with "shared".
- sandbox 10.30.0.0/16: sandbox-api 10.30.1.10. Associated with "shared".
- TGW route table "prod": shared-services propagated; 172.24/16 static to the TGW peering;
  0.0.0.0/0 static to shared-services (the hub's way out), with 10.30/16 a static blackhole
  carved out of it (production must not reach the sandbox).
- TGW route table "shared": prod-app, shared-services and sandbox propagated; 172.24/16 static
  to the peering, whose attachment is associated here (replies from Europe).
eu-west-1, TGW eu-tgw, peered with core-tgw (accepted):
- eu-shared 172.24.0.0/16: eu-api 172.24.1.10 (https from 10/8); routes 10/8 to eu-tgw.
- TGW route table "eu": eu-shared propagated; 10/8 static to the peering.
In the hub VPC: hub-tools 10.0.1.10, whose route to the partner's VPC (peered, outside the
Organization) leads where the scan cannot follow. The hub's VPN gateway has a VPN connection
to the corp-dc customer gateway, with no static routes (moto cannot add them).
"""

from __future__ import annotations

from typing import Any

from vpcaudit.demo.accounts import (
    EU_REGION,
    HUB_REGION,
    Account,
    ExpectedPath,
    Seeded,
    name_tag,
)
from vpcaudit.demo.fidelity import MotoFidelity

AMI = "ami-12c6146b"
CORE_NETWORK = "core-network-0de70c0de70c0de70"
_OFF = {"DefaultRouteTableAssociation": "disable", "DefaultRouteTablePropagation": "disable"}


def _https(cidr: str = "", prefix_list: str = "", port: int = 443) -> list[dict[str, Any]]:
    """One tcp permission from a CIDR or a prefix list."""
    perm: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        perm["IpRanges"] = [{"CidrIp": cidr}]
    if prefix_list:
        perm["PrefixListIds"] = [{"PrefixListId": prefix_list}]
    return [perm]


class Tgw:
    """One Transit Gateway: its route tables, attachments and routes, recorded for fidelity.

    Made with default route-table association and propagation off unless `options` say
    otherwise; with them on, EC2 makes a default route table (kept as `default_table`, named
    "NAME-default" in `Seeded.tgw_route_tables`)."""

    def __init__(
        self,
        owner: Account,
        region: str,
        name: str,
        fidelity: MotoFidelity,
        seeded: Seeded,
        *,
        options: dict[str, str] | None = None,
    ) -> None:
        self.ec2 = owner.ec2(region)
        self.owner = owner
        self.region = region
        self.fidelity = fidelity
        self.seeded = seeded
        options = _OFF if options is None else options
        tgw = self.ec2.create_transit_gateway(
            Description=name, Options=options, TagSpecifications=name_tag("transit-gateway", name)
        )["TransitGateway"]
        self.id = str(tgw["TransitGatewayId"])
        default = str(tgw["Options"].get("AssociationDefaultRouteTableId", ""))
        off = options.get("DefaultRouteTableAssociation") == "disable"
        # With the defaults off, moto's default table is one EC2 would not have made.
        fidelity.record_transit_gateway(
            self.id, region, default if off else "", owner=owner.account_id
        )
        self.default_table = "" if off else default
        if self.default_table:
            fidelity.record_tgw_table(default, self.id)
            seeded.tgw_route_tables[f"{name}-default"] = default
        seeded.transit_gateways[name] = self.id

    def table(self, name: str) -> str:
        rt = self.ec2.create_transit_gateway_route_table(
            TransitGatewayId=self.id,
            TagSpecifications=name_tag("transit-gateway-route-table", name),
        )["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
        self.fidelity.record_tgw_table(rt, self.id)
        self.seeded.tgw_route_tables[name] = rt
        return str(rt)

    def attach(self, vpc: str, subnets: list[str], cidrs: tuple[str, ...]) -> str:
        """Attach a seeded VPC (by name) in the given subnets."""
        att = self.ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=self.id,
            VpcId=self.seeded.vpcs[vpc],
            SubnetIds=subnets,
            TagSpecifications=name_tag("transit-gateway-attachment", vpc),
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        self.fidelity.record_tgw_vpc_attachment(att, self.seeded.vpcs[vpc], cidrs)
        self.seeded.tgw_attachments[vpc] = att
        return str(att)

    def peer(self, accepter: Tgw, *, accept: bool = True) -> str:
        """Request a peering with a TGW in another region, and accept it there (or not)."""
        att = self.ec2.create_transit_gateway_peering_attachment(
            TransitGatewayId=self.id,
            PeerTransitGatewayId=accepter.id,
            PeerAccountId=accepter.owner.account_id,
            PeerRegion=accepter.region,
        )["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]
        if accept:
            accepter.ec2.accept_transit_gateway_peering_attachment(TransitGatewayAttachmentId=att)
        self.fidelity.record_tgw_peering(att, self.id, accepter.id)
        return str(att)

    def associate(self, table: str, attachment: str) -> None:
        self.ec2.associate_transit_gateway_route_table(
            TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=attachment
        )
        self.fidelity.record_tgw_association(table, attachment)

    def propagate(self, table: str, *attachments: str) -> None:
        for att in attachments:
            self.ec2.enable_transit_gateway_route_table_propagation(
                TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=att
            )
            self.fidelity.record_tgw_propagation(table, att)

    def route(self, table: str, cidr: str, attachment: str | None) -> None:
        """A static route, or a blackhole when attachment is None."""
        target: dict[str, Any] = (
            {"TransitGatewayAttachmentId": attachment} if attachment else {"Blackhole": True}
        )
        self.ec2.create_transit_gateway_route(
            TransitGatewayRouteTableId=table, DestinationCidrBlock=cidr, **target
        )
        self.fidelity.record_tgw_route(table, cidr, attachment or "")


def seed_network(seeded: Seeded, fidelity: MotoFidelity, net: Account) -> tuple[Tgw, Tgw]:
    """Build the TGW network of the module docstring in the network account: (core-tgw,
    eu-tgw)."""
    us = net.ec2(HUB_REGION)
    prod = _vpc(net, HUB_REGION, "prod-app", "10.20.0.0/16")
    reports = us.create_subnet(
        VpcId=seeded.vpcs["prod-app"], CidrBlock="10.20.3.0/24", AvailabilityZone="us-east-1a"
    )["Subnet"]["SubnetId"]
    us.associate_route_table(RouteTableId=seeded.route_tables["prod-app"], SubnetId=reports)
    seeded.subnets["prod-app-reports"] = reports
    shared = _vpc(net, HUB_REGION, "shared-services", "10.10.0.0/16")
    sandbox = _vpc(net, HUB_REGION, "sandbox", "10.30.0.0/16", zones="a")
    eu_shared = _vpc(net, EU_REGION, "eu-shared", "172.24.0.0/16", zones="a")

    core, eu_tgw = (
        Tgw(net, HUB_REGION, "core-tgw", fidelity, seeded),
        Tgw(net, EU_REGION, "eu-tgw", fidelity, seeded),
    )
    t_prod, t_shared, t_eu = core.table("prod"), core.table("shared"), eu_tgw.table("eu")
    a_prod = core.attach("prod-app", prod, ("10.20.0.0/16",))
    a_shared = core.attach("shared-services", shared, ("10.10.0.0/16",))
    a_sandbox = core.attach("sandbox", sandbox, ("10.30.0.0/16",))
    a_eu = eu_tgw.attach("eu-shared", eu_shared, ("172.24.0.0/16",))
    a_peer = core.peer(eu_tgw)
    seeded.tgw_attachments["core-eu-peering"] = a_peer

    core.associate(t_prod, a_prod)
    core.propagate(t_prod, a_shared)
    core.route(t_prod, "172.24.0.0/16", a_peer)
    # What prod sends to the TGW for no other route goes to shared-services, the hub's way out;
    # the sandbox is carved out of it: production must not reach the sandbox.
    core.route(t_prod, "0.0.0.0/0", a_shared)
    core.route(t_prod, "10.30.0.0/16", None)
    for att in (a_shared, a_sandbox, a_peer):
        core.associate(t_shared, att)
    core.propagate(t_shared, a_prod, a_shared, a_sandbox)
    core.route(t_shared, "172.24.0.0/16", a_peer)
    eu_tgw.associate(t_eu, a_eu)
    eu_tgw.associate(t_eu, a_peer)
    eu_tgw.propagate(t_eu, a_eu)
    eu_tgw.route(t_eu, "10.0.0.0/8", a_peer)

    rt = seeded.route_tables
    for region, table, cidrs, tgw in (
        (HUB_REGION, rt["prod-app"], ("10.0.0.0/8", "172.24.0.0/16"), core.id),
        (HUB_REGION, rt["shared-services"], ("10.0.0.0/8", "172.24.0.0/16"), core.id),
        (HUB_REGION, rt["sandbox"], ("10.0.0.0/8",), core.id),
        (EU_REGION, rt["eu-shared"], ("10.0.0.0/8",), eu_tgw.id),
    ):
        for cidr in cidrs:
            net.ec2(region).create_route(
                RouteTableId=table, DestinationCidrBlock=cidr, TransitGatewayId=tgw
            )
    _seed_hosts(seeded, net)
    _seed_reports_acl(seeded, net)
    _seed_gateways(seeded, fidelity, net)
    _record_paths(seeded)
    return core, eu_tgw


def _vpc(net: Account, region: str, name: str, cidr: str, zones: str = "ab") -> list[str]:
    """A VPC of the TGW network (flow-logged like every correct one); its subnets."""
    _, _, subnets = net.vpc(region, name, cidr, zones)
    for zone, subnet in zip(zones, subnets, strict=True):
        net.seeded.subnets[f"{name}-{zone}"] = subnet
    return subnets


def _group(ec2: Any, seeded: Seeded, vpc: str, name: str, ingress: list[dict[str, Any]]) -> str:
    """A security group in a seeded VPC (by name); egress stays the default allow-all."""
    gid = str(
        ec2.create_security_group(GroupName=name, Description=name, VpcId=seeded.vpcs[vpc])[
            "GroupId"
        ]
    )
    if ingress:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=ingress)
    seeded.security_groups[f"{vpc}/{name}"] = gid
    return gid


def _instance(
    ec2: Any, seeded: Seeded, name: str, subnet: str, ip: str, *, groups: list[str]
) -> str:
    """An instance at a fixed private IP, so the questions about it are the same every run."""
    extra: dict[str, Any] = {"SecurityGroupIds": groups} if groups else {}
    iid = str(
        ec2.run_instances(
            ImageId=AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnet,
            PrivateIpAddress=ip,
            TagSpecifications=name_tag("instance", name),
            **extra,
        )["Instances"][0]["InstanceId"]
    )
    seeded.instances[name] = iid
    return iid


def _seed_hosts(seeded: Seeded, net: Account) -> None:
    """The instances and their security groups."""
    us, eu = net.ec2(HUB_REGION), net.ec2(EU_REGION)
    corp = us.create_managed_prefix_list(
        PrefixListName="corp-networks",
        AddressFamily="IPv4",
        MaxEntries=10,
        Entries=[
            {"Cidr": "10.0.0.0/8", "Description": "VPCs in us-east-1"},
            {"Cidr": "172.16.0.0/12", "Description": "VPCs in eu-west-1"},
        ],
        TagSpecifications=name_tag("prefix-list", "corp-networks"),
    )["PrefixList"]["PrefixListId"]
    seeded.prefix_lists["corp-networks"] = corp
    sn = seeded.subnets
    app_sg = _group(us, seeded, "prod-app", "app-tier", [])
    _instance(us, seeded, "app", sn["prod-app-a"], "10.20.1.10", groups=[app_sg])
    reports_sg = _group(us, seeded, "prod-app", "https-internal", _https("10.0.0.0/8"))
    _instance(us, seeded, "reports", sn["prod-app-reports"], "10.20.3.10", groups=[reports_sg])
    web_sg = _group(us, seeded, "shared-services", "https-corp", _https(prefix_list=corp))
    _instance(us, seeded, "web", sn["shared-services-a"], "10.10.1.10", groups=[web_sg])
    admin_sg = _group(
        us, seeded, "shared-services", "ssh-from-app", _https("10.20.1.10/32", port=22)
    )
    _instance(us, seeded, "admin", sn["shared-services-b"], "10.10.2.10", groups=[admin_sg])
    edge_sg = _group(us, seeded, "shared-services", "https-public", _https("0.0.0.0/0"))
    _instance(us, seeded, "edge", sn["shared-services-a"], "10.10.1.20", groups=[edge_sg])
    sandbox_sg = _group(us, seeded, "sandbox", "https-internal", _https("10.0.0.0/8"))
    _instance(us, seeded, "sandbox-api", sn["sandbox-a"], "10.30.1.10", groups=[sandbox_sg])
    eu_sg = _group(eu, seeded, "eu-shared", "https-internal", _https("10.0.0.0/8"))
    _instance(eu, seeded, "eu-api", sn["eu-shared-a"], "172.24.1.10", groups=[eu_sg])
    # In the hub, in the VPC's default security group (all egress).
    hub_a = us.describe_subnets(
        Filters=[
            {"Name": "vpc-id", "Values": [seeded.vpcs["hub"]]},
            {"Name": "cidr-block", "Values": ["10.0.1.0/24"]},
        ]
    )["Subnets"][0]["SubnetId"]
    _instance(us, seeded, "hub-tools", hub_a, "10.0.1.10", groups=[])


def _seed_reports_acl(seeded: Seeded, net: Account) -> None:
    """reports' subnet ACL: https in from 10/8 and replies to its own calls in; only https out.
    The replies to its clients (to their ephemeral ports, 1024-65535) are never let out."""
    us = net.ec2(HUB_REGION)
    acl = us.create_network_acl(
        VpcId=seeded.vpcs["prod-app"], TagSpecifications=name_tag("network-acl", "reports")
    )["NetworkAcl"]["NetworkAclId"]
    for rule, egress, cidr, low, high in (
        (100, False, "10.0.0.0/8", 443, 443),
        (110, False, "0.0.0.0/0", 1024, 65535),
        (100, True, "0.0.0.0/0", 443, 443),
    ):
        us.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=rule,
            Protocol="6",
            RuleAction="allow",
            Egress=egress,
            CidrBlock=cidr,
            PortRange={"From": low, "To": high},
        )
    subnet = seeded.subnets["prod-app-reports"]
    current = us.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["NetworkAcls"][0]
    association = next(
        a["NetworkAclAssociationId"] for a in current["Associations"] if a["SubnetId"] == subnet
    )
    us.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    seeded.network_acls["reports"] = acl


def _seed_gateways(seeded: Seeded, fidelity: MotoFidelity, net: Account) -> None:
    """Internet, egress-only, Elastic IP, Cloud WAN and VPN: the edges of the TGW network."""
    us = net.ec2(HUB_REGION)
    gw = seeded.gateways
    shared, prod = seeded.vpcs["shared-services"], seeded.vpcs["prod-app"]
    igw = us.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    gw["shared-services-igw"] = igw
    us.attach_internet_gateway(InternetGatewayId=igw, VpcId=shared)
    us.create_route(
        RouteTableId=seeded.route_tables["shared-services"],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=igw,
    )
    eip = us.allocate_address(Domain="vpc")["AllocationId"]
    gw["edge-eip"] = eip
    us.associate_address(AllocationId=eip, InstanceId=seeded.instances["edge"])
    # prod-app: IPv6 out through an egress-only gateway; 10.64/16 is reached over Cloud WAN.
    us.associate_vpc_cidr_block(VpcId=prod, AmazonProvidedIpv6CidrBlock=True)
    fidelity.record_ipv6_vpc(prod)
    eigw = us.create_egress_only_internet_gateway(VpcId=prod)["EgressOnlyInternetGateway"][
        "EgressOnlyInternetGatewayId"
    ]
    gw["prod-app-eigw"] = eigw
    prod_rt = seeded.route_tables["prod-app"]
    us.create_route(
        RouteTableId=prod_rt, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=eigw
    )
    arn = f"arn:aws:networkmanager::{net.account_id}:core-network/{CORE_NETWORK}"
    us.create_route(RouteTableId=prod_rt, DestinationCidrBlock="10.64.0.0/16", CoreNetworkArn=arn)
    fidelity.record_core_network_route(prod_rt, "10.64.0.0/16", arn)
    cgw = us.create_customer_gateway(
        BgpAsn=65000,
        PublicIp="198.51.100.10",
        Type="ipsec.1",
        TagSpecifications=name_tag("customer-gateway", "corp-dc"),
    )["CustomerGateway"]["CustomerGatewayId"]
    gw["corp-dc-cgw"] = cgw
    gw["hub-vpn"] = us.create_vpn_connection(
        CustomerGatewayId=cgw,
        VpnGatewayId=gw["hub-vgw"],
        Type="ipsec.1",
        Options={"StaticRoutesOnly": True},
    )["VpnConnection"]["VpnConnectionId"]


def _record_paths(seeded: Seeded) -> None:
    """The questions `vpcaudit path` answers on the demo, with AWS's answer to each."""
    app = "10.20.1.10"
    seeded.paths |= {
        # prod table: 10.10/16 propagated from shared-services; web admits 10/8 (prefix list);
        # the reply: 10/8 to the TGW, shared table, 10.20/16 propagated from prod-app.
        "reachable": ExpectedPath(app, "10.10.1.10", "tcp", 443, "reachable", ""),
        # prod table: 172.24/16 to the peering; eu table: propagated from eu-shared. The reply:
        # eu table 10/8 back over the peering, whose attachment is associated with "shared".
        "reachable-cross-region": ExpectedPath(app, "172.24.1.10", "tcp", 443, "reachable", ""),
        "reachable-ssh": ExpectedPath(app, "10.10.2.10", "tcp", 22, "reachable", ""),
        "blocked-by-route": ExpectedPath(
            app, "10.30.1.10", "tcp", 443, "not-reachable", "TGW_BLACKHOLE_ROUTE"
        ),
        # eu-legacy's 172.20/16: prod-app's table has no route there.
        "blocked-by-no-route": ExpectedPath(
            app, "172.20.1.10", "tcp", 443, "not-reachable", "NO_ROUTE"
        ),
        # admin admits ssh from app's /32 and nothing else.
        "blocked-by-security-group": ExpectedPath(
            app, "10.10.2.10", "tcp", 443, "not-reachable", "SG_INGRESS_DENIED"
        ),
        # In, the ACL admits https; out, the reply to app's ephemeral port meets the final deny.
        "blocked-by-nacl-return": ExpectedPath(
            app, "10.20.3.10", "tcp", 443, "not-reachable", "NACL_EGRESS_DENIED"
        ),
        # The hub's route to 192.168/16 crosses the peering into the partner's account.
        "unknown": ExpectedPath(
            "10.0.1.10", "192.168.1.10", "tcp", 443, "unknown", "UNSCANNED_ACCOUNT"
        ),
        "unknown-cloud-wan": ExpectedPath(app, "10.64.1.10", "tcp", 443, "unknown", "CLOUD_WAN"),
    }
