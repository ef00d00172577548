"""Golden test of the network model (issue 10): one organization, many questions, answers
written by hand from AWS's documented behaviour before the model answered them.

The expectations below are the independent check of `vpcaudit.network.NetworkModel`. They follow
docs/network-model.md where it makes a modelling choice (representative addresses, ephemeral
ports 1024-65535, TGW attachment-subnet NACLs not evaluated, subnet sources have no security
group, "first block on the path wins, forward before return") and AWS's documentation where it
is silent; each question says which in its `why`. Do not edit an expectation to make the model
pass: a failing question is a disagreement to settle against the AWS documentation.

The topology (A = 111111111111, B = 222222222222, X = 999999999999, not scanned):

    A us-east-1                                                   B eu-west-1
    ┌────────────── tgw-0hub (default association/propagation off, SG referencing off) ──┐
    │  tgw-rtb-0spoke  <- prod, dev           tgw-rtb-0shared <- shared, egress, vpn,    │
    │    0.0.0.0/0      -> egress              hub<->eu, hub<->apac peerings              │
    │    10.0.0.0/8     blackhole (no east-west between spokes through the NAT)             │
    │    10.50.0.0/16   -> shared (prop.)       10.10/16 prod, 10.20/16 dev (prop.)         │
    │    192.168.0.0/16 -> vpn                  10.50/16 shared (prop.), 192.168/16 vpn     │
    │    10.60.0.0/16   -> peering to eu  ─────────────────────────►  tgw-0euhub (B)       │
    │    10.90.0.0/16   -> peering to apac (ap-southeast-2: not scanned)  tgw-rtb-0eu:      │
    └─────────────────────────────────────────────────────────────    10.60/16 eu, 10.10/16│
      vpc-0prod 10.10/16 (tgw subnets in a+b, S3 gateway endpoint,       -> peering only   │
        pcx to B payments, pcx to A eu-west-1 dr, pending pcx to B newapp)  vpc-0eu 10.60/16
      vpc-0dev 10.20/16 (tgw subnet in az a only, failed NAT, no IGW, one-way pcx to B analytics)
      vpc-0shared 10.50/16 (strict NACL, interface endpoint, pcx to B reporting with the wrong
        /24 back, pcx to the unscanned vendor account X)
      vpc-0egress 10.0/16 (central egress: tgw subnets -> NAT -> IGW)
      vpc-0qa 10.35/16 (associated with the spoke table, propagated nowhere: replies die)
      vpc-0web 10.40/16 (IGW, EIP instance, NACL deny 22 @90, private subnet on the public table)
      vpc-0v6 dual stack (egress-only IGW only), vpc-0data (S3 gateway endpoint only, an
        in-VPC inspection appliance), vpc-0sandbox (unassociated attachment), vpc-0legacy (VGW
        with both tunnels down, a blackhole route, Cloud WAN, a local gateway)
    A us-west-2: vpc-0west on tgw-0west whose routes could not be read (a coverage gap)
    A eu-west-1: vpc-0dr (inter-region peering with prod)
    B us-east-1: payments (pcx with prod; peered on to cards), cards, analytics (pending TGW
      attachment), reporting, newapp
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    nacl_entry,
    open_nacl_entries,
    permission,
    route,
    tgw_route,
)

A, B, X = ACCOUNT, OTHER_ACCOUNT, EXTERNAL_ACCOUNT
USE1, EUW1, USW2, APSE2 = REGION, OTHER_REGION, "us-west-2", "ap-southeast-2"
TCP, UDP, ICMP = "6", "17", "1"  # network ACL protocol numbers

PL_S3 = "pl-63a5400a"  # the AWS-managed prefix list com.amazonaws.us-east-1.s3
PL_DYNAMODB = "pl-02cd2c6b"  # com.amazonaws.us-east-1.dynamodb
CORE_NETWORK = "arn:aws:networkmanager::111111111111:core-network/core-network-0global"
WEB_EIP = "52.4.10.20"
NAT_EIP = "34.192.0.10"
V6_VPC = "2600:1f18:1234:7000::/56"
V6_SUBNET = "2600:1f18:1234:7001::/64"
V6_HOST = "2600:1f18:1234:7001::10"
V6_HOST_B = "2600:1f18:1234:7001::11"


# -- the topology ------------------------------------------------------------------------------


def _default_nacl(
    b: SnapshotBuilder,
    nacl_id: str,
    vpc_id: str,
    subnets: Sequence[str],
    *,
    account: str = A,
    region: str = USE1,
) -> None:
    """The VPC's default network ACL (allow all, IPv6 too when the VPC has it), associated
    with every subnet that has no custom ACL, as AWS associates it."""
    b.network_acl(
        nacl_id,
        vpc_id,
        subnets=subnets,
        entries=open_nacl_entries(ipv6=vpc_id == "vpc-0v6"),
        default=True,
        account=account,
        region=region,
    )


def _instance(
    b: SnapshotBuilder,
    name: str,
    subnet: str,
    ip: str,
    groups: Sequence[str],
    *,
    account: str = A,
    region: str = USE1,
    **kw: Any,
) -> None:
    """An instance i-0<name> with its primary interface eni-0<name>."""
    b.network_interface(
        f"eni-0{name}",
        subnet,
        private_ip=ip,
        groups=groups,
        instance_id=f"i-0{name}",
        account=account,
        region=region,
        **kw,
    )


def build_topology() -> SnapshotBuilder:
    b = SnapshotBuilder(org_account_ids=[A, B])
    b.account(A, "network-hub").account(B, "workloads")

    # ---- A us-east-1: the hub Transit Gateway ----------------------------------------------
    b.transit_gateway(
        "tgw-0hub",
        default_association=False,
        default_propagation=False,
        auto_accept_shared=False,
        sg_referencing=False,
        name="hub",
    )
    b.prefix_list(PL_S3, "com.amazonaws.us-east-1.s3")
    b.prefix_list(PL_DYNAMODB, "com.amazonaws.us-east-1.dynamodb")

    # ---- prod: app subnets in a and b, a data subnet with a strict NACL --------------------
    b.vpc("vpc-0prod", "10.10.0.0/16", name="prod")
    b.subnet("subnet-0prodapp1a", "vpc-0prod", "10.10.1.0/24", az="a")
    b.subnet("subnet-0prodapp1b", "vpc-0prod", "10.10.2.0/24", az="b")
    b.subnet("subnet-0proddata1a", "vpc-0prod", "10.10.3.0/24", az="a")
    b.subnet("subnet-0prodtgw1a", "vpc-0prod", "10.10.255.0/28", az="a")
    b.subnet("subnet-0prodtgw1b", "vpc-0prod", "10.10.255.16/28", az="b")
    b.route_table(
        "rtb-0prodapp",
        "vpc-0prod",
        subnets=["subnet-0prodapp1a", "subnet-0prodapp1b", "subnet-0proddata1a"],
        routes=[
            route("0.0.0.0/0", "tgw-0hub"),
            route(PL_S3, "vpce-0prods3"),
            route("10.100.0.0/16", "pcx-0prodpay"),
            # Someone hoped to reach cards (payments' peer) through payments: not transitive.
            route("10.140.0.0/16", "pcx-0prodpay"),
            route("10.160.0.0/16", "pcx-0proddr"),
            # AWS: a route to a pending-acceptance peering "will have a state of blackhole and
            # have no effect until the VPC peering connection is in the active state"
            # (VPC Peering Guide, Update your route tables).
            route("10.130.0.0/16", "pcx-0pending", state="blackhole"),
        ],
    )
    b.route_table("rtb-0prodtgw", "vpc-0prod", main=True)
    b.endpoint(
        "vpce-0prods3", "vpc-0prod", "s3", endpoint_type="Gateway", route_tables=["rtb-0prodapp"]
    )
    b.tgw_attachment(
        "tgw-attach-0prod", "vpc-0prod", subnets=["subnet-0prodtgw1a", "subnet-0prodtgw1b"]
    )
    b.security_group(
        "sg-0prodapp",
        "vpc-0prod",
        ingress=[
            permission("tcp", 443, cidrs=["10.0.0.0/8"]),
            permission("tcp", 22, cidrs=["192.168.0.0/16"]),
            permission("icmp", -1, -1, cidrs=["10.0.0.0/8"]),
        ],
    )
    b.security_group(
        "sg-0proddb",
        "vpc-0prod",
        ingress=[
            permission("tcp", 5432, groups=["sg-0prodapp"]),
            permission("tcp", 0, 65535, groups=["sg-0proddb"]),
        ],
    )
    b.network_acl(
        "acl-0proddata",
        "vpc-0prod",
        subnets=["subnet-0proddata1a"],
        entries=[
            nacl_entry(100, protocol=TCP, cidr="10.10.0.0/16", ports=(5432, 5432)),
            nacl_entry(100, egress=True, protocol=TCP, cidr="10.10.0.0/16", ports=(1024, 65535)),
        ],
    )
    _default_nacl(
        b,
        "acl-0proddefault",
        "vpc-0prod",
        ["subnet-0prodapp1a", "subnet-0prodapp1b", "subnet-0prodtgw1a", "subnet-0prodtgw1b"],
    )
    _instance(b, "proda", "subnet-0prodapp1a", "10.10.1.10", ["sg-0prodapp"])
    _instance(b, "prodb", "subnet-0prodapp1b", "10.10.2.10", ["sg-0prodapp"])
    _instance(b, "proddb", "subnet-0proddata1a", "10.10.3.10", ["sg-0proddb"])
    _instance(b, "proddb2", "subnet-0proddata1a", "10.10.3.11", ["sg-0proddb"])

    # ---- dev: TGW attachment subnet in az a only, a failed NAT gateway, no IGW --------------
    b.vpc("vpc-0dev", "10.20.0.0/16", name="dev")
    b.subnet("subnet-0devapp1a", "vpc-0dev", "10.20.1.0/24", az="a")
    b.subnet("subnet-0devapp1b", "vpc-0dev", "10.20.2.0/24", az="b")
    b.subnet("subnet-0devpub1a", "vpc-0dev", "10.20.0.0/24", az="a")
    b.subnet("subnet-0devtgw1a", "vpc-0dev", "10.20.255.0/28", az="a")
    b.route_table(
        "rtb-0devapp",
        "vpc-0dev",
        subnets=["subnet-0devapp1a", "subnet-0devapp1b"],
        routes=[
            route("10.0.0.0/8", "tgw-0hub"),
            route("192.168.0.0/16", "tgw-0hub"),
            route("10.110.0.0/16", "pcx-0oneway"),
            route("0.0.0.0/0", "nat-0dev"),
        ],
    )
    b.route_table("rtb-0devmain", "vpc-0dev", main=True)
    b.nat_gateway(
        "nat-0dev",
        "vpc-0dev",
        "subnet-0devpub1a",
        state="failed",
        private_ip="10.20.0.10",
        public_ip=None,
    )
    b.tgw_attachment("tgw-attach-0dev", "vpc-0dev", subnets=["subnet-0devtgw1a"])
    b.security_group(
        "sg-0devapp", "vpc-0dev", ingress=[permission("tcp", 443, cidrs=["10.0.0.0/8"])]
    )
    _default_nacl(
        b,
        "acl-0devdefault",
        "vpc-0dev",
        ["subnet-0devapp1a", "subnet-0devapp1b", "subnet-0devpub1a", "subnet-0devtgw1a"],
    )
    _instance(b, "deva", "subnet-0devapp1a", "10.20.1.10", ["sg-0devapp"])
    _instance(b, "devb", "subnet-0devapp1b", "10.20.2.10", ["sg-0devapp"])

    # ---- shared services: a strict NACL (replies only to prod), an interface endpoint -------
    b.vpc("vpc-0shared", "10.50.0.0/16", name="shared-services")
    b.subnet("subnet-0sharedapp1a", "vpc-0shared", "10.50.1.0/24", az="a")
    b.subnet("subnet-0sharedmgmt1a", "vpc-0shared", "10.50.2.0/24", az="a")
    b.subnet("subnet-0sharedtgw1a", "vpc-0shared", "10.50.255.0/28", az="a")
    b.subnet("subnet-0sharedtgw1b", "vpc-0shared", "10.50.255.16/28", az="b")
    b.route_table(
        "rtb-0sharedapp",
        "vpc-0shared",
        subnets=["subnet-0sharedapp1a", "subnet-0sharedmgmt1a"],
        routes=[
            route("10.0.0.0/8", "tgw-0hub"),
            route("172.16.0.0/12", "tgw-0hub"),
            route("192.168.0.0/16", "tgw-0hub"),
            route("10.120.0.0/16", "pcx-0wrong"),
            route("10.99.0.0/16", "pcx-0vendor"),
        ],
    )
    b.route_table("rtb-0sharedmain", "vpc-0shared", main=True)
    b.tgw_attachment(
        "tgw-attach-0shared",
        "vpc-0shared",
        subnets=["subnet-0sharedtgw1a", "subnet-0sharedtgw1b"],
    )
    b.security_group(
        "sg-0sharedapp",
        "vpc-0shared",
        ingress=[
            permission("tcp", 443, cidrs=["10.0.0.0/8"]),
            permission("udp", 53, cidrs=["10.0.0.0/8"]),
            # A reference to dev's group across the Transit Gateway, whose security group
            # referencing is off.
            permission("tcp", 22, groups=["sg-0devapp"]),
        ],
    )
    b.security_group(
        "sg-0sharedvpce", "vpc-0shared", ingress=[permission("tcp", 443, cidrs=["10.0.0.0/8"])]
    )
    b.network_acl(
        "acl-0sharedapp",
        "vpc-0shared",
        subnets=["subnet-0sharedapp1a"],
        entries=[
            nacl_entry(100, protocol=TCP, cidr="10.0.0.0/8", ports=(443, 443)),
            nacl_entry(110, protocol=TCP, cidr="10.0.0.0/8", ports=(22, 22)),
            nacl_entry(120, protocol=UDP, cidr="10.0.0.0/8", ports=(53, 53)),
            nacl_entry(130, protocol=TCP, cidr="0.0.0.0/0", ports=(1024, 65535)),
            # Replies only to prod: dev was forgotten.
            nacl_entry(100, egress=True, protocol=TCP, cidr="10.10.0.0/16", ports=(1024, 65535)),
            nacl_entry(110, egress=True, protocol=UDP, cidr="10.10.0.0/16", ports=(1024, 65535)),
            nacl_entry(120, egress=True, protocol=TCP, cidr="0.0.0.0/0", ports=(443, 443)),
            nacl_entry(130, egress=True, protocol=UDP, cidr="192.168.0.0/16", ports=(53, 53)),
        ],
    )
    _default_nacl(
        b,
        "acl-0shareddefault",
        "vpc-0shared",
        ["subnet-0sharedmgmt1a", "subnet-0sharedtgw1a", "subnet-0sharedtgw1b"],
    )
    _instance(b, "shared", "subnet-0sharedapp1a", "10.50.1.10", ["sg-0sharedapp"])
    b.endpoint(
        "vpce-0sharedssm",
        "vpc-0shared",
        "ssm",
        subnets=["subnet-0sharedapp1a"],
        groups=["sg-0sharedvpce"],
    )
    b.network_interface(
        "eni-vpce-0sharedssm-subnet-0sharedapp1a",
        "subnet-0sharedapp1a",
        private_ip="10.50.1.20",
        groups=["sg-0sharedvpce"],
        interface_type="vpc_endpoint",
        requester_managed=True,
        description="VPC Endpoint Interface vpce-0sharedssm",
    )

    # ---- central egress: TGW subnets -> NAT gateway -> internet gateway ---------------------
    b.vpc("vpc-0egress", "10.0.0.0/16", name="egress")
    b.subnet("subnet-0egresstgw1a", "vpc-0egress", "10.0.0.0/28", az="a")
    b.subnet("subnet-0egresstgw1b", "vpc-0egress", "10.0.0.16/28", az="b")
    b.subnet("subnet-0egresspub1a", "vpc-0egress", "10.0.1.0/24", az="a")
    b.route_table(
        "rtb-0egresstgw",
        "vpc-0egress",
        subnets=["subnet-0egresstgw1a", "subnet-0egresstgw1b"],
        routes=[route("0.0.0.0/0", "nat-0egress")],
    )
    b.route_table(
        "rtb-0egresspub",
        "vpc-0egress",
        main=True,
        subnets=["subnet-0egresspub1a"],
        routes=[route("0.0.0.0/0", "igw-0egress"), route("10.0.0.0/8", "tgw-0hub")],
    )
    b.internet_gateway("igw-0egress", "vpc-0egress")
    b.nat_gateway(
        "nat-0egress",
        "vpc-0egress",
        "subnet-0egresspub1a",
        state="available",
        private_ip="10.0.1.10",
        public_ip=NAT_EIP,
    )
    b.network_interface(
        "eni-nat-0egress",
        "subnet-0egresspub1a",
        private_ip="10.0.1.10",
        public_ip=NAT_EIP,
        groups=(),
        interface_type="nat_gateway",
        requester_managed=True,
        source_dest_check=False,
        description="Interface for NAT Gateway nat-0egress",
    )
    b.elastic_ip("eipalloc-nat-0egress", NAT_EIP, eni="eni-nat-0egress")
    b.tgw_attachment(
        "tgw-attach-0egress",
        "vpc-0egress",
        subnets=["subnet-0egresstgw1a", "subnet-0egresstgw1b"],
    )
    _default_nacl(
        b,
        "acl-0egressdefault",
        "vpc-0egress",
        ["subnet-0egresstgw1a", "subnet-0egresstgw1b", "subnet-0egresspub1a"],
    )

    # ---- on-premises over a TGW VPN (static routes live in the TGW route tables) -----------
    b.vpn_connection("vpn-0dc1", transit_gateway="tgw-0hub", tunnels_up=2)
    b.tgw_attachment("tgw-attach-0vpn", "", resource_type="vpn", resource_id="vpn-0dc1")

    # ---- sandbox: an attachment associated with no TGW route table -------------------------
    b.vpc("vpc-0sandbox", "10.25.0.0/16", name="sandbox")
    b.subnet("subnet-0sandbox1a", "vpc-0sandbox", "10.25.1.0/24", az="a")
    b.route_table(
        "rtb-0sandbox", "vpc-0sandbox", main=True, routes=[route("10.0.0.0/8", "tgw-0hub")]
    )
    b.tgw_attachment("tgw-attach-0sandbox", "vpc-0sandbox", subnets=["subnet-0sandbox1a"])
    b.security_group("sg-0sandbox", "vpc-0sandbox")
    _default_nacl(b, "acl-0sandboxdefault", "vpc-0sandbox", ["subnet-0sandbox1a"])
    _instance(b, "sandbox", "subnet-0sandbox1a", "10.25.1.10", ["sg-0sandbox"])

    # ---- qa: a spoke associated with the spoke table but never propagated anywhere -------
    b.vpc("vpc-0qa", "10.35.0.0/16", name="qa")
    b.subnet("subnet-0qa1a", "vpc-0qa", "10.35.1.0/24", az="a")
    b.subnet("subnet-0qatgw1a", "vpc-0qa", "10.35.255.0/28", az="a")
    b.route_table(
        "rtb-0qa", "vpc-0qa", subnets=["subnet-0qa1a"], routes=[route("0.0.0.0/0", "tgw-0hub")]
    )
    b.route_table("rtb-0qamain", "vpc-0qa", main=True)
    b.tgw_attachment("tgw-attach-0qa", "vpc-0qa", subnets=["subnet-0qatgw1a"])
    b.security_group("sg-0qa", "vpc-0qa")
    _default_nacl(b, "acl-0qadefault", "vpc-0qa", ["subnet-0qa1a", "subnet-0qatgw1a"])
    _instance(b, "qa", "subnet-0qa1a", "10.35.1.10", ["sg-0qa"])

    # ---- hub TGW: route tables, peerings -----------------------------------------------------
    b.tgw_peering(
        "tgw-attach-0hubeu",
        requester=("tgw-0hub", A, USE1),
        accepter=("tgw-0euhub", B, EUW1),
    )
    b.tgw_peering(
        "tgw-attach-0hubapac",
        requester=("tgw-0hub", A, USE1),
        accepter=("tgw-0apac", A, APSE2),
        sides=("requester",),  # ap-southeast-2 was not scanned
    )
    b.tgw_route_table(
        "tgw-rtb-0spoke",
        "tgw-0hub",
        associations=["tgw-attach-0prod", "tgw-attach-0dev", "tgw-attach-0qa"],
        propagations=["tgw-attach-0shared"],
        routes=[
            tgw_route("0.0.0.0/0", ["tgw-attach-0egress"]),
            # AWS's centralized-egress pattern: a blackhole for the private range so spokes
            # cannot reach each other through the egress VPC's NAT gateway.
            tgw_route("10.0.0.0/8", state="blackhole"),
            tgw_route("10.50.0.0/16", ["tgw-attach-0shared"], route_type="propagated"),
            tgw_route("192.168.0.0/16", ["tgw-attach-0vpn"]),
            tgw_route("10.60.0.0/16", ["tgw-attach-0hubeu"]),
            tgw_route("10.90.0.0/16", ["tgw-attach-0hubapac"]),
        ],
    )
    b.tgw_route_table(
        "tgw-rtb-0shared",
        "tgw-0hub",
        associations=[
            "tgw-attach-0shared",
            "tgw-attach-0egress",
            "tgw-attach-0vpn",
            "tgw-attach-0hubeu",
            "tgw-attach-0hubapac",
        ],
        propagations=["tgw-attach-0prod", "tgw-attach-0dev", "tgw-attach-0shared"],
        routes=[
            tgw_route("10.10.0.0/16", ["tgw-attach-0prod"], route_type="propagated"),
            tgw_route("10.20.0.0/16", ["tgw-attach-0dev"], route_type="propagated"),
            tgw_route("10.50.0.0/16", ["tgw-attach-0shared"], route_type="propagated"),
            tgw_route("192.168.0.0/16", ["tgw-attach-0vpn"]),
        ],
    )

    # ---- web: internet gateway, an instance with an EIP, NACL deny 22 before allow all ------
    b.vpc("vpc-0web", "10.40.0.0/16", name="web")
    b.subnet("subnet-0webpub1a", "vpc-0web", "10.40.1.0/24", az="a")
    b.subnet("subnet-0webpriv1a", "vpc-0web", "10.40.2.0/24", az="a")
    # The "private" subnet was left on the public table: its instances have no public IP.
    b.route_table(
        "rtb-0web",
        "vpc-0web",
        main=True,
        subnets=["subnet-0webpub1a", "subnet-0webpriv1a"],
        routes=[route("0.0.0.0/0", "igw-0web")],
    )
    b.internet_gateway("igw-0web", "vpc-0web")
    b.security_group(
        "sg-0web",
        "vpc-0web",
        ingress=[
            permission("tcp", 443, cidrs=["0.0.0.0/0"]),
            permission("tcp", 22, cidrs=["0.0.0.0/0"]),  # the NACL is what keeps SSH out
        ],
    )
    b.security_group("sg-0batch", "vpc-0web", ingress=[permission("-1", groups=["sg-0web"])])
    b.network_acl(
        "acl-0webpub",
        "vpc-0web",
        subnets=["subnet-0webpub1a"],
        entries=[
            nacl_entry(90, "deny", protocol=TCP, ports=(22, 22)),
            nacl_entry(100),
            nacl_entry(100, egress=True),
        ],
    )
    _default_nacl(b, "acl-0webdefault", "vpc-0web", ["subnet-0webpriv1a"])
    _instance(b, "web", "subnet-0webpub1a", "10.40.1.10", ["sg-0web"], public_ip=WEB_EIP)
    b.elastic_ip("eipalloc-0web", WEB_EIP, eni="eni-0web", instance="i-0web")
    _instance(b, "batch", "subnet-0webpriv1a", "10.40.2.10", ["sg-0batch"])

    # ---- dual stack with an egress-only internet gateway (and no internet gateway) --------
    b.vpc("vpc-0v6", "10.70.0.0/16", ipv6=[V6_VPC], name="ipv6")
    b.subnet("subnet-0v61a", "vpc-0v6", "10.70.1.0/24", az="a", ipv6=[V6_SUBNET])
    b.route_table(
        "rtb-0v6",
        "vpc-0v6",
        main=True,
        subnets=["subnet-0v61a"],
        routes=[route("::/0", "eigw-0v6")],
    )
    b.egress_only_igw("eigw-0v6", "vpc-0v6")
    b.security_group(
        "sg-0v6", "vpc-0v6", ingress=[permission("tcp", 443, cidrs=["0.0.0.0/0"], ipv6=["::/0"])]
    )
    _default_nacl(b, "acl-0v6default", "vpc-0v6", ["subnet-0v61a"])
    _instance(b, "v6", "subnet-0v61a", "10.70.1.10", ["sg-0v6"], ipv6=[V6_HOST])
    _instance(b, "v6b", "subnet-0v61a", "10.70.1.11", ["sg-0v6"], ipv6=[V6_HOST_B])

    # ---- data: only an S3 gateway endpoint; an inspection appliance between two subnets ---
    b.vpc("vpc-0data", "10.30.0.0/16", name="data")
    b.subnet("subnet-0data1a", "vpc-0data", "10.30.1.0/24", az="a")
    b.subnet("subnet-0datab1a", "vpc-0data", "10.30.2.0/24", az="a")
    b.subnet("subnet-0datafw1a", "vpc-0data", "10.30.9.0/24", az="a")
    b.route_table(
        "rtb-0data",
        "vpc-0data",
        subnets=["subnet-0data1a"],
        routes=[
            route(PL_S3, "vpce-0datas3"),
            # "You can add a route to your route tables that is more specific than the local
            # route" (VPC User Guide, Subnet route tables): east-west inspection.
            route("10.30.2.0/24", "eni-0datafw"),
        ],
    )
    b.route_table("rtb-0datamain", "vpc-0data", main=True)
    b.endpoint(
        "vpce-0datas3", "vpc-0data", "s3", endpoint_type="Gateway", route_tables=["rtb-0data"]
    )
    b.security_group("sg-0data", "vpc-0data")
    b.security_group(
        "sg-0datab", "vpc-0data", ingress=[permission("tcp", 443, cidrs=["10.30.0.0/16"])]
    )
    b.security_group("sg-0datafw", "vpc-0data", ingress=[permission("-1", cidrs=["10.30.0.0/16"])])
    _default_nacl(
        b,
        "acl-0datadefault",
        "vpc-0data",
        ["subnet-0data1a", "subnet-0datab1a", "subnet-0datafw1a"],
    )
    _instance(b, "data", "subnet-0data1a", "10.30.1.10", ["sg-0data"])
    _instance(b, "datab", "subnet-0datab1a", "10.30.2.10", ["sg-0datab"])
    _instance(
        b, "datafw", "subnet-0datafw1a", "10.30.9.10", ["sg-0datafw"], source_dest_check=False
    )

    # ---- legacy: VGW VPN with both tunnels down, blackhole, Cloud WAN, local gateway -------
    b.vpc("vpc-0legacy", "10.80.0.0/16", name="legacy")
    b.subnet("subnet-0legacy1a", "vpc-0legacy", "10.80.1.0/24", az="a")
    b.route_table(
        "rtb-0legacy",
        "vpc-0legacy",
        main=True,
        subnets=["subnet-0legacy1a"],
        routes=[
            # The NAT gateway was deleted long ago (gone from DescribeNatGateways); AWS keeps
            # the route and marks it blackhole.
            route("0.0.0.0/0", "nat-0legacyold", state="blackhole"),
            route("172.20.0.0/16", "vgw-0legacy"),
            route("10.200.0.0/16", CORE_NETWORK),
            route("10.210.0.0/16", "lgw-0outpost"),
        ],
    )
    b.vpn_gateway("vgw-0legacy", "vpc-0legacy")
    b.vpn_connection(
        "vpn-0branch", vpn_gateway="vgw-0legacy", static_routes=["172.20.0.0/16"], tunnels_up=0
    )
    b.security_group("sg-0legacy", "vpc-0legacy")
    _default_nacl(b, "acl-0legacydefault", "vpc-0legacy", ["subnet-0legacy1a"])
    _instance(b, "legacy", "subnet-0legacy1a", "10.80.1.10", ["sg-0legacy"])

    # ---- A eu-west-1: disaster recovery VPC over an inter-region peering -------------------
    b.vpc("vpc-0dr", "10.160.0.0/16", region=EUW1, name="dr")
    b.subnet("subnet-0dr1a", "vpc-0dr", "10.160.1.0/24", az="a", region=EUW1)
    b.route_table(
        "rtb-0dr",
        "vpc-0dr",
        main=True,
        subnets=["subnet-0dr1a"],
        routes=[route("10.10.0.0/16", "pcx-0proddr")],
        region=EUW1,
    )
    b.security_group(
        "sg-0dr",
        "vpc-0dr",
        ingress=[permission("tcp", 5432, cidrs=["10.10.0.0/16"])],
        region=EUW1,
    )
    _default_nacl(b, "acl-0drdefault", "vpc-0dr", ["subnet-0dr1a"], region=EUW1)
    _instance(b, "dr", "subnet-0dr1a", "10.160.1.10", ["sg-0dr"], region=EUW1)
    b.peering("pcx-0proddr", "vpc-0prod", "vpc-0dr")

    # ---- A us-west-2: a TGW whose route tables' routes could not be read -------------------
    b.transit_gateway("tgw-0west", association_default_rt="tgw-rtb-0west", region=USW2, name="west")
    b.vpc("vpc-0west", "10.150.0.0/16", region=USW2, name="west")
    b.subnet("subnet-0west1a", "vpc-0west", "10.150.1.0/24", az="a", region=USW2)
    b.route_table(
        "rtb-0west",
        "vpc-0west",
        main=True,
        subnets=["subnet-0west1a"],
        routes=[route("0.0.0.0/0", "tgw-0west")],
        region=USW2,
    )
    b.tgw_attachment(
        "tgw-attach-0west",
        "vpc-0west",
        transit_gateway_id="tgw-0west",
        subnets=["subnet-0west1a"],
        region=USW2,
    )
    b.tgw_route_table(
        "tgw-rtb-0west",
        "tgw-0west",
        associations=["tgw-attach-0west"],
        propagations=["tgw-attach-0west"],
        routes=[tgw_route("10.150.0.0/16", ["tgw-attach-0west"], route_type="propagated")],
        default_association=True,
        default_propagation=True,
        region=USW2,
    )
    b.security_group("sg-0west", "vpc-0west", region=USW2)
    _default_nacl(b, "acl-0westdefault", "vpc-0west", ["subnet-0west1a"], region=USW2)
    _instance(b, "west", "subnet-0west1a", "10.150.1.10", ["sg-0west"], region=USW2)
    b.gap("SearchTransitGatewayRoutes", region=USW2)

    # ---- B us-east-1: payments (peered with prod), cards (peered with payments only) -------
    b.vpc("vpc-0pay", "10.100.0.0/16", account=B, name="payments")
    b.subnet("subnet-0pay1a", "vpc-0pay", "10.100.1.0/24", account=B)
    b.route_table(
        "rtb-0pay",
        "vpc-0pay",
        main=True,
        subnets=["subnet-0pay1a"],
        routes=[
            route("10.10.0.0/16", "pcx-0prodpay"),
            route("10.140.0.0/16", "pcx-0paycards"),
        ],
        account=B,
    )
    b.security_group(
        "sg-0pay",
        "vpc-0pay",
        # Only tcp/443, only from prod's app group (referenced across the peering).
        ingress=[
            permission(
                "tcp",
                443,
                groups=[f"{A}/sg-0prodapp"],
                peering_status="active",
                group_vpc="vpc-0prod",
            )
        ],
        egress=[permission("tcp", 443, cidrs=["10.10.0.0/16"])],
        account=B,
    )
    _default_nacl(b, "acl-0paydefault", "vpc-0pay", ["subnet-0pay1a"], account=B)
    _instance(b, "pay", "subnet-0pay1a", "10.100.1.10", ["sg-0pay"], account=B)
    b.peering("pcx-0prodpay", "vpc-0prod", "vpc-0pay")

    b.vpc("vpc-0cards", "10.140.0.0/16", account=B, name="cards")
    b.subnet("subnet-0cards1a", "vpc-0cards", "10.140.1.0/24", account=B)
    b.route_table(
        "rtb-0cards",
        "vpc-0cards",
        main=True,
        subnets=["subnet-0cards1a"],
        routes=[route("10.100.0.0/16", "pcx-0paycards")],
        account=B,
    )
    b.security_group(
        "sg-0cards", "vpc-0cards", ingress=[permission("-1", cidrs=["10.0.0.0/8"])], account=B
    )
    _default_nacl(b, "acl-0cardsdefault", "vpc-0cards", ["subnet-0cards1a"], account=B)
    _instance(b, "cards", "subnet-0cards1a", "10.140.1.10", ["sg-0cards"], account=B)
    b.peering("pcx-0paycards", "vpc-0pay", "vpc-0cards")

    # ---- B us-east-1: analytics (one-way peering from dev; TGW attachment pending) ---------
    b.vpc("vpc-0analytics", "10.110.0.0/16", account=B, name="analytics")
    b.subnet("subnet-0analytics1a", "vpc-0analytics", "10.110.1.0/24", account=B)
    b.route_table(
        "rtb-0analytics",
        "vpc-0analytics",
        main=True,
        subnets=["subnet-0analytics1a"],
        routes=[route("10.50.0.0/16", "tgw-0hub")],  # no route back to dev
        account=B,
    )
    b.tgw_attachment(
        "tgw-attach-0analytics",
        "vpc-0analytics",
        state="pendingAcceptance",  # the hub does not auto-accept shared attachments
        subnets=["subnet-0analytics1a"],
        account=B,
    )
    b.security_group(
        "sg-0analytics",
        "vpc-0analytics",
        ingress=[permission("tcp", 443, cidrs=["10.20.0.0/16"])],
        account=B,
    )
    _default_nacl(b, "acl-0analyticsdefault", "vpc-0analytics", ["subnet-0analytics1a"], account=B)
    _instance(b, "analytics", "subnet-0analytics1a", "10.110.1.10", ["sg-0analytics"], account=B)
    b.peering("pcx-0oneway", "vpc-0dev", "vpc-0analytics")

    # ---- B us-east-1: reporting (its route back covers shared's mgmt /24, not app) ---------
    b.vpc("vpc-0reporting", "10.120.0.0/16", account=B, name="reporting")
    b.subnet("subnet-0reporting1a", "vpc-0reporting", "10.120.1.0/24", account=B)
    b.route_table(
        "rtb-0reporting",
        "vpc-0reporting",
        main=True,
        subnets=["subnet-0reporting1a"],
        routes=[route("10.50.2.0/24", "pcx-0wrong")],
        account=B,
    )
    b.security_group(
        "sg-0reporting",
        "vpc-0reporting",
        ingress=[permission("tcp", 443, cidrs=["10.50.0.0/16"])],
        account=B,
    )
    _default_nacl(b, "acl-0reportingdefault", "vpc-0reporting", ["subnet-0reporting1a"], account=B)
    _instance(b, "reporting", "subnet-0reporting1a", "10.120.1.10", ["sg-0reporting"], account=B)
    b.peering("pcx-0wrong", "vpc-0shared", "vpc-0reporting")

    # ---- B us-east-1: newapp (peering request from prod still pending) ---------------------
    b.vpc("vpc-0newapp", "10.130.0.0/16", account=B, name="newapp")
    b.subnet("subnet-0newapp1a", "vpc-0newapp", "10.130.1.0/24", account=B)
    b.route_table("rtb-0newapp", "vpc-0newapp", main=True, account=B)
    b.security_group("sg-0newapp", "vpc-0newapp", account=B)
    _default_nacl(b, "acl-0newappdefault", "vpc-0newapp", ["subnet-0newapp1a"], account=B)
    _instance(b, "newapp", "subnet-0newapp1a", "10.130.1.10", ["sg-0newapp"], account=B)
    b.peering("pcx-0pending", "vpc-0prod", "vpc-0newapp", status="pending-acceptance")

    # ---- X: a vendor VPC in an account outside the organization, not scanned ---------------
    b.peering("pcx-0vendor", "vpc-0shared", Side(X, USE1, "vpc-0vendor", ("10.99.0.0/16",)))

    # ---- B eu-west-1: the peer Transit Gateway and its VPC ---------------------------------
    b.transit_gateway(
        "tgw-0euhub",
        default_association=False,
        default_propagation=False,
        account=B,
        region=EUW1,
        name="eu-hub",
    )
    b.vpc("vpc-0eu", "10.60.0.0/16", account=B, region=EUW1, name="eu")
    b.subnet("subnet-0euapp1a", "vpc-0eu", "10.60.1.0/24", az="a", account=B, region=EUW1)
    b.subnet("subnet-0eutgw1a", "vpc-0eu", "10.60.255.0/28", az="a", account=B, region=EUW1)
    b.route_table(
        "rtb-0euapp",
        "vpc-0eu",
        subnets=["subnet-0euapp1a"],
        routes=[route("10.0.0.0/8", "tgw-0euhub")],
        account=B,
        region=EUW1,
    )
    b.route_table("rtb-0eutgw", "vpc-0eu", main=True, account=B, region=EUW1)
    b.tgw_attachment(
        "tgw-attach-0eu",
        "vpc-0eu",
        transit_gateway_id="tgw-0euhub",
        subnets=["subnet-0eutgw1a"],
        account=B,
        region=EUW1,
    )
    b.tgw_route_table(
        "tgw-rtb-0eu",
        "tgw-0euhub",
        associations=["tgw-attach-0eu", "tgw-attach-0hubeu"],
        propagations=["tgw-attach-0eu"],
        routes=[
            tgw_route("10.60.0.0/16", ["tgw-attach-0eu"], route_type="propagated"),
            # TGW peering attachments take static routes only; only prod was added.
            tgw_route("10.10.0.0/16", ["tgw-attach-0hubeu"]),
        ],
        account=B,
        region=EUW1,
    )
    b.security_group(
        "sg-0eu",
        "vpc-0eu",
        ingress=[permission("tcp", 443, cidrs=["10.0.0.0/8"])],
        account=B,
        region=EUW1,
    )
    _default_nacl(
        b,
        "acl-0eudefault",
        "vpc-0eu",
        ["subnet-0euapp1a", "subnet-0eutgw1a"],
        account=B,
        region=EUW1,
    )
    _instance(b, "eu", "subnet-0euapp1a", "10.60.1.10", ["sg-0eu"], account=B, region=EUW1)
    return b


# -- the questions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Q:
    """One question and its expected answer."""

    id: str
    src: str
    dst: str
    protocol: str
    port: int | None
    verdict: str
    code: str
    """Empty when reachable."""
    direction: str
    """Where the block or the unknown is: forward or return; empty when reachable."""
    kind: str | None
    """The blocking component's kind (None when reachable)."""
    block: str | None
    """The blocking component's id (None when reachable)."""
    why: str
    """The AWS behaviour (or the contract's modelling choice) the expectation rests on."""
    rule: str | None = None
    """The blocking component's rule (NACL rule number, blackhole route's destination)."""
    where: tuple[str, str] | None = None
    """The blocking component's (account, region), checked when given."""
    hops: tuple[str, ...] = ()
    """Component ids the forward path must contain, in this order (a subsequence)."""


