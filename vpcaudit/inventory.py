"""Typed, frozen models of the raw API items, with the indexes the rules need.

`Inventory.from_snapshot` is the one place where raw boto3 dicts are read; rules only ever see
the models below.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from vpcaudit.errors import SnapshotError
from vpcaudit.model import Gap
from vpcaudit.snapshot import RawItem, Snapshot

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


@functools.lru_cache(maxsize=65536)
def _net(text: str) -> Network | None:
    # Cached: the same CIDR strings recur across peerings, subnets and routes.
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Located:
    """Where an item was read: the scanned account and region."""

    account_id: str
    region: str


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


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet: its VPC, zone and CIDR."""

    account_id: str
    region: str
    subnet_id: str
    vpc_id: str
    availability_zone: str
    cidr: str


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

    @property
    def arn(self) -> str:
        """The route table's ARN."""
        return ec2_arn(self.region, self.owner_id, "route-table", self.route_table_id)


@dataclass(frozen=True, slots=True)
class PeeringSide:
    """One side of a peering connection as AWS describes it."""

    owner_id: str
    region: str
    vpc_id: str
    cidrs: tuple[Network, ...]
    allow_remote_dns: bool | None


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

    @property
    def arn(self) -> str:
        """The endpoint's ARN."""
        return ec2_arn(
            self.region, self.owner_id or self.account_id, "vpc-endpoint", self.endpoint_id
        )


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


@dataclass(frozen=True, slots=True)
class VpnGateway:
    """A virtual private gateway (VPN or Direct Connect) and the VPCs it is attached to."""

    account_id: str
    region: str
    gateway_id: str
    state: str
    attached_vpc_ids: tuple[str, ...]


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


@dataclass(frozen=True, slots=True)
class InternetGateway:
    """An internet gateway and the VPCs it is attached to."""

    account_id: str
    region: str
    gateway_id: str
    attached_vpc_ids: tuple[str, ...]


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


_ROUTE_TARGETS = (
    ("VpcPeeringConnectionId", "vpc-peering-connection"),
    ("NatGatewayId", "nat-gateway"),
    ("TransitGatewayId", "transit-gateway"),
    ("NetworkInterfaceId", "network-interface"),
    ("InstanceId", "instance"),
    ("EgressOnlyInternetGatewayId", "egress-only-internet-gateway"),
    ("CarrierGatewayId", "carrier-gateway"),
    ("LocalGatewayId", "local-gateway"),
    ("CoreNetworkArn", "core-network"),
    ("GatewayId", "gateway"),
)


def _route(raw: RawItem) -> Route:
    target_type, target_id = "unknown", ""
    for key, kind in _ROUTE_TARGETS:
        if raw.get(key):
            target_type, target_id = kind, str(raw[key])
            break
    return Route(
        str(
            raw.get("DestinationCidrBlock")
            or raw.get("DestinationIpv6CidrBlock")
            or raw.get("DestinationPrefixListId")
            or ""
        ),
        target_type,
        target_id,
        str(raw.get("State", "active")),
        str(raw.get("Origin", "")),
    )


