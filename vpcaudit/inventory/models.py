"""The typed, frozen models of what a scan read: VPCs, routes, peerings, endpoints, flow logs."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from vpcaudit.errors import SnapshotError
from vpcaudit.quickinit import quick_init
from vpcaudit.snapshot import RawItem

if TYPE_CHECKING:
    from vpcaudit.inventory.netmodels import SgRule

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Resource kinds a snapshot may hold, and the API operation that reads each. A gap on the
# operation means the kind is unknown (not empty) for that account and region.
KIND_OPERATIONS: Mapping[str, str] = {
    "vpcs": "ec2:DescribeVpcs",
    "subnets": "ec2:DescribeSubnets",
    "route_tables": "ec2:DescribeRouteTables",
    "peerings": "ec2:DescribeVpcPeeringConnections",
    "endpoints": "ec2:DescribeVpcEndpoints",
    "flow_logs": "ec2:DescribeFlowLogs",
    "prefix_lists": "ec2:DescribeManagedPrefixLists",
    "vpn_gateways": "ec2:DescribeVpnGateways",
    "tgw_attachments": "ec2:DescribeTransitGatewayAttachments",
    "nat_gateways": "ec2:DescribeNatGateways",
    "internet_gateways": "ec2:DescribeInternetGateways",
    "security_groups": "ec2:DescribeSecurityGroups",
    "log_groups": "logs:DescribeLogGroups",
    # What the network model (vpcaudit/network) needs besides the kinds above.
    "network_acls": "ec2:DescribeNetworkAcls",
    "network_interfaces": "ec2:DescribeNetworkInterfaces",
    "transit_gateways": "ec2:DescribeTransitGateways",
    "tgw_vpc_attachments": "ec2:DescribeTransitGatewayVpcAttachments",
    "tgw_peering_attachments": "ec2:DescribeTransitGatewayPeeringAttachments",
    "tgw_connects": "ec2:DescribeTransitGatewayConnects",
    "tgw_route_tables": "ec2:DescribeTransitGatewayRouteTables",
    "tgw_routes": "ec2:SearchTransitGatewayRoutes",
    "tgw_associations": "ec2:GetTransitGatewayRouteTableAssociations",
    "tgw_propagations": "ec2:GetTransitGatewayRouteTablePropagations",
    "egress_only_igws": "ec2:DescribeEgressOnlyInternetGateways",
    "vpn_connections": "ec2:DescribeVpnConnections",
    "addresses": "ec2:DescribeAddresses",
    "prefix_list_entries": "ec2:GetManagedPrefixListEntries",
}


def partition_of(region: str) -> str:
    """Return the ARN partition of a region name."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def ec2_arn(region: str, account_id: str, kind: str, resource_id: str) -> str:
    """Build an EC2 resource ARN such as arn:aws:ec2:us-east-1:111:vpc/vpc-1."""
    return f"arn:{partition_of(region)}:ec2:{region}:{account_id}:{kind}/{resource_id}"