def _parse(ask: str) -> tuple[str, str, str, int | None]:
    """Split "src -> dst protocol[/port]" into (src, dst, protocol, port)."""
    src, _, rest = ask.partition(" -> ")
    dst, _, spec = rest.rpartition(" ")
    protocol, _, port = spec.partition("/")
    return src, dst, protocol, int(port) if port else None


def ok(id: str, ask: str, why: str, *, hops: Sequence[str] = ()) -> Q:
    """A reachable question: `ask` is "src -> dst protocol[/port]"."""
    return Q(id, *_parse(ask), "reachable", "", "", None, None, why, hops=tuple(hops))


def blocked(
    id: str,
    ask: str,
    code: str,
    at: str,
    why: str,
    *,
    direction: str = "forward",
    rule: str | None = None,
    where: tuple[str, str] | None = None,
) -> Q:
    """A not-reachable question; `at` is the blocking component as "kind:id"."""
    kind, _, block = at.partition(":")
    return Q(id, *_parse(ask), "not-reachable", code, direction, kind, block, why, rule, where)


def unknown(
    id: str, ask: str, code: str, at: str, why: str, *, where: tuple[str, str] | None = None
) -> Q:
    """An unknown answer (always met on the forward path here); `at` is "kind:id"."""
    kind, _, block = at.partition(":")
    return Q(id, *_parse(ask), "unknown", code, "forward", kind, block, why, None, where)


