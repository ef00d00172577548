"""Typed models of what the network model needs beyond the audit basics: filters (security
group rules, network ACLs), interfaces, Transit Gateways and their route tables, VPN
connections, egress-only internet gateways and Elastic IPs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from vpcaudit.inventory.models import Network
from vpcaudit.quickinit import quick_init

ALL_PROTOCOLS = "-1"
"""The protocol value AWS uses for "all traffic" in security groups and network ACLs."""


class SgRule(NamedTuple):
    """One source or destination of one security group permission (a flattened IpPermission)."""

    egress: bool
    protocol: str
    """IANA name or number as AWS gives it: "-1" (all), "tcp", "udp", "icmp", "icmpv6", "50"."""
    from_port: int
    """First port (ICMP: type), -1 for all."""
    to_port: int
    """Last port (ICMP: code), -1 for all."""
    cidr: Network | None
    """The peer CIDR (IPv4 or IPv6), or None when the peer is a prefix list or a group."""
    prefix_list_id: str
    group_id: str
    """The referenced security group, "" when the peer is a CIDR or a prefix list."""
    group_owner: str
    group_vpc_id: str
    peering_status: str
    """For a group referenced across a peering: AWS's PeeringStatus ("active", "deleted")."""


class NaclEntry(NamedTuple):
    """One network ACL rule."""

    rule_number: int
    """Evaluated lowest first; 32767 is the final catch-all "*" deny."""
    egress: bool
    protocol: str
    """A protocol number as text ("6" tcp, "17" udp, "1" icmp, "58" icmpv6) or "-1" (all)."""
    allow: bool
    cidr: Network | None
    from_port: int
    to_port: int
    icmp_type: int
    icmp_code: int


@quick_init
@dataclass(frozen=True, slots=True)
class NetworkAcl:
    """A network ACL, its subnets, and its entries in evaluation order."""

    account_id: str
    region: str
    nacl_id: str
    vpc_id: str
    owner_id: str
    is_default: bool
    subnet_ids: tuple[str, ...]
    entries: tuple[NaclEntry, ...]
    """Sorted by (egress, rule_number)."""


@quick_init
@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """An elastic network interface: where it sits, its addresses, groups and purpose."""

    account_id: str
    region: str
    eni_id: str
    subnet_id: str
    vpc_id: str
    owner_id: str
    availability_zone: str
    interface_type: str
    """interface, nat_gateway, vpc_endpoint, gateway_load_balancer_endpoint, lambda,
    network_load_balancer, transit_gateway, ... as AWS reports it."""
    status: str
    private_ips: tuple[str, ...]
    """Primary first."""
    public_ips: tuple[str, ...]
    """Public or Elastic IPv4 addresses associated with the private ones."""
    ipv6_ips: tuple[str, ...]
    group_ids: tuple[str, ...]
    instance_id: str
    source_dest_check: bool
    requester_managed: bool
    description: str


@quick_init
@dataclass(frozen=True, slots=True)
class TransitGateway:
    """A Transit Gateway and the options that decide how new attachments are wired."""

    account_id: str
    region: str
    tgw_id: str
    owner_id: str
    state: str
    default_association: bool
    default_propagation: bool
    association_default_rt: str
    propagation_default_rt: str
    auto_accept_shared: bool
    sg_referencing: bool
    tags: tuple[tuple[str, str], ...]


class TgwRoute(NamedTuple):
    """One route of a Transit Gateway route table."""

    destination: str
    """An IPv4/IPv6 CIDR or a prefix-list id."""
    route_type: str
    """static or propagated."""
    state: str
    """active or blackhole."""
    attachment_ids: tuple[str, ...]
    """The attachments it sends to (several for ECMP); empty for a blackhole."""


@quick_init
@dataclass(frozen=True, slots=True)
class TgwRouteTable:
    """A Transit Gateway route table with its routes, associations and propagations."""

    account_id: str
    region: str
    route_table_id: str
    tgw_id: str
    state: str
    is_default_association: bool
    is_default_propagation: bool
    routes: tuple[TgwRoute, ...]
    associations: tuple[str, ...]
    """Attachment ids associated with this table (their traffic is routed by it)."""
    propagations: tuple[str, ...]
    """Attachment ids whose routes propagate into this table."""
    routes_read: bool
    """False when the routes could not be read (a gap); the table then routes *unknown*."""


@quick_init
@dataclass(frozen=True, slots=True)
class EgressOnlyIgw:
    """An egress-only internet gateway (outbound IPv6 only) and its VPC."""

    account_id: str
    region: str
    gateway_id: str
    attached_vpc_ids: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class VpnConnection:
    """A Site-to-Site VPN connection to a virtual private gateway or a Transit Gateway."""

    account_id: str
    region: str
    vpn_id: str
    state: str
    vpn_gateway_id: str
    transit_gateway_id: str
    customer_gateway_id: str
    static_routes: tuple[str, ...]
    """On-premises CIDRs of its static routes (available ones)."""
    tunnels_up: int
    tunnels: int


@quick_init
@dataclass(frozen=True, slots=True)
class ElasticIp:
    """An Elastic IP address and what it is associated with ("" when nothing)."""

    account_id: str
    region: str
    allocation_id: str
    public_ip: str
    association_id: str
    eni_id: str
    private_ip: str
    instance_id: str
    tags: tuple[tuple[str, str], ...]


@quick_init
@dataclass(frozen=True, slots=True)
class PrefixList:
    """A managed prefix list: its name, owner and, when read, its entries."""

    account_id: str
    region: str
    prefix_list_id: str
    name: str
    owner_id: str
    """"AWS" for AWS-managed lists (S3, DynamoDB, CloudFront, ...)."""
    cidrs: tuple[Network, ...] | None
    """The entries, or None when they were not read (AWS-managed lists are not expanded:
    they stand for their service, e.g. com.amazonaws.us-east-1.s3)."""