def parse_time(value: Any) -> dt.datetime | None:
    """Read an ISO 8601 timestamp from a snapshot as an aware UTC datetime (None if absent)."""
    if value in (None, ""):
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SnapshotError(f"bad timestamp in snapshot: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _tags(item: RawItem) -> Mapping[str, str]:
    return {str(t.get("Key", "")): str(t.get("Value", "")) for t in item.get("Tags") or []}


def parse_network(text: str) -> Network | None:
    """A CIDR string as an IPv4/IPv6 network (cached), or None when it is not one."""
    return _net(text)


@functools.lru_cache(maxsize=262144)
def _net(text: str) -> Network | None:
    # Cached: the same CIDR strings recur across peerings, subnets and routes. Large: an
    # organization's distinct VPC blocks cycled through a smaller cache never hit it.
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


_TEXTS: dict[int, tuple[Network, str]] = {}
_TEXTS_MAX = 1 << 20


def net_text(net: Network) -> str:
    """str(net), remembered per object: ipaddress formats the address in Python each time, and
    rules and reports write the same VPC blocks again for every finding that names them."""
    # Keyed by id, with the object kept and compared: hashing a network is Python code too.
    hit = _TEXTS.get(id(net))
    if hit is not None and hit[0] is net:
        return hit[1]
    if net.version == 4:  # the address's four bytes, without ipaddress's formatting code
        ip = int(net.network_address)
        text = f"{ip >> 24}.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}/{net.prefixlen}"
    else:
        text = str(net)
    if len(_TEXTS) >= _TEXTS_MAX:
        _TEXTS.clear()  # bounded, for a process that builds inventory after inventory
    _TEXTS[id(net)] = (net, text)
    return text


@quick_init
@dataclass(frozen=True, slots=True)
class Located:
    """Where an item was read: the scanned account and region."""

    account_id: str
    region: str


@quick_init
@dataclass(frozen=True, slots=True)
class Vpc:
    """A VPC with all its associated CIDR blocks."""

    account_id: str
    region: str
    vpc_id: str
    owner_id: str
    cidrs: tuple[Network, ...]
    is_default: bool
    tags: Mapping[str, str]

    @property
    def name(self) -> str:
        """The Name tag, or ""."""
        return self.tags.get("Name", "")

    @property
    def arn(self) -> str:
        """The VPC's ARN in its owner's account."""
        return ec2_arn(self.region, self.owner_id, "vpc", self.vpc_id)


@quick_init
@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet: its VPC, zone and CIDR."""

    account_id: str
    region: str
    subnet_id: str
    vpc_id: str
    availability_zone: str
    cidr: str
    ipv6_cidrs: tuple[str, ...] = ()
    owner_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    """The subnet's tags as the scanning account sees them (reachability intents select by them)."""


class Route(NamedTuple):
    """One route: destination, the target it sends to, and whether it is usable.

    A NamedTuple rather than a dataclass: snapshots hold hundreds of thousands of routes and
    a tuple is several times cheaper to build.
    """

    destination: str
    """A CIDR (IPv4 or IPv6) or a prefix-list id."""
    target_type: str
    """gateway, nat-gateway, transit-gateway, vpc-peering-connection, network-interface, ..."""
    target_id: str
    state: str
    """active or blackhole."""
    origin: str

    @property
    def is_active(self) -> bool:
        """True when AWS says the route can carry traffic."""
        return self.state == "active"


@quick_init
@dataclass(frozen=True, slots=True)
class RouteTable:
    """A route table, its routes and the subnets that use it."""

    account_id: str
    region: str
    route_table_id: str
    vpc_id: str
    owner_id: str
    is_main: bool
    subnet_ids: tuple[str, ...]
    routes: tuple[Route, ...]
    gateway_ids: tuple[str, ...] = ()
    """Internet or virtual private gateways associated with it as an edge (ingress) table."""

    @property
    def arn(self) -> str:
        """The route table's ARN."""
        return ec2_arn(self.region, self.owner_id, "route-table", self.route_table_id)


@quick_init
@dataclass(frozen=True, slots=True)
class PeeringSide:
    """One side of a peering connection as AWS describes it."""

    owner_id: str
    region: str
    vpc_id: str
    cidrs: tuple[Network, ...]
    allow_remote_dns: bool | None


@quick_init
@dataclass(frozen=True, slots=True)
class Peering:
    """A VPC peering connection, deduplicated across the accounts and regions that saw it."""

    peering_id: str
    status: str
    status_message: str
    requester: PeeringSide
    accepter: PeeringSide
    expiration_time: dt.datetime | None
    seen_in: tuple[Located, ...]
    tags: Mapping[str, str]

    def side(self, vpc_id: str) -> PeeringSide | None:
        """Return the side whose VPC is vpc_id."""
        for s in (self.requester, self.accepter):
            if s.vpc_id == vpc_id:
                return s
        return None

    def other(self, side: PeeringSide) -> PeeringSide:
        """Return the side opposite to side."""
        return self.accepter if side is self.requester else self.requester

    def arn_in(self, account_id: str, region: str) -> str:
        """The connection's ARN as seen from one of its sides."""
        return ec2_arn(region, account_id, "vpc-peering-connection", self.peering_id)


@quick_init
@dataclass(frozen=True, slots=True)
class Endpoint:
    """A VPC endpoint (gateway, interface, or another type)."""

    account_id: str
    region: str
    endpoint_id: str
    vpc_id: str
    owner_id: str
    endpoint_type: str
    service_name: str
    state: str
    route_table_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    private_dns_enabled: bool
    policy_document: str
    tags: Mapping[str, str]
    network_interface_ids: tuple[str, ...] = ()
    """The endpoint's ENIs (interface and Gateway Load Balancer endpoints)."""
    dns_record_ip_type: str = ""
    """DnsOptions.DnsRecordIpType (ipv4, dualstack, ipv6, service-defined); "" when absent."""
    private_dns_only_for_inbound_resolver: bool = False
    """DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint: private DNS answers only queries
    from Route 53 Resolver inbound endpoints (on-premises), so in-VPC clients resolve the
    service's public name and use the VPC's gateway endpoint (S3 and DynamoDB only)."""

    @property
    def arn(self) -> str:
        """The endpoint's ARN."""
        return ec2_arn(
            self.region, self.owner_id or self.account_id, "vpc-endpoint", self.endpoint_id
        )


@quick_init
@dataclass(frozen=True, slots=True)
class FlowLog:
    """A flow log subscription on a VPC, subnet or network interface."""

    account_id: str
    region: str
    flow_log_id: str
    resource_id: str
    status: str
    deliver_status: str
    deliver_error: str
    traffic_type: str
    destination_type: str
    destination: str


@quick_init
@dataclass(frozen=True, slots=True)
class VpnGateway:
    """A virtual private gateway (VPN or Direct Connect) and the VPCs it is attached to."""

    account_id: str
    region: str
    gateway_id: str
    state: str
    attached_vpc_ids: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class NatGateway:
    """A NAT gateway: where it sits and whether it still forwards."""

    account_id: str
    region: str
    nat_gateway_id: str
    vpc_id: str
    subnet_id: str
    state: str
    connectivity: str
    """public or private."""
    eni_id: str = ""
    private_ip: str = ""
    public_ip: str = ""


@quick_init
@dataclass(frozen=True, slots=True)
class InternetGateway:
    """An internet gateway and the VPCs it is attached to."""

    account_id: str
    region: str
    gateway_id: str
    attached_vpc_ids: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group, reduced to what the rules ask: its ingress open to the world."""

    account_id: str
    region: str
    group_id: str
    vpc_id: str
    name: str
    open_ingress: tuple[str, ...]
    """Ingress permissions from 0.0.0.0/0 or ::/0, e.g. "tcp 443 from 0.0.0.0/0"."""
    owner_id: str = ""
    ingress: tuple[SgRule, ...] = ()
    egress: tuple[SgRule, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class TgwAttachment:
    """A Transit Gateway attachment of a resource (a VPC, a VPN, ...)."""

    account_id: str
    region: str
    attachment_id: str
    transit_gateway_id: str
    resource_type: str
    resource_id: str
    state: str
    tgw_owner_id: str = ""
    resource_owner_id: str = ""
    association_rt_id: str = ""
    """The TGW route table the attachment is associated with ("" when none)."""
    subnet_ids: tuple[str, ...] = ()
    """VPC attachments: one subnet per Availability Zone the attachment serves."""
    appliance_mode: bool = False
    peer_tgw_id: str = ""
    """Peering attachments: the Transit Gateway on the other side, its account and region."""
    peer_account_id: str = ""
    peer_region: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    accepter_tgw_id: str = ""
    """Peering attachments: the accepter's Transit Gateway (AccepterTgwInfo), "" when the
    peering attachments were not read."""