SPOKE_TO_EGRESS = (
    "rtb-0prodapp",
    "tgw-attach-0prod",
    "tgw-rtb-0spoke",
    "tgw-attach-0egress",
    "rtb-0egresstgw",
    "nat-0egress",
    "rtb-0egresspub",
    "igw-0egress",
)

QUESTIONS: tuple[Q, ...] = (
    # ---- prod: central egress, endpoints, local, NACLs, security groups -------------------------
    ok(
        "prod-internet-central-egress",
        "i-0proda -> internet tcp/443",
        "TGW default route to the egress VPC; the attachment subnets' table sends it to a public "
        "NAT gateway (source NAT to its EIP) whose subnet routes to the IGW; replies come back to "
        "the NAT and through the hub table associated with the egress attachment",
        hops=SPOKE_TO_EGRESS,
    ),
    ok(
        "prod-b-icmp-internet",
        "i-0prodb -> 8.8.8.8 icmp",
        "az b has a prod attachment subnet; 'A NAT gateway supports the following protocols: TCP, "
        "UDP, and ICMP' (VPC User Guide, NAT gateway basics)",
        hops=("rtb-0prodapp", "tgw-attach-0prod", "tgw-rtb-0spoke", "nat-0egress", "igw-0egress"),
    ),
    ok(
        "prod-s3-gateway-endpoint",
        "i-0proda -> s3 tcp/443",
        "the S3 prefix-list route to the gateway endpoint is more specific than 0.0.0.0/0, so S3 "
        "traffic takes the endpoint (VPC User Guide, gateway endpoints: routing)",
        hops=("rtb-0prodapp", "vpce-0prods3"),
    ),
    ok(
        "prod-dynamodb-through-nat",
        "i-0proda -> dynamodb tcp/443",
        "no DynamoDB endpoint: the public service endpoint is reached like any internet address, "
        "through the central NAT gateway and IGW",
        hops=("rtb-0prodapp", "tgw-rtb-0spoke", "nat-0egress", "igw-0egress"),
    ),
    ok(
        "prod-local-icmp",
        "i-0proda -> i-0prodb icmp",
        "local route; sg-0prodapp allows ICMP from 10.0.0.0/8; default NACLs allow all",
        hops=("rtb-0prodapp",),
    ),
    ok(
        "prod-app-to-db-group-reference",
        "i-0proda -> eni-0proddb tcp/5432",
        "data NACL allows 5432 in and 1024-65535 back to 10.10/16; sg-0proddb allows 5432 from "
        "members of sg-0prodapp in the same VPC",
    ),
    blocked(
        "prod-app-to-db-wrong-port-nacl",
        "i-0proda -> eni-0proddb tcp/5433",
        "NACL_INGRESS_DENIED",
        "network-acl:acl-0proddata",
        "only 5432 is allowed in: the final * rule denies; the NACL is checked before the security "
        "group on the way in",
        rule="32767",
    ),
    ok(
        "prod-db-replica-same-subnet",
        "eni-0proddb2 -> eni-0proddb tcp/5433",
        "contract: traffic that stays inside one subnet does not cross its NACL (AWS: NACLs "
        "control traffic in and out of a subnet); sg-0proddb allows all tcp from itself",
    ),
    blocked(
        "prod-subnet-host-to-db-no-group",
        "subnet-0prodapp1a -> eni-0proddb tcp/5432",
        "SG_INGRESS_DENIED",
        "security-group:sg-0proddb",
        "contract: a subnet source has no security group, so a rule referencing sg-0prodapp cannot "
        "match it (the NACL allows 10.10/16)",
    ),
    blocked(
        "prod-db-internet-nacl-out",
        "eni-0proddb -> internet tcp/443",
        "NACL_EGRESS_DENIED",
        "network-acl:acl-0proddata",
        "the data NACL's outbound allows only ephemeral ports to 10.10/16; NACLs are stateless and "
        "evaluated by rule number, the final * denies",
        rule="32767",
    ),
    blocked(
        "prod-no-destination",
        "i-0proda -> 10.10.200.10 tcp/443",
        "NO_DESTINATION",
        "vpc:vpc-0prod",
        "the local route (longest prefix /16 beats 0.0.0.0/0) matches but no subnet holds "
        "10.10.200.0/24",
    ),
    # ---- hub: spokes <-> shared services, spoke isolation, interface endpoint -------------------
    ok(
        "prod-shared-tgw",
        "i-0proda -> i-0shared tcp/443",
        "spoke table's propagated 10.50/16 (more specific than the 10/8 blackhole); into the "
        "shared VPC by its attachment subnets' table; shared NACL replies to 10.10/16",
        hops=(
            "rtb-0prodapp",
            "tgw-attach-0prod",
            "tgw-rtb-0spoke",
            "tgw-attach-0shared",
            "rtb-0sharedmain",
        ),
    ),
    ok(
        "prod-shared-dns-udp",
        "i-0proda -> 10.50.1.10 udp/53",
        "NACL in 120 allows udp 53 from 10/8, out 110 udp 1024-65535 to 10.10/16; SG udp 53",
    ),
    ok(
        "prod-b-shared-tgw-az-b",
        "i-0prodb -> i-0shared tcp/443",
        "prod's attachment has a subnet in az b, so az-b resources reach the TGW (TGW Guide, VPC "
        "attachments: limits)",
    ),
    ok(
        "prod-interface-endpoint",
        "i-0proda -> vpce-0sharedssm tcp/443",
        "an interface endpoint is its network interface: routed like any interface in shared, "
        "allowed by sg-0sharedvpce and the shared NACL",
        hops=("rtb-0prodapp", "tgw-rtb-0spoke", "tgw-attach-0shared"),
    ),
    blocked(
        "prod-dev-tgw-blackhole",
        "i-0proda -> i-0deva tcp/443",
        "TGW_BLACKHOLE_ROUTE",
        "transit-gateway-route-table:tgw-rtb-0spoke",
        "longest prefix in the spoke table is the 10.0.0.0/8 blackhole (spokes isolated); matching "
        "a blackhole route drops the packet (TGW Guide, route tables)",
        rule="10.0.0.0/8",
    ),
    # ---- TGW peering: cross-region, cross-account -----------------------------------------------
    ok(
        "prod-eu-tgw-peering",
        "i-0proda -> i-0eu tcp/443",
        "spoke table's static 10.60/16 to the peering attachment; on the eu TGW the table "
        "associated with that attachment sends 10.60/16 to the eu VPC; eu's 10.10/16 static route "
        "brings the reply back",
        hops=(
            "rtb-0prodapp",
            "tgw-attach-0prod",
            "tgw-rtb-0spoke",
            "tgw-attach-0hubeu",
            "tgw-rtb-0eu",
            "tgw-attach-0eu",
            "rtb-0eutgw",
        ),
    ),
    ok(
        "eu-prod-tgw-peering",
        "i-0eu -> i-0proda tcp/443",
        "from eu: tgw-rtb-0eu 10.10/16 to the peering; in the hub the table associated with the "
        "peering attachment (tgw-rtb-0shared) has prod's propagated route",
        hops=(
            "rtb-0euapp",
            "tgw-attach-0eu",
            "tgw-rtb-0eu",
            "tgw-attach-0hubeu",
            "tgw-rtb-0shared",
            "tgw-attach-0prod",
        ),
    ),
    blocked(
        "dev-eu-return-tgw-no-route",
        "i-0deva -> i-0eu tcp/443",
        "TGW_NO_ROUTE",
        "transit-gateway-route-table:tgw-rtb-0eu",
        "forward works (spoke 10.60/16 beats the /8 blackhole), but replies are routed by the "
        "replier's tables: tgw-rtb-0eu has no route to 10.20/16 (peering attachments need static "
        "routes)",
        direction="return",
        where=(B, EUW1),
    ),
    blocked(
        "eu-dev-tgw-no-route",
        "i-0eu -> i-0deva icmp",
        "TGW_NO_ROUTE",
        "transit-gateway-route-table:tgw-rtb-0eu",
        "no route in the eu TGW table matches 10.20.1.10",
        where=(B, EUW1),
    ),
    unknown(
        "prod-apac-unscanned-region",
        "i-0proda -> 10.90.1.10 tcp/443",
        "UNSCANNED_REGION",
        "region:ap-southeast-2",
        "the path continues on the peer TGW in ap-southeast-2, a region that was not scanned",
    ),
    # ---- on-premises ----------------------------------------------------------------------------
    ok(
        "prod-on-premises-vpn",
        "i-0proda -> on-premises tcp/443",
        "192.168.0.0/16 (TGW route to the VPN attachment, both tunnels up) is reachable",
        hops=("rtb-0prodapp", "tgw-attach-0prod", "tgw-rtb-0spoke", "tgw-attach-0vpn"),
    ),
    ok(
        "on-premises-prod-ssh",
        "on-premises -> i-0proda tcp/22",
        "enters through the VPN attachment, routed by tgw-rtb-0shared to prod; sg-0prodapp allows "
        "22 from 192.168.0.0/16; the reply goes back via the spoke table's VPN route",
    ),
    blocked(
        "on-prem-ip-shared-nacl-in",
        "192.168.10.5 -> i-0shared tcp/443",
        "NACL_INGRESS_DENIED",
        "network-acl:acl-0sharedapp",
        "an address in no scanned VPC that is private is on-premises; the shared NACL allows 443 "
        "only from 10/8, the final * denies",
        rule="32767",
    ),
    blocked(
        "shared-on-prem-dns-udp-reply",
        "i-0shared -> 192.168.10.53 udp/53",
        "NACL_INGRESS_DENIED",
        "network-acl:acl-0sharedapp",
        "out: rule 130 allows udp 53 to 192.168/16; the reply (udp to an ephemeral port) meets an "
        "inbound ACL that allows ephemeral tcp only: NACLs are stateless",
        direction="return",
        rule="32767",
    ),
    blocked(
        "legacy-vpn-tunnels-down",
        "i-0legacy -> 172.20.1.10 tcp/443",
        "VPN_TUNNELS_DOWN",
        "vpn-connection:vpn-0branch",
        "the VGW route leads to a VPN connection whose two tunnels are DOWN",
    ),
    # ---- VPC peering: cross-account, inter-region, not transitive, pending ----------------------
    ok(
        "prod-payments-peering-group-ref",
        "i-0proda -> i-0pay tcp/443",
        "active peering routed both ways; sg-0pay references prod's sg-0prodapp across a same- "
        "region peering, which AWS supports (Peering Guide, security groups)",
        hops=("rtb-0prodapp", "pcx-0prodpay"),
    ),
    blocked(
        "prod-payments-all-protocols",
        "i-0proda -> i-0pay all",
        "SG_INGRESS_DENIED",
        "security-group:sg-0pay",
        "protocol all: sg-0pay allows only tcp/443",
        where=(B, USE1),
    ),
    ok(
        "payments-prod-https",
        "i-0pay -> i-0proda tcp/443",
        "sg-0pay egress allows tcp 443 to 10.10/16; sg-0prodapp allows 443 from 10/8",
    ),
    blocked(
        "payments-prod-ssh-egress",
        "i-0pay -> i-0proda tcp/22",
        "SG_EGRESS_DENIED",
        "security-group:sg-0pay",
        "sg-0pay has no default allow-all egress: only tcp 443 to 10.10/16",
    ),
    blocked(
        "prod-cards-not-transitive",
        "i-0proda -> 10.140.1.10 tcp/443",
        "PEERING_NOT_TRANSITIVE",
        "vpc-peering-connection:pcx-0prodpay",
        "10.140.1.10 is in cards, peered with payments only: 'VPC peering does not support "
        "transitive peering relationships' (Peering Guide, limitations)",
    ),
    blocked(
        "prod-newapp-pending-peering",
        "i-0proda -> 10.130.1.10 tcp/443",
        "PEERING_NOT_ACTIVE",
        "vpc-peering-connection:pcx-0pending",
        "the route to a pending-acceptance peering exists but is blackhole 'until the VPC peering "
        "connection is in the active state' (Peering Guide): the cause is the peering, not a "
        "deleted target",
    ),
    ok(
        "prod-dr-inter-region-peering",
        "i-0proda -> i-0dr tcp/5432",
        "an active inter-region peering routed both ways; sg-0dr allows 5432 from 10.10/16",
        hops=("rtb-0prodapp", "pcx-0proddr"),
    ),
    blocked(
        "prod-dr-https-sg",
        "i-0proda -> i-0dr tcp/443",
        "SG_INGRESS_DENIED",
        "security-group:sg-0dr",
        "sg-0dr allows only 5432",
        where=(A, EUW1),
    ),
    # ---- dev: AZ coverage, failed NAT, no IGW, one-way peering ----------------------------------
    blocked(
        "dev-shared-return-nacl-ephemeral",
        "i-0deva -> i-0shared tcp/443",
        "NACL_EGRESS_DENIED",
        "network-acl:acl-0sharedapp",
        "forward allowed (NACL in 100, SG 443 from 10/8); the shared NACL's outbound allows "
        "ephemeral ports to 10.10/16 only, so the reply to 10.20.1.10 hits the final * rule",
        direction="return",
        rule="32767",
    ),
    blocked(
        "dev-shared-ssh-group-across-tgw",
        "i-0deva -> i-0shared tcp/22",
        "SG_INGRESS_DENIED",
        "security-group:sg-0sharedapp",
        "the NACL allows 22 from 10/8; the SG rule references sg-0devapp across the TGW, whose "
        "security group referencing support is disabled (it is off by default at TGW level)",
    ),
    blocked(
        "dev-b-no-attachment-in-az",
        "i-0devb -> i-0shared tcp/443",
        "TGW_NO_ATTACHMENT_IN_AZ",
        "transit-gateway-attachment:tgw-attach-0dev",
        "'any resources in Availability Zones where there is no transit gateway attachment cannot "
        "reach the transit gateway' (TGW Guide, VPC attachments): dev has az a only",
    ),
    blocked(
        "shared-dev-b-return-no-attachment-in-az",
        "i-0shared -> i-0devb tcp/443",
        "TGW_NO_ATTACHMENT_IN_AZ",
        "transit-gateway-attachment:tgw-attach-0dev",
        "the request reaches dev-b through the az-a attachment, but dev-b's reply is routed to the "
        "TGW from az b, where dev has no attachment subnet",
        direction="return",
    ),
    blocked(
        "dev-internet-nat-failed",
        "i-0deva -> internet tcp/443",
        "NAT_GATEWAY_NOT_AVAILABLE",
        "nat-gateway:nat-0dev",
        "0.0.0.0/0 leads to a NAT gateway in state failed",
    ),
    blocked(
        "internet-dev-no-igw",
        "internet -> i-0deva tcp/443",
        "NO_INTERNET_GATEWAY",
        "vpc:vpc-0dev",
        "no internet gateway is attached to dev, so nothing from the internet can enter it (there "
        "is no IGW to fault a missing public IP on)",
    ),
    blocked(
        "dev-analytics-one-way-peering",
        "i-0deva -> i-0analytics tcp/443",
        "NO_ROUTE",
        "route-table:rtb-0analytics",
        "dev routes 10.110/16 to the active peering, analytics has no route back to 10.20/16: 'The "
        "owner of the other VPC ... must also add a route' (Peering Guide)",
        direction="return",
        where=(B, USE1),
    ),
    # ---- shared: TGW no route, unscanned account, wrong /24 back --------------------------------
    blocked(
        "shared-172-tgw-no-route",
        "i-0shared -> 172.16.5.10 tcp/443",
        "TGW_NO_ROUTE",
        "transit-gateway-route-table:tgw-rtb-0shared",
        "the VPC sends 172.16/12 to the TGW, whose shared table has no matching route",
    ),
    unknown(
        "shared-vendor-unscanned-account",
        "i-0shared -> 10.99.1.10 tcp/443",
        "UNSCANNED_ACCOUNT",
        "account:999999999999",
        "an active peering into account 999999999999, which was not scanned",
    ),
    blocked(
        "shared-reporting-wrong-return-24",
        "i-0shared -> i-0reporting tcp/443",
        "NO_ROUTE",
        "route-table:rtb-0reporting",
        "reporting's route back covers 10.50.2.0/24, not 10.50.1.10: replies use the replier's own "
        "table",
        direction="return",
        where=(B, USE1),
    ),
    ok(
        "shared-mgmt-subnet-reporting",
        "subnet-0sharedmgmt1a -> 10.120.1.10 tcp/443",
        "the subnet host 10.50.2.4 (network + 4) is inside reporting's 10.50.2.0/24 route back",
        hops=("rtb-0sharedapp", "pcx-0wrong"),
    ),
    # ---- qa: replies through the egress VPC and the VPN use the hub's other table --------
    blocked(
        "qa-internet-return-not-propagated",
        "i-0qa -> internet tcp/443",
        "TGW_NO_ROUTE",
        "transit-gateway-route-table:tgw-rtb-0shared",
        "forward goes out through the central NAT; the NAT gateway forwards the reply to "
        "10.35.1.10 by its own subnet's table (10/8 -> TGW), and the egress attachment's "
        "associated table, tgw-rtb-0shared, has no route to qa (never propagated): an "
        "attachment's associated table decides where its traffic goes (TGW Guide)",
        direction="return",
    ),
    blocked(
        "qa-on-prem-return-not-propagated",
        "i-0qa -> 192.168.10.5 tcp/443",
        "TGW_NO_ROUTE",
        "transit-gateway-route-table:tgw-rtb-0shared",
        "the spoke table sends 192.168/16 to the VPN; the reply enters the TGW on the VPN "
        "attachment, whose associated table tgw-rtb-0shared has no route to 10.35/16",
        direction="return",
    ),
    # ---- attachment states, no route to a service -----------------------------------------------
    blocked(
        "sandbox-attachment-not-associated",
        "i-0sandbox -> i-0shared tcp/443",
        "TGW_ATTACHMENT_NOT_ASSOCIATED",
        "transit-gateway-attachment:tgw-attach-0sandbox",
        "default association is off on the hub and no table lists the attachment",
    ),
    blocked(
        "sandbox-s3-no-route",
        "i-0sandbox -> s3 tcp/443",
        "NO_ROUTE",
        "route-table:rtb-0sandbox",
        "no gateway endpoint route and no default route: nothing matches the S3 service",
    ),
    blocked(
        "analytics-tgw-attachment-pending",
        "i-0analytics -> i-0shared tcp/443",
        "TGW_ATTACHMENT_MISSING",
        "transit-gateway:tgw-0hub",
        "the route names tgw-0hub but analytics' attachment is pendingAcceptance (the hub does not "
        "auto-accept shared attachments): no available attachment",
    ),
    # ---- legacy and west: blackhole, Cloud WAN, local gateway, coverage gap ---------------------
    blocked(
        "legacy-blackhole-deleted-nat",
        "i-0legacy -> internet tcp/443",
        "BLACKHOLE_ROUTE",
        "route-table:rtb-0legacy",
        "the default route's NAT gateway is gone: AWS keeps the route in state blackhole and drops "
        "matching traffic",
        rule="0.0.0.0/0",
    ),
    unknown(
        "legacy-cloud-wan",
        "i-0legacy -> 10.200.1.10 tcp/443",
        "CLOUD_WAN",
        f"core-network:{CORE_NETWORK}",
        "a route to a Cloud WAN core network (named by its ARN, the route's only identifier): not "
        "modeled",
    ),
    unknown(
        "legacy-local-gateway",
        "i-0legacy -> 10.210.1.10 tcp/443",
        "TARGET_NOT_MODELED",
        "route-table:rtb-0legacy",
        "a route to an Outposts local gateway: not modeled",
    ),
    unknown(
        "west-tgw-routes-not-read",
        "i-0west -> 10.151.1.10 tcp/443",
        "NOT_READ",
        "transit-gateway-route-table:tgw-rtb-0west",
        "SearchTransitGatewayRoutes failed in us-west-2 (a coverage gap): the associated table's "
        "routes are unknown",
        where=(A, USW2),
    ),
    # ---- web: internet ingress, Elastic IP, NACL order, public IPs ------------------------------
    ok(
        "internet-web-https",
        "internet -> i-0web tcp/443",
        "IGW with an Elastic IP on the instance; NACL rule 100 allows, sg-0web allows 443 from "
        "0.0.0.0/0 (anyone)",
        hops=("igw-0web",),
    ),
    ok(
        "internet-web-eip-address",
        f"internet -> {WEB_EIP} tcp/443",
        "a destination IP held by an interface (its Elastic IP) is that interface",
        hops=("igw-0web",),
    ),
    blocked(
        "internet-web-ssh-nacl-90",
        "internet -> i-0web tcp/22",
        "NACL_INGRESS_DENIED",
        "network-acl:acl-0webpub",
        "NACL rules are evaluated lowest number first: deny 22 at 90 wins over allow all at 100 "
        "(the SG would allow 22)",
        rule="90",
    ),
    blocked(
        "internet-web-http-sg",
        "internet -> i-0web tcp/80",
        "SG_INGRESS_DENIED",
        "security-group:sg-0web",
        "the NACL allows 80 (rule 100); sg-0web allows 443 and 22 only",
    ),
    ok(
        "web-internet-ntp-udp",
        "i-0web -> internet udp/123",
        "EIP + IGW; the reply to the ephemeral port is allowed by NACL rule 100 (rule 90 covers "
        "tcp 22 only)",
        hops=("rtb-0web", "igw-0web"),
    ),
    ok(
        "web-batch-all-protocols",
        "i-0web -> i-0batch all",
        "local; sg-0batch allows all traffic from members of sg-0web; the web NACL lets the "
        "replies' ephemeral ports in",
    ),
    blocked(
        "batch-internet-no-public-ip",
        "i-0batch -> internet tcp/443",
        "NO_PUBLIC_IP",
        "network-interface:eni-0batch",
        "0.0.0.0/0 goes straight to the IGW but the instance has no public or Elastic IP, so the "
        "IGW cannot translate it",
    ),
    blocked(
        "batch-subnet-internet-no-public-ip",
        "subnet-0webpriv1a -> 8.8.8.8 tcp/443",
        "NO_PUBLIC_IP",
        "subnet:subnet-0webpriv1a",
        "same for a subnet host (MapPublicIpOnLaunch is off): the subnet is the component",
    ),
    blocked(
        "internet-batch-no-public-ip",
        "internet -> i-0batch tcp/443",
        "NO_PUBLIC_IP",
        "network-interface:eni-0batch",
        "the VPC has an IGW, but an interface with no public IP cannot be reached from the "
        "internet",
    ),
    # ---- IPv6 -----------------------------------------------------------------------------------
    ok(
        "v6-internet-egress-only",
        "i-0v6 -> 2001:4860:4860::8888 tcp/443",
        "::/0 to the egress-only IGW: outbound IPv6 allowed, replies allowed (stateful); the "
        "default NACL and SG egress include ::/0",
        hops=("rtb-0v6", "eigw-0v6"),
    ),
    blocked(
        "internet-v6-egress-only-inbound",
        f"internet -> {V6_HOST} tcp/443",
        "EGRESS_ONLY_INBOUND",
        "egress-only-internet-gateway:eigw-0v6",
        "an egress-only IGW 'prevents hosts outside of your VPC from initiating an IPv6 connection "
        "with your instance' (EC2 API, CreateEgressOnlyInternetGateway); the SG would allow ::/0",
    ),
    blocked(
        "v6-ipv4-internet-no-route",
        "i-0v6 -> 8.8.8.8 tcp/443",
        "NO_ROUTE",
        "route-table:rtb-0v6",
        "'CIDR blocks for IPv4 and IPv6 are treated separately': ::/0 does not carry IPv4 (VPC "
        "User Guide, subnet route tables)",
    ),
    ok(
        "v6-local-ipv6",
        "i-0v6 -> 2600:1f18:1234:7001::11 tcp/443",
        "the IPv6 local route; sg-0v6 allows 443 from ::/0",
    ),
    # ---- data: gateway endpoint only, inspection appliance --------------------------------------
    ok(
        "data-s3-gateway-endpoint",
        "i-0data -> s3 tcp/443",
        "the only way out is the S3 gateway endpoint's prefix-list route",
        hops=("rtb-0data", "vpce-0datas3"),
    ),
    blocked(
        "data-s3-other-region",
        "i-0data -> s3@eu-west-1 tcp/443",
        "NO_ROUTE",
        "route-table:rtb-0data",
        "'Gateway endpoints ... do not allow access to services in other Regions': the us-east-1 "
        "S3 prefix list does not match eu-west-1 S3, and nothing else does",
    ),
    blocked(
        "data-dynamodb-no-route",
        "i-0data -> dynamodb tcp/443",
        "NO_ROUTE",
        "route-table:rtb-0data",
        "the S3 prefix list stands for S3 only; no route matches DynamoDB",
    ),
    ok(
        "data-inspection-appliance",
        "i-0data -> i-0datab tcp/443",
        "the /24 more specific than local sends it to the appliance interface, assumed to forward "
        "from its own subnet's table (local)",
        hops=("rtb-0data", "eni-0datafw", "rtb-0datamain"),
    ),
)