def _vpc_cidrs(raw: RawItem) -> tuple[Network, ...]:
    nets: list[Network] = []
    for assoc in raw.get("CidrBlockAssociationSet") or []:
        if (assoc.get("CidrBlockState") or {}).get("State", "associated") == "associated":
            n = _net(str(assoc.get("CidrBlock", "")))
            if n is not None:
                nets.append(n)
    for assoc in raw.get("Ipv6CidrBlockAssociationSet") or []:
        if (assoc.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated":
            n = _net(str(assoc.get("Ipv6CidrBlock", "")))
            if n is not None:
                nets.append(n)
    if not nets and raw.get("CidrBlock"):
        n = _net(str(raw["CidrBlock"]))
        if n is not None:
            nets.append(n)
    return tuple(sorted(set(nets), key=lambda n: (n.version, n)))


def _peering_side(raw: RawItem | None) -> PeeringSide:
    raw = raw or {}
    nets: list[Network] = []
    for key, field_name in (("CidrBlockSet", "CidrBlock"), ("Ipv6CidrBlockSet", "Ipv6CidrBlock")):
        for entry in raw.get(key) or []:
            n = _net(str(entry.get(field_name, "")))
            if n is not None:
                nets.append(n)
    if raw.get("CidrBlock"):
        n = _net(str(raw["CidrBlock"]))
        if n is not None:
            nets.append(n)
    options = raw.get("PeeringOptions")
    return PeeringSide(
        owner_id=str(raw.get("OwnerId", "")),
        region=str(raw.get("Region", "")),
        vpc_id=str(raw.get("VpcId", "")),
        cidrs=tuple(sorted(set(nets), key=lambda n: (n.version, n))),
        allow_remote_dns=None
        if options is None
        else bool(options.get("AllowDnsResolutionFromRemoteVpc", False)),
    )


@dataclass(frozen=True)
class Inventory:
    """Everything a scan read, as typed models, with indexes for the rules."""

    as_of: dt.datetime
    """When the snapshot was taken: rules measure time (e.g. to expiry) from here."""
    scanned_accounts: frozenset[str]
    account_names: Mapping[str, str]
    org_account_ids: frozenset[str] | None
    scanned_regions: frozenset[tuple[str, str]]
    """(account, region) pairs that were read at all."""
    gaps: tuple[Gap, ...]
    vpcs: tuple[Vpc, ...]
    subnets: tuple[Subnet, ...]
    route_tables: tuple[RouteTable, ...]
    peerings: tuple[Peering, ...]
    endpoints: tuple[Endpoint, ...]
    flow_logs: tuple[FlowLog, ...]
    vpn_gateways: tuple[VpnGateway, ...]
    tgw_attachments: tuple[TgwAttachment, ...]
    prefix_list_names: Mapping[tuple[str, str], str]
    """(region, prefix-list id) -> name, e.g. com.amazonaws.us-east-1.s3."""
    nat_gateways: tuple[NatGateway, ...] = ()
    internet_gateways: tuple[InternetGateway, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    log_groups: frozenset[tuple[str, str, str]] = frozenset()
    """(account, region, log group name) of every CloudWatch Logs group read."""
    _failed: frozenset[tuple[str, str, str]] = field(repr=False, default=frozenset())
    _kinds: Mapping[tuple[str, str], frozenset[str]] = field(repr=False, default_factory=dict)
    """The resource kinds present for each (account, region)."""
    _index: dict[str, Any] = field(repr=False, default_factory=dict, compare=False)

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> Inventory:
        """Build the typed inventory from a snapshot's raw items."""
        try:
            return _build(snap)
        except (KeyError, TypeError, AttributeError) as exc:
            raise SnapshotError(
                f"snapshot item is missing a field or has a wrong type ({type(exc).__name__}: "
                f"{exc})"
            ) from None

    # -- coverage ---------------------------------------------------------------------------

    def was_read(self, account_id: str, region: str, kind: str) -> bool:
        """True when `kind` was read without error in that account and region."""
        if kind not in self._kinds.get((account_id, region), frozenset()):
            # Not read at all: filtered out, or a snapshot older than this kind's collector.
            return False
        op = KIND_OPERATIONS[kind]
        return (account_id, region, op) not in self._failed and (
            account_id,
            region,
            "*",
        ) not in self._failed

    # -- indexes (built once, lazily, then shared by every rule) ----------------------------

    def memo(self, name: str) -> Any:
        """A dict that lives as long as this inventory, for a rule helper's memoised answers."""
        return self._cached("memo:" + name, dict)

    def _cached(self, name: str, build: Any) -> Any:
        if name not in self._index:
            self._index[name] = build()
        return self._index[name]

    def vpc(self, vpc_id: str) -> Vpc | None:
        """Return the VPC, preferring the copy read in its owner's account."""
        index: dict[str, Vpc] = self._cached("vpc", lambda: _vpcs_by_id(self.vpcs))
        return index.get(vpc_id)

    def subnets_of(self, vpc_id: str) -> tuple[Subnet, ...]:
        """The subnets of a VPC."""
        index = self._cached("subnets", lambda: _group(self.subnets, lambda s: s.vpc_id))
        return tuple(index.get(vpc_id, ()))

    def route_tables_of(self, vpc_id: str) -> tuple[RouteTable, ...]:
        """The route tables of a VPC."""
        index = self._cached("rts", lambda: _group(self.route_tables, lambda t: t.vpc_id))
        return tuple(index.get(vpc_id, ()))

    def serving_route_tables(self, vpc_id: str) -> tuple[RouteTable, ...]:
        """Route tables that some subnet actually uses: explicitly, or as main by default."""
        cache: dict[str, tuple[RouteTable, ...]] = self._cached("serving", dict)
        if vpc_id not in cache:
            tables = self.route_tables_of(vpc_id)
            explicit = {s for t in tables for s in t.subnet_ids}
            unassociated = any(s.subnet_id not in explicit for s in self.subnets_of(vpc_id))
            cache[vpc_id] = tuple(t for t in tables if t.subnet_ids or (t.is_main and unassociated))
        return cache[vpc_id]

    def routes_to(self, target_id: str) -> tuple[tuple[RouteTable, Route], ...]:
        """Every (table, route) whose target is target_id (a pcx, nat, tgw, vgw, ...)."""

        def build() -> dict[str, list[tuple[RouteTable, Route]]]:
            out: dict[str, list[tuple[RouteTable, Route]]] = defaultdict(list)
            for t in self.route_tables:
                for r in t.routes:
                    if r.target_id:
                        out[r.target_id].append((t, r))
            return out

        index = self._cached("routes_to", build)
        return tuple(index.get(target_id, ()))

    def endpoints_of(self, vpc_id: str) -> tuple[Endpoint, ...]:
        """The endpoints in a VPC."""
        index = self._cached("eps", lambda: _group(self.endpoints, lambda e: e.vpc_id))
        return tuple(index.get(vpc_id, ()))

    def flow_logs_for(self, resource_id: str) -> tuple[FlowLog, ...]:
        """Flow logs whose resource is resource_id (a VPC, subnet or ENI id)."""
        index = self._cached("fl", lambda: _group(self.flow_logs, lambda f: f.resource_id))
        return tuple(index.get(resource_id, ()))

    def peerings_of(self, vpc_id: str) -> tuple[Peering, ...]:
        """Peering connections in which vpc_id is either side."""

        def build() -> dict[str, list[Peering]]:
            out: dict[str, list[Peering]] = defaultdict(list)
            for p in self.peerings:
                out[p.requester.vpc_id].append(p)
                if p.accepter.vpc_id != p.requester.vpc_id:
                    out[p.accepter.vpc_id].append(p)
            return out

        index = self._cached("peerings_of", build)
        return tuple(index.get(vpc_id, ()))

    def vpn_gateways_of(self, vpc_id: str) -> tuple[VpnGateway, ...]:
        """Virtual private gateways attached to the VPC."""

        def build() -> dict[str, list[VpnGateway]]:
            out: dict[str, list[VpnGateway]] = defaultdict(list)
            for g in self.vpn_gateways:
                for v in g.attached_vpc_ids:
                    out[v].append(g)
            return out

        index = self._cached("vgw", build)
        return tuple(index.get(vpc_id, ()))

    def tgw_attachments_of(self, vpc_id: str) -> tuple[TgwAttachment, ...]:
        """Transit Gateway attachments whose resource is the VPC."""
        index = self._cached(
            "tgwa",
            lambda: _group(
                (a for a in self.tgw_attachments if a.resource_type == "vpc"),
                lambda a: a.resource_id,
            ),
        )
        return tuple(index.get(vpc_id, ()))

    def nat_gateway(self, nat_id: str) -> NatGateway | None:
        """A NAT gateway by id."""
        index = self._cached("nat", lambda: {n.nat_gateway_id: n for n in self.nat_gateways})
        return index.get(nat_id)  # type: ignore[no-any-return]

    def peering(self, peering_id: str) -> Peering | None:
        """A peering connection by id."""
        index = self._cached("pcx", lambda: {p.peering_id: p for p in self.peerings})
        return index.get(peering_id)  # type: ignore[no-any-return]

    def security_group(self, account_id: str, region: str, group_id: str) -> SecurityGroup | None:
        """A security group by id, in the account and region it was read in."""
        index = self._cached(
            "sg", lambda: {(g.account_id, g.region, g.group_id): g for g in self.security_groups}
        )
        return index.get((account_id, region, group_id))  # type: ignore[no-any-return]

    def is_org_member(self, account_id: str) -> bool | None:
        """True/False when the Organization's membership is known, None when it is not."""
        if self.org_account_ids is None:
            return None
        return account_id in self.org_account_ids


def _group(items: Iterable[Any], key: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


def _vpcs_by_id(vpcs: Iterable[Vpc]) -> dict[str, Vpc]:
    out: dict[str, Vpc] = {}
    for v in vpcs:
        if v.vpc_id not in out or v.account_id == v.owner_id:
            out[v.vpc_id] = v
    return out


def _unique(items: Iterable[Any], key: Any) -> tuple[Any, ...]:
    """The first item of each id, in the given order."""
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return tuple(seen.values())


def _build(snap: Snapshot) -> Inventory:
    vpcs: list[Vpc] = []
    subnets: list[Subnet] = []
    tables: list[RouteTable] = []
    endpoints: list[Endpoint] = []
    flow_logs: list[FlowLog] = []
    vgws: list[VpnGateway] = []
    tgwas: list[TgwAttachment] = []
    prefix_lists: dict[tuple[str, str], str] = {}
    peer_raw: dict[str, tuple[RawItem, list[Located]]] = {}
    # Read regions in a fixed order, and sort every model list below, so that the inventory
    # (and every list a rule derives from it) does not depend on the order AWS listed things.
    for rd in sorted(snap.regions, key=lambda r: (r.account_id, r.region)):
        acct, region = rd.account_id, rd.region
        res = rd.resources
        for raw in res.get("vpcs", []):
            vpcs.append(
                Vpc(
                    acct,
                    region,
                    str(raw["VpcId"]),
                    str(raw.get("OwnerId") or acct),
                    _vpc_cidrs(raw),
                    bool(raw.get("IsDefault", False)),
                    _tags(raw),
                )
            )
        for raw in res.get("subnets", []):
            subnets.append(
                Subnet(
                    acct,
                    region,
                    str(raw["SubnetId"]),
                    str(raw["VpcId"]),
                    str(raw.get("AvailabilityZone", "")),
                    str(raw.get("CidrBlock", "")),
                )
            )
        for raw in res.get("route_tables", []):
            assocs = raw.get("Associations") or []
            live = [
                a
                for a in assocs
                if (a.get("AssociationState") or {}).get("State", "associated") == "associated"
            ]
            tables.append(
                RouteTable(
                    acct,
                    region,
                    str(raw["RouteTableId"]),
                    str(raw["VpcId"]),
                    str(raw.get("OwnerId") or acct),
                    any(a.get("Main") for a in live),
                    tuple(sorted(str(a["SubnetId"]) for a in live if a.get("SubnetId"))),
                    tuple(_route(r) for r in raw.get("Routes") or []),
                )
            )
        for raw in res.get("peerings", []):
            pid = str(raw["VpcPeeringConnectionId"])
            entry = peer_raw.setdefault(pid, (raw, []))
            entry[1].append(Located(acct, region))
        for raw in res.get("endpoints", []):
            endpoints.append(
                Endpoint(
                    acct,
                    region,
                    str(raw["VpcEndpointId"]),
                    str(raw.get("VpcId", "")),
                    str(raw.get("OwnerId") or acct),
                    str(raw.get("VpcEndpointType", "")),
                    str(raw.get("ServiceName", "")),
                    str(raw.get("State", "")).lower(),
                    tuple(raw.get("RouteTableIds") or ()),
                    tuple(raw.get("SubnetIds") or ()),
                    tuple(str(g.get("GroupId", "")) for g in raw.get("Groups") or ()),
                    bool(raw.get("PrivateDnsEnabled", False)),
                    str(raw.get("PolicyDocument") or ""),
                    _tags(raw),
                )
            )
        for raw in res.get("flow_logs", []):
            flow_logs.append(
                FlowLog(
                    acct,
                    region,
                    str(raw["FlowLogId"]),
                    str(raw.get("ResourceId", "")),
                    str(raw.get("FlowLogStatus", "")),
                    str(raw.get("DeliverLogsStatus", "")),
                    str(raw.get("DeliverLogsErrorMessage", "")),
                    str(raw.get("TrafficType", "")),
                    str(raw.get("LogDestinationType", "")),
                    str(raw.get("LogDestination") or raw.get("LogGroupName") or ""),
                )
            )
        for raw in res.get("prefix_lists", []):
            prefix_lists[(region, str(raw["PrefixListId"]))] = str(raw.get("PrefixListName", ""))
        for raw in res.get("vpn_gateways", []):
            attached = tuple(
                str(a["VpcId"])
                for a in raw.get("VpcAttachments") or []
                if a.get("State") in ("attached", "attaching")
            )
            vgws.append(
                VpnGateway(
                    acct, region, str(raw["VpnGatewayId"]), str(raw.get("State", "")), attached
                )
            )
        for raw in res.get("tgw_attachments", []):
            tgwas.append(
                TgwAttachment(
                    acct,
                    region,
                    str(raw["TransitGatewayAttachmentId"]),
                    str(raw.get("TransitGatewayId", "")),
                    str(raw.get("ResourceType", "")),
                    str(raw.get("ResourceId", "")),
                    str(raw.get("State", "")),
                )
            )
    peerings = tuple(_peering(pid, raw, seen) for pid, (raw, seen) in sorted(peer_raw.items()))
    failed = frozenset((g.account_id, g.region, g.operation) for g in snap.gaps)
    # An account-wide failure (e.g. the role could not be assumed) fails every region of it.
    failed |= frozenset(
        (g.account_id, r.region, "*") for g in snap.gaps if g.region == "*" for r in snap.regions
    )
    as_of = parse_time(snap.finished_at) or dt.datetime.now(dt.UTC)
    return Inventory(
        as_of=as_of,
        scanned_accounts=frozenset(r.account_id for r in snap.regions),
        account_names=dict(snap.accounts),
        org_account_ids=snap.org_account_ids,
        scanned_regions=frozenset((r.account_id, r.region) for r in snap.regions),
        gaps=snap.gaps,
        vpcs=tuple(sorted(vpcs, key=lambda x: (x.account_id, x.region, x.vpc_id))),
        subnets=_unique(
            sorted(subnets, key=lambda x: (x.account_id, x.region, x.subnet_id)),
            lambda x: x.subnet_id,
        ),
        route_tables=_unique(
            # A shared VPC's tables are seen by owner and participants: keep the owner's copy.
            sorted(
                tables,
                key=lambda x: (
                    x.account_id != x.owner_id,
                    x.account_id,
                    x.region,
                    x.route_table_id,
                ),
            ),
            lambda x: x.route_table_id,
        ),
        peerings=peerings,
        endpoints=tuple(sorted(endpoints, key=lambda x: (x.account_id, x.region, x.endpoint_id))),
        flow_logs=tuple(sorted(flow_logs, key=lambda x: (x.account_id, x.region, x.flow_log_id))),
        vpn_gateways=tuple(sorted(vgws, key=lambda x: (x.account_id, x.region, x.gateway_id))),
        tgw_attachments=tuple(
            sorted(tgwas, key=lambda x: (x.account_id, x.region, x.attachment_id))
        ),
        prefix_list_names=prefix_lists,
        _failed=failed,
        _kinds={(r.account_id, r.region): frozenset(r.resources) for r in snap.regions},
        **_build_gateways(snap),
    )


_WORLD = ("0.0.0.0/0", "::/0")


def _open_ingress(raw: RawItem) -> tuple[str, ...]:
    out: list[str] = []
    for perm in raw.get("IpPermissions") or []:
        proto = str(perm.get("IpProtocol", ""))
        proto = "all" if proto == "-1" else proto
        ports = (
            "all ports"
            if perm.get("FromPort") in (None, -1)
            else str(perm["FromPort"])
            if perm.get("FromPort") == perm.get("ToPort")
            else f"{perm.get('FromPort')}-{perm.get('ToPort')}"
        )
        cidrs = [r.get("CidrIp") for r in perm.get("IpRanges") or []]
        cidrs += [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges") or []]
        out.extend(f"{proto} {ports} from {c}" for c in cidrs if c in _WORLD)
    return tuple(out)


def _build_gateways(snap: Snapshot) -> dict[str, Any]:
    """The NAT and internet gateways, security groups and log groups of a snapshot."""
    nats: list[NatGateway] = []
    igws: list[InternetGateway] = []
    sgs: list[SecurityGroup] = []
    log_groups: set[tuple[str, str, str]] = set()
    for rd in sorted(snap.regions, key=lambda r: (r.account_id, r.region)):
        acct, region, res = rd.account_id, rd.region, rd.resources
        nats.extend(
            NatGateway(
                acct,
                region,
                str(raw["NatGatewayId"]),
                str(raw.get("VpcId", "")),
                str(raw.get("SubnetId", "")),
                str(raw.get("State", "")),
                str(raw.get("ConnectivityType", "public")),
            )
            for raw in res.get("nat_gateways", [])
        )
        igws.extend(
            InternetGateway(
                acct,
                region,
                str(raw["InternetGatewayId"]),
                tuple(
                    str(a["VpcId"])
                    for a in raw.get("Attachments") or []
                    if a.get("State") in ("available", "attached", "attaching")
                ),
            )
            for raw in res.get("internet_gateways", [])
        )
        sgs.extend(
            SecurityGroup(
                acct,
                region,
                str(raw["GroupId"]),
                str(raw.get("VpcId", "")),
                str(raw.get("GroupName", "")),
                _open_ingress(raw),
            )
            for raw in res.get("security_groups", [])
        )
        log_groups.update(
            (acct, region, str(raw["logGroupName"])) for raw in res.get("log_groups", [])
        )
    return {
        "nat_gateways": tuple(nats),
        "internet_gateways": tuple(igws),
        "security_groups": tuple(sgs),
        "log_groups": frozenset(log_groups),
    }


def _peering(pid: str, raw: RawItem, seen: list[Located]) -> Peering:
    status = raw.get("Status") or {}
    return Peering(
        peering_id=pid,
        status=str(status.get("Code", "")),
        status_message=str(status.get("Message", "")),
        requester=_peering_side(raw.get("RequesterVpcInfo")),
        accepter=_peering_side(raw.get("AccepterVpcInfo")),
        expiration_time=parse_time(raw.get("ExpirationTime")),
        seen_in=tuple(sorted(set(seen), key=lambda loc: (loc.account_id, loc.region))),
        tags=_tags(raw),
    )