# Every explanation code of docs/network-model.md.
ALL_CODES = frozenset(
    {
        "NO_ROUTE",
        "BLACKHOLE_ROUTE",
        "PEERING_NOT_ACTIVE",
        "PEERING_NOT_TRANSITIVE",
        "TGW_ATTACHMENT_MISSING",
        "TGW_NO_ATTACHMENT_IN_AZ",
        "TGW_ATTACHMENT_NOT_ASSOCIATED",
        "TGW_NO_ROUTE",
        "TGW_BLACKHOLE_ROUTE",
        "NO_PUBLIC_IP",
        "NO_INTERNET_GATEWAY",
        "EGRESS_ONLY_INBOUND",
        "NAT_GATEWAY_NOT_AVAILABLE",
        "NO_DESTINATION",
        "SG_EGRESS_DENIED",
        "SG_INGRESS_DENIED",
        "NACL_EGRESS_DENIED",
        "NACL_INGRESS_DENIED",
        "VPN_TUNNELS_DOWN",
        "UNSCANNED_ACCOUNT",
        "UNSCANNED_REGION",
        "NOT_READ",
        "CLOUD_WAN",
        "TARGET_NOT_MODELED",
        "NO_ON_PREMISES_RANGE",
    }
)
# Impossible in a topology that has any VPN: known on-premises ranges are organization-wide.
# It gets its own small topology below.
CODES_OUTSIDE_THE_TABLE = frozenset({"NO_ON_PREMISES_RANGE"})


# -- the tests ---------------------------------------------------------------------------------


def _ask(model: Any, q: Q) -> Any:
    kwargs: dict[str, Any] = {"protocol": q.protocol}
    if q.port is not None:
        kwargs["port"] = q.port
    return model.path(q.src, q.dst, **kwargs)


def _is_subsequence(wanted: Sequence[str], seen: Sequence[str]) -> bool:
    it = iter(seen)
    return all(any(s == w for s in it) for w in wanted)


@pytest.fixture(scope="module")
def model() -> Any:
    from vpcaudit.network import NetworkModel  # noqa: PLC0415 - the module under test

    return NetworkModel(build_topology().inventory())


@pytest.mark.parametrize("q", QUESTIONS, ids=[q.id for q in QUESTIONS])
def test_golden_question(model: Any, q: Q) -> None:
    answer = _ask(model, q)
    blocking = answer.blocking
    got = (
        answer.verdict,
        answer.code,
        answer.direction,
        None if blocking is None else blocking.kind,
        None if blocking is None else blocking.id,
    )
    want = (q.verdict, q.code, q.direction, q.kind, q.block)
    forward = [h.component.id for h in answer.forward]
    assert got == want, f"{q.why}\nforward: {forward}"
    if q.rule is not None:
        assert str(blocking.rule) == q.rule, q.why
    if q.where is not None:
        assert (blocking.account_id, blocking.region) == q.where, q.why
    if q.hops:
        assert _is_subsequence(q.hops, forward), f"{q.hops} not in order in {forward}"


def test_no_on_premises_range() -> None:
    """A lone VPC with no VPN, VGW, Direct Connect or TGW: no on-premises range is known."""
    from vpcaudit.network import NetworkModel  # noqa: PLC0415 - the module under test

    b = SnapshotBuilder()
    b.vpc("vpc-0solo", "10.5.0.0/16")
    b.subnet("subnet-0solo1a", "vpc-0solo", "10.5.1.0/24")
    b.route_table("rtb-0solo", "vpc-0solo", main=True, subnets=["subnet-0solo1a"])
    b.security_group("sg-0solo", "vpc-0solo")
    b.network_acl(
        "acl-0solo", "vpc-0solo", subnets=["subnet-0solo1a"], entries=open_nacl_entries(ipv6=False)
    )
    b.network_interface(
        "eni-0solo",
        "subnet-0solo1a",
        private_ip="10.5.1.10",
        groups=["sg-0solo"],
        instance_id="i-0solo",
    )
    answer = NetworkModel(b.inventory()).path("i-0solo", "on-premises", protocol="tcp", port=443)
    assert (answer.verdict, answer.code, answer.blocking) == (
        "unknown",
        "NO_ON_PREMISES_RANGE",
        None,
    )


def test_questions_cover_every_code() -> None:
    covered = {q.code for q in QUESTIONS if q.code}
    assert covered == ALL_CODES - CODES_OUTSIDE_THE_TABLE
    assert len(QUESTIONS) >= 45
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    assert {q.protocol for q in QUESTIONS} == {"tcp", "udp", "icmp", "all"}
