"""Build small raw snapshots for rule tests, in the shapes boto3's EC2 Describe calls return.

Every item is a plain dict shaped like the botocore EC2 model (`Vpcs`, `Subnets`, `RouteTables`,
`VpcPeeringConnections`, ...), stored under the resource kind the collector uses, so a test
exercises exactly the path a real scan does: raw snapshot -> Inventory -> rules.

    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a")
        .route_table("rtb-a", "vpc-a", subnets=["subnet-a1"],
                     routes=[route("10.1.0.0/16", "pcx-1")])
        .build()
    )

Any (account, region) that gets an item, or is named with `.scan()`, counts as scanned and has
every resource kind present (empty when nothing was added), as the collector writes it; a
`.gap()` on an operation removes that kind, as a failed call leaves it out.

The network model's resources are built the same way:

    (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=["2600:1f18:a::/56"])
        .subnet("subnet-a1", "vpc-a", ipv6=["2600:1f18:a:1::/64"])
        .network_acl("acl-a", "vpc-a", subnets=["subnet-a1"], entries=open_nacl_entries())
        .network_interface("eni-a", "subnet-a1", private_ip="10.0.1.10", instance_id="i-a")
        .transit_gateway("tgw-0hub", association_default_rt="tgw-rtb-main")
        .tgw_attachment("tgw-attach-a", "vpc-a", subnets=["subnet-a1"])
        .tgw_route_table("tgw-rtb-main", "tgw-0hub", associations=["tgw-attach-a"],
                         routes=[tgw_route("10.0.0.0/16", ["tgw-attach-a"])])
    )

Transit Gateway route-table reads (SearchTransitGatewayRoutes and the association and
propagation lists) are stored one item per route/attachment, stamped with the
TransitGatewayRouteTableId, as the collector stores them; the attachments they name get their
ResourceId/ResourceType at build time from the attachments added to the builder.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpcaudit.evaluate import Evaluation, evaluate
from vpcaudit.inventory import KIND_OPERATIONS, Inventory
from vpcaudit.model import Gap
from vpcaudit.policy import Policy, RuleSettings
from vpcaudit.rules.base import Rule
from vpcaudit.snapshot import RawItem, RegionData, Snapshot

ACCOUNT = "111111111111"
"""The default scanned account."""
OTHER_ACCOUNT = "222222222222"
"""A second account of the same Organization."""
EXTERNAL_ACCOUNT = "999999999999"
"""An account outside the Organization."""
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
"""When every built snapshot finished: rules measure time from here."""

FIXTURES = Path(__file__).parent / "fixtures"

_OPERATION_KIND = {op: kind for kind, op in KIND_OPERATIONS.items()}

# The per-TGW-route-table reads, one item per route or attachment, stamped with the table id.
_TGW_TABLE_KINDS = ("tgw_routes", "tgw_associations", "tgw_propagations")

# Route target id prefix -> the Route member that carries it (botocore's Route shape).
_TARGET_KEYS = (
    ("pcx-", "VpcPeeringConnectionId"),
    ("nat-", "NatGatewayId"),
    ("tgw-", "TransitGatewayId"),
    ("eni-", "NetworkInterfaceId"),
    ("i-", "InstanceId"),
    ("eigw-", "EgressOnlyInternetGatewayId"),
    ("cagw-", "CarrierGatewayId"),
    ("lgw-", "LocalGatewayId"),
    ("arn:", "CoreNetworkArn"),
)


def iso(when: dt.datetime) -> str:
    """An aware datetime as the ISO 8601 'Z' text a snapshot stores."""
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def hours_from_now(hours: float) -> str:
    """The snapshot timestamp `hours` after NOW (negative: before)."""
    return iso(NOW + dt.timedelta(hours=hours))


def route(
    destination: str, target: str, *, state: str = "active", origin: str = "CreateRoute"
) -> RawItem:
    """A raw Route: the destination key and target key are chosen from the values' forms.

    destination: an IPv4 or IPv6 CIDR, or a prefix-list id (pl-...).
    target: local, igw-/vgw-/vpce- (GatewayId), pcx-, nat-, tgw-, eni-, i-, eigw-, ... ids.
    """
    raw: RawItem = {"Origin": origin, "State": state}
    if destination.startswith("pl-"):
        raw["DestinationPrefixListId"] = destination
    elif ":" in destination:
        raw["DestinationIpv6CidrBlock"] = destination
    else:
        raw["DestinationCidrBlock"] = destination
    key = next((k for prefix, k in _TARGET_KEYS if target.startswith(prefix)), "GatewayId")
    raw[key] = target
    return raw


def tags(name: str | None) -> list[dict[str, str]]:
    """A Tags list with a Name tag (empty for None)."""
    return [] if name is None else [{"Key": "Name", "Value": name}]


FULL_ACCESS_POLICY = json.dumps(
    {
        "Version": "2008-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    },
    separators=(",", ":"),
)
"""The policy AWS attaches to an endpoint created without one."""


def permission(
    protocol: str = "tcp",
    port: int | None = 443,
    to_port: int | None = None,
    *,
    cidrs: Sequence[str] = (),
    ipv6: Sequence[str] = (),
    groups: Sequence[str] = (),
    prefix_lists: Sequence[str] = (),
    peering_status: str | None = None,
    group_vpc: str | None = None,
) -> RawItem:
    """A raw IpPermission: protocol ("-1" for all, ports then omitted), port range and sources.

    groups: "sg-x" (a group of ACCOUNT) or "account/sg-x" (UserId account).
    peering_status / group_vpc: PeeringStatus and VpcId of every group pair, as AWS gives them
    for a group referenced across a VPC peering (None leaves them out).
    """
    pairs: list[RawItem] = []
    for g in groups:
        owner, _, gid = g.rpartition("/")
        pair: RawItem = {"GroupId": gid, "UserId": owner or ACCOUNT}
        if group_vpc is not None:
            pair["VpcId"] = group_vpc
        if peering_status is not None:
            pair["PeeringStatus"] = peering_status
        pairs.append(pair)
    raw: RawItem = {
        "IpProtocol": protocol,
        "IpRanges": [{"CidrIp": c, "Description": ""} for c in cidrs],
        "Ipv6Ranges": [{"CidrIpv6": c, "Description": ""} for c in ipv6],
        "PrefixListIds": [{"PrefixListId": p, "Description": ""} for p in prefix_lists],
        "UserIdGroupPairs": pairs,
    }
    if protocol != "-1" and port is not None:
        raw["FromPort"] = port
        raw["ToPort"] = port if to_port is None else to_port
    return raw


def log_group_arn(name: str, *, account: str = ACCOUNT, region: str = REGION) -> str:
    """A log group's ARN as DescribeLogGroups' arn member gives it (ending in ":*"; a flow
    log's LogDestination names the group without that suffix)."""
    return f"arn:{_partition(region)}:logs:{region}:{account}:log-group:{name}:*"


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws"


def nacl_entry(
    rule_number: int,
    action: str = "allow",
    *,
    egress: bool = False,
    protocol: str = "-1",
    cidr: str = "0.0.0.0/0",
    ports: tuple[int, int] | None = None,
    icmp: tuple[int, int] | None = None,
) -> RawItem:
    """A raw NetworkAclEntry.

    protocol as AWS gives it: "-1" (all), "6" (tcp), "17" (udp), "1" (icmp), "58" (icmpv6).
    cidr: an IPv4 (CidrBlock) or IPv6 (Ipv6CidrBlock) CIDR. ports: (from, to), the PortRange;
    icmp: (type, code), the IcmpTypeCode (-1 for all).
    """
    raw: RawItem = {
        "Egress": egress,
        "Protocol": protocol,
        "RuleAction": action,
        "RuleNumber": rule_number,
    }
    raw["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
    if ports is not None:
        raw["PortRange"] = {"From": ports[0], "To": ports[1]}
    if icmp is not None:
        raw["IcmpTypeCode"] = {"Type": icmp[0], "Code": icmp[1]}
    return raw


def open_nacl_entries(*, ipv6: bool = True) -> list[RawItem]:
    """The allow-all entries of a default network ACL: rule 100 (0.0.0.0/0) and, with ipv6,
    rule 101 (::/0), inbound and outbound. The final "*" deny entries are added by
    `SnapshotBuilder.network_acl`."""
    out = [nacl_entry(100, egress=e) for e in (False, True)]
    if ipv6:
        out += [nacl_entry(101, egress=e, cidr="::/0") for e in (False, True)]
    return out


def tgw_route(
    destination: str,
    attachments: Sequence[str] = (),
    *,
    route_type: str = "static",
    state: str = "active",
) -> RawItem:
    """A raw TransitGatewayRoute (SearchTransitGatewayRoutes).

    destination: an IPv4/IPv6 CIDR (DestinationCidrBlock) or a prefix-list id (PrefixListId).
    attachments: the attachment ids it sends to (none for a blackhole); each entry's ResourceId
    and ResourceType are filled in at build time from the attachments added to the builder.
    """
    raw: RawItem = {"Type": route_type, "State": state}
    raw["PrefixListId" if destination.startswith("pl-") else "DestinationCidrBlock"] = destination
    if attachments:
        raw["TransitGatewayAttachments"] = [{"TransitGatewayAttachmentId": a} for a in attachments]
    return raw


@dataclass(frozen=True)
class Side:
    """One side of a peering: who owns the VPC, where it is, and its CIDR blocks."""

    account_id: str
    region: str
    vpc_id: str
    cidrs: tuple[str, ...] = ()

    def vpc_info(self, allow_dns: bool | None = False) -> RawItem:
        """The raw VpcPeeringConnectionVpcInfo of this side.

        allow_dns is PeeringOptions.AllowDnsResolutionFromRemoteVpc (AWS's default is off);
        None leaves PeeringOptions out, as AWS does for a side it reports no options for.
        """
        info: RawItem = {"OwnerId": self.account_id, "Region": self.region, "VpcId": self.vpc_id}
        v4 = [c for c in self.cidrs if ":" not in c]
        v6 = [c for c in self.cidrs if ":" in c]
        if v4:
            info["CidrBlock"] = v4[0]
            info["CidrBlockSet"] = [{"CidrBlock": c} for c in v4]
        if v6:
            info["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": c} for c in v6]
        if allow_dns is None:
            return info
        info["PeeringOptions"] = {
            "AllowDnsResolutionFromRemoteVpc": allow_dns,
            "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
            "AllowEgressFromLocalVpcToRemoteClassicLink": False,
        }
        return info


@dataclass
class _Peering:
    raw: RawItem
    sides: tuple[Side, Side]
    seen_from: tuple[tuple[str, str], ...] | None


@dataclass
class SnapshotBuilder:
    """Accumulates raw items per (account, region) and builds a Snapshot."""

    finished_at: dt.datetime = NOW
    org_account_ids: Iterable[str] | None = None
    account_names: dict[str, str] = field(default_factory=dict)
    _items: dict[tuple[str, str], dict[str, list[RawItem]]] = field(default_factory=dict)
    _gaps: list[Gap] = field(default_factory=list)
    _peerings: list[_Peering] = field(default_factory=list)
    _vpc_cidrs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _vpc_where: dict[str, tuple[str, str]] = field(default_factory=dict)
    _subnet_where: dict[str, tuple[str, str]] = field(default_factory=dict)
    """subnet id -> (VPC id, Availability Zone)"""
    _tgw_owners: dict[str, str] = field(default_factory=dict)
    _tgw_resources: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    """(account, region, attachment id) -> (ResourceId, ResourceType) of a TGW attachment"""
    _eni_ips: dict[str, str] = field(default_factory=dict)

    # -- scope ------------------------------------------------------------------------------

    def scan(self, account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
        """Mark a region as read (every kind present, empty unless items are added)."""
        self._items.setdefault((account, region), {kind: [] for kind in KIND_OPERATIONS})
        return self

    def account(self, account_id: str, name: str) -> SnapshotBuilder:
        """Name a scanned account."""
        self.account_names[account_id] = name
        return self

    def gap(
        self,
        operation: str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        code: str = "UnauthorizedOperation",
        message: str = "You are not authorized to perform this operation.",
    ) -> SnapshotBuilder:
        """Record a failed call (DescribeFlowLogs or ec2:DescribeFlowLogs, or "*" for all)."""
        op = operation if operation == "*" or ":" in operation else f"ec2:{operation}"
        if op != "*" and op not in _OPERATION_KIND:
            raise ValueError(f"unknown operation {operation!r}")
        if region != "*":
            self.scan(account, region)
        self._gaps.append(Gap(account, region, op, code, message))
        return self

    def _add(self, account: str, region: str, kind: str, raw: RawItem) -> None:
        self.scan(account, region)
        self._items[(account, region)][kind].append(raw)

    # -- resources --------------------------------------------------------------------------

    def vpc(
        self,
        vpc_id: str,
        cidr: str = "10.0.0.0/16",
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        owner: str | None = None,
        secondary: Sequence[str] = (),
        ipv6: Sequence[str] = (),
        disassociated: Sequence[str] = (),
        is_default: bool = False,
        name: str | None = None,
        extra_tags: Mapping[str, str] | None = None,
    ) -> SnapshotBuilder:
        """A raw Vpc with its CIDR block associations (primary first)."""
        assoc = [
            {
                "AssociationId": f"vpc-cidr-assoc-{vpc_id}-{i}",
                "CidrBlock": c,
                "CidrBlockState": {"State": "associated"},
            }
            for i, c in enumerate([cidr, *secondary])
        ]
        assoc += [
            {
                "AssociationId": f"vpc-cidr-assoc-{vpc_id}-old{i}",
                "CidrBlock": c,
                "CidrBlockState": {"State": "disassociated"},
            }
            for i, c in enumerate(disassociated)
        ]
        raw: RawItem = {
            "VpcId": vpc_id,
            "OwnerId": owner or account,
            "CidrBlock": cidr,
            "CidrBlockAssociationSet": assoc,
            "IsDefault": is_default,
            "State": "available",
            "InstanceTenancy": "default",
            "DhcpOptionsId": "dopt-0default",
            "Tags": [*tags(name), *({"Key": k, "Value": v} for k, v in (extra_tags or {}).items())],
        }
        if ipv6:
            raw["Ipv6CidrBlockAssociationSet"] = [
                {
                    "AssociationId": f"vpc-cidr-assoc-{vpc_id}-v6{i}",
                    "Ipv6CidrBlock": c,
                    "Ipv6CidrBlockState": {"State": "associated"},
                    "NetworkBorderGroup": region,
                    "Ipv6Pool": "Amazon",
                }
                for i, c in enumerate(ipv6)
            ]
        self._vpc_cidrs.setdefault(vpc_id, (cidr, *secondary, *ipv6))
        self._vpc_where.setdefault(vpc_id, (owner or account, region))
        self._add(account, region, "vpcs", raw)
        return self

    def subnet(
        self,
        subnet_id: str,
        vpc_id: str,
        cidr: str = "10.0.1.0/24",
        *,
        az: str = "a",
        account: str = ACCOUNT,
        region: str = REGION,
        owner: str | None = None,
        ipv6: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> SnapshotBuilder:
        """A raw Subnet; az is the zone letter (or a full zone name).

        ipv6: the subnet's IPv6 CIDR blocks (Ipv6CidrBlockAssociationSet, state associated).
        tags: the subnet's Tags (default: none, and no Tags key, as in the fixtures so far).
        """
        zone = az if len(az) > 1 else f"{region}{az}"
        raw: RawItem = {
            "SubnetId": subnet_id,
            "VpcId": vpc_id,
            "OwnerId": owner or account,
            "CidrBlock": cidr,
            "AvailabilityZone": zone,
            "AvailabilityZoneId": f"use1-az{ord(zone[-1]) - ord('a') + 1}",
            "State": "available",
            "AvailableIpAddressCount": 251,
            "DefaultForAz": False,
            "MapPublicIpOnLaunch": False,
        }
        if tags:
            raw["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        if ipv6:
            raw["AssignIpv6AddressOnCreation"] = False
            raw["Ipv6CidrBlockAssociationSet"] = [
                {
                    "AssociationId": f"subnet-cidr-assoc-{subnet_id}-{i}",
                    "Ipv6CidrBlock": c,
                    "Ipv6CidrBlockState": {"State": "associated"},
                    "Ipv6AddressAttribute": "public",
                    "IpSource": "amazon",
                }
                for i, c in enumerate(ipv6)
            ]
        self._subnet_where.setdefault(subnet_id, (vpc_id, zone))
        self._add(account, region, "subnets", raw)
        return self

    def route_table(
        self,
        route_table_id: str,
        vpc_id: str,
        *,
        subnets: Sequence[str] = (),
        main: bool = False,
        routes: Sequence[RawItem] = (),
        disassociated_subnets: Sequence[str] = (),
        account: str = ACCOUNT,
        region: str = REGION,
        owner: str | None = None,
        gateways: Sequence[str] = (),
    ) -> SnapshotBuilder:
        """A raw RouteTable: local routes for the VPC's known CIDRs (IPv4 and IPv6), then
        `routes`.

        gateways: igw-/vgw- ids associated with the table as an edge (ingress) route table.
        """
        assocs: list[RawItem] = []
        if main:
            assocs.append(
                {
                    "Main": True,
                    "RouteTableAssociationId": f"rtbassoc-{route_table_id}-main",
                    "RouteTableId": route_table_id,
                    "AssociationState": {"State": "associated"},
                }
            )
        for s in subnets:
            assocs.append(
                {
                    "Main": False,
                    "RouteTableAssociationId": f"rtbassoc-{route_table_id}-{s}",
                    "RouteTableId": route_table_id,
                    "SubnetId": s,
                    "AssociationState": {"State": "associated"},
                }
            )
        for g in gateways:
            assocs.append(
                {
                    "Main": False,
                    "RouteTableAssociationId": f"rtbassoc-{route_table_id}-{g}",
                    "RouteTableId": route_table_id,
                    "GatewayId": g,
                    "AssociationState": {"State": "associated"},
                }
            )
        for s in disassociated_subnets:
            assocs.append(
                {
                    "Main": False,
                    "RouteTableAssociationId": f"rtbassoc-{route_table_id}-{s}-old",
                    "RouteTableId": route_table_id,
                    "SubnetId": s,
                    "AssociationState": {"State": "disassociated"},
                }
            )
        local = [
            route(c, "local", origin="CreateRouteTable") for c in self._vpc_cidrs.get(vpc_id, ())
        ]
        self._add(
            account,
            region,
            "route_tables",
            {
                "RouteTableId": route_table_id,
                "VpcId": vpc_id,
                "OwnerId": owner or account,
                "Associations": assocs,
                "PropagatingVgws": [],
                "Routes": [*local, *routes],
                "Tags": [],
            },
        )
        return self

    def side(self, vpc_id: str) -> Side:
        """The peering side of a VPC already added to this builder."""
        account, region = self._vpc_where[vpc_id]
        return Side(account, region, vpc_id, self._vpc_cidrs[vpc_id])

    def peering(
        self,
        peering_id: str,
        requester: Side | str,
        accepter: Side | str,
        *,
        status: str = "active",
        expires: str | None = None,
        seen_from: Sequence[tuple[str, str]] | None = None,
        name: str | None = None,
        requester_dns: bool | None = False,
        accepter_dns: bool | None = False,
    ) -> SnapshotBuilder:
        """A raw VpcPeeringConnection, listed in each side's region that is scanned.

        requester_dns / accepter_dns: each side's PeeringOptions.AllowDnsResolutionFromRemoteVpc
        (None: no PeeringOptions on that side).

        A side given as a VPC id is looked up among the VPCs already added. The connection is
        placed, at build time, in every side's (account, region) that was scanned (the
        requester's when neither was), unless seen_from names where it was read.
        """
        req = self.side(requester) if isinstance(requester, str) else requester
        acc = self.side(accepter) if isinstance(accepter, str) else accepter
        raw: RawItem = {
            "VpcPeeringConnectionId": peering_id,
            "RequesterVpcInfo": req.vpc_info(requester_dns),
            "AccepterVpcInfo": acc.vpc_info(accepter_dns)
            if status != "pending-acceptance"
            # While pending, AWS reports only who and where the accepter is.
            else {"OwnerId": acc.account_id, "Region": acc.region, "VpcId": acc.vpc_id},
            "Status": {"Code": status, "Message": _STATUS_MESSAGES.get(status, status)},
            "Tags": tags(name),
        }
        if expires is not None:
            raw["ExpirationTime"] = expires
        self._peerings.append(
            _Peering(raw, (req, acc), None if seen_from is None else tuple(seen_from))
        )
        return self

    def endpoint(
        self,
        endpoint_id: str,
        vpc_id: str,
        service: str,
        *,
        endpoint_type: str = "Interface",
        state: str = "available",
        subnets: Sequence[str] = (),
        route_tables: Sequence[str] = (),
        policy: str | Mapping[str, Any] | None = FULL_ACCESS_POLICY,
        private_dns: bool | None = None,
        groups: Sequence[str] | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
        network_interfaces: Sequence[str] | None = None,
        dns_options: Mapping[str, Any] | None = None,
    ) -> SnapshotBuilder:
        """A raw VpcEndpoint; a bare service (s3, sqs) means com.amazonaws.<region>.<service>.

        policy: the PolicyDocument, as AWS returns it (a JSON string; a mapping is serialised,
        None leaves it out). It defaults to the full-access policy AWS attaches.
        private_dns: PrivateDnsEnabled (default: on for an interface endpoint, off otherwise).
        groups: the security group ids of an interface endpoint (default: sg-0default).
        network_interfaces: NetworkInterfaceIds (default: eni-<endpoint>-<subnet> per subnet).
        dns_options: DnsOptions as AWS returns it, e.g. {"DnsRecordIpType": "ipv4",
        "PrivateDnsOnlyForInboundResolverEndpoint": True} (default: absent, as AWS omits it).
        """
        name = service if "." in service else f"com.amazonaws.{region}.{service}"
        interface = endpoint_type == "Interface"
        if groups is None:
            groups = ["sg-0default"] if interface else []
        raw: RawItem = {
            "VpcEndpointId": endpoint_id,
            "VpcEndpointType": endpoint_type,
            "VpcId": vpc_id,
            "ServiceName": name,
            "State": state,
            "RouteTableIds": list(route_tables),
            "SubnetIds": list(subnets),
            "Groups": [
                {"GroupId": g, "GroupName": "default" if g == "sg-0default" else g} for g in groups
            ],
            "PrivateDnsEnabled": interface if private_dns is None else private_dns,
            "RequesterManaged": False,
            "NetworkInterfaceIds": [f"eni-{endpoint_id}-{s}" for s in subnets]
            if network_interfaces is None
            else list(network_interfaces),
            "DnsEntries": [],
            "CreationTimestamp": hours_from_now(-24 * 30),
            "OwnerId": account,
            "Tags": [],
        }
        if policy is not None:
            raw["PolicyDocument"] = policy if isinstance(policy, str) else json.dumps(policy)
        if dns_options is not None:
            raw["DnsOptions"] = dict(dns_options)
        self._add(account, region, "endpoints", raw)
        return self

    def flow_log(
        self,
        flow_log_id: str,
        resource_id: str,
        *,
        status: str = "ACTIVE",
        deliver_status: str = "SUCCESS",
        traffic_type: str = "ALL",
        destination_type: str = "s3",
        deliver_error: str | None = None,
        log_group: str | None = None,
        destination: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw FlowLog on a VPC, subnet or network interface.

        deliver_error: DeliverLogsErrorMessage (AWS sets it when DeliverLogsStatus is FAILED).
        log_group: for a cloud-watch-logs destination, its LogGroupName (default
        /vpc/<resource>); LogDestination is then that group's ARN in this account and region.
        destination: LogDestination as given ("" leaves it out, as older flow logs to
        CloudWatch Logs report only LogGroupName).
        """
        raw: RawItem = {
            "FlowLogId": flow_log_id,
            "ResourceId": resource_id,
            "FlowLogStatus": status,
            "DeliverLogsStatus": deliver_status,
            "TrafficType": traffic_type,
            "LogDestinationType": destination_type,
            "LogFormat": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr}",
            "MaxAggregationInterval": 600,
            "CreationTime": hours_from_now(-24 * 90),
            "Tags": [],
        }
        if deliver_error is not None:
            raw["DeliverLogsErrorMessage"] = deliver_error
        if destination_type == "cloud-watch-logs":
            group = log_group or f"/vpc/{resource_id}"
            raw["LogGroupName"] = group
            raw["LogDestination"] = log_group_arn(group, account=account, region=region)[:-2]
            raw["DeliverLogsPermissionArn"] = f"arn:aws:iam::{account}:role/flow-logs-delivery"
        else:
            raw["LogDestination"] = f"arn:aws:s3:::flow-logs-{account}/{resource_id}/"
        if destination == "":
            raw.pop("LogDestination")
        elif destination is not None:
            raw["LogDestination"] = destination
        self._add(account, region, "flow_logs", raw)
        return self

    def log_group(
        self,
        name: str,
        *,
        retention_days: int | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw CloudWatch Logs LogGroup (logs:DescribeLogGroups, camelCase members)."""
        arn = log_group_arn(name, account=account, region=region)
        raw: RawItem = {
            "logGroupName": name,
            "creationTime": int((NOW - dt.timedelta(days=90)).timestamp() * 1000),
            "metricFilterCount": 0,
            "arn": arn,
            "logGroupArn": arn.removesuffix(":*"),
            "storedBytes": 1024,
            "logGroupClass": "STANDARD",
        }
        if retention_days is not None:
            raw["retentionInDays"] = retention_days
        self._add(account, region, "log_groups", raw)
        return self

    def nat_gateway(
        self,
        nat_gateway_id: str,
        vpc_id: str,
        subnet_id: str = "subnet-0public",
        *,
        state: str = "available",
        connectivity: str = "public",
        account: str = ACCOUNT,
        region: str = REGION,
        private_ip: str = "10.0.0.10",
        public_ip: str | None = "203.0.113.10",
    ) -> SnapshotBuilder:
        """A raw NatGateway; a failed one carries FailureCode/Message, a deleted one DeleteTime.

        Its one (primary) address: ENI eni-<nat id>, private_ip and, for a public NAT gateway,
        public_ip (None: no PublicIp, as a private NAT gateway has none).
        """
        raw: RawItem = {
            "NatGatewayId": nat_gateway_id,
            "VpcId": vpc_id,
            "SubnetId": subnet_id,
            "State": state,
            "ConnectivityType": connectivity,
            "CreateTime": hours_from_now(-24 * 60),
            "NatGatewayAddresses": [
                {
                    "AllocationId": f"eipalloc-{nat_gateway_id}",
                    "NetworkInterfaceId": f"eni-{nat_gateway_id}",
                    "PrivateIp": private_ip,
                    "IsPrimary": True,
                    "Status": "succeeded",
                    **(
                        {"PublicIp": public_ip}
                        if connectivity == "public" and public_ip is not None
                        else {}
                    ),
                }
            ],
            "Tags": [],
        }
        if state in ("deleted", "deleting"):
            raw["DeleteTime"] = hours_from_now(-24)
        if state == "failed":
            raw["FailureCode"] = "Gateway.NotAttached"
            raw["FailureMessage"] = f"Network {vpc_id} has no Internet gateway attached"
        self._add(account, region, "nat_gateways", raw)
        return self

    def internet_gateway(
        self,
        gateway_id: str,
        vpc_id: str | None = None,
        *,
        state: str = "available",
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw InternetGateway, attached to vpc_id (AWS reports the state "available")."""
        self._add(
            account,
            region,
            "internet_gateways",
            {
                "InternetGatewayId": gateway_id,
                "OwnerId": account,
                "Attachments": [] if vpc_id is None else [{"State": state, "VpcId": vpc_id}],
                "Tags": [],
            },
        )
        return self

    def security_group(
        self,
        group_id: str,
        vpc_id: str,
        *,
        ingress: Sequence[RawItem] = (),
        name: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
        egress: Sequence[RawItem] | None = None,
    ) -> SnapshotBuilder:
        """A raw SecurityGroup with the given ingress and egress permissions (see `permission`).

        egress None: AWS's default outbound rule, all traffic to 0.0.0.0/0, and to ::/0 too
        when the VPC (added earlier) has an IPv6 block, as AWS adds for a group created in an
        IPv6 VPC. () means no egress rule at all.
        """
        if egress is None:
            v6 = ["::/0"] if self._has_ipv6(vpc_id) else []
            egress = [permission("-1", cidrs=["0.0.0.0/0"], ipv6=v6)]
        self._add(
            account,
            region,
            "security_groups",
            {
                "GroupId": group_id,
                "GroupName": name or group_id,
                "Description": f"{name or group_id} security group",
                "OwnerId": account,
                "VpcId": vpc_id,
                "SecurityGroupArn": f"arn:aws:ec2:{region}:{account}:security-group/{group_id}",
                "IpPermissions": list(ingress),
                "IpPermissionsEgress": list(egress),
                "Tags": [],
            },
        )
        return self

    def vpn_gateway(
        self,
        gateway_id: str,
        vpc_id: str,
        *,
        attachment_state: str = "attached",
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw VpnGateway attached to a VPC."""
        self._add(
            account,
            region,
            "vpn_gateways",
            {
                "VpnGatewayId": gateway_id,
                "State": "available",
                "Type": "ipsec.1",
                "AmazonSideAsn": 64512,
                "VpcAttachments": [{"VpcId": vpc_id, "State": attachment_state}],
                "Tags": [],
            },
        )
        return self

    def tgw_attachment(
        self,
        attachment_id: str,
        vpc_id: str,
        *,
        transit_gateway_id: str = "tgw-0hub",
        state: str = "available",
        account: str = ACCOUNT,
        region: str = REGION,
        resource_type: str = "vpc",
        resource_id: str | None = None,
        subnets: Sequence[str] = (),
        appliance_mode: bool = False,
        tgw_owner: str | None = None,
        association: str | None = None,
        resource_owner: str | None = None,
    ) -> SnapshotBuilder:
        """A raw TransitGatewayAttachment (DescribeTransitGatewayAttachments) of a resource.

        resource_type: vpc, vpn, direct-connect-gateway, connect, peering, tgw-peering, ...;
        resource_id defaults to vpc_id. A "vpc" attachment also gets its
        TransitGatewayVpcAttachment (SubnetIds, Options.ApplianceModeSupport, VpcOwnerId).
        tgw_owner: TransitGatewayOwnerId (default: the owner given to `transit_gateway`, else
        account). resource_owner: ResourceOwnerId (default: account).
        association: the TGW route table in the item's Association field (state associated);
        None leaves Association out.
        """
        rid = vpc_id if resource_id is None else resource_id
        owner = tgw_owner or self._tgw_owners.get(transit_gateway_id, account)
        raw: RawItem = {
            "TransitGatewayAttachmentId": attachment_id,
            "TransitGatewayId": transit_gateway_id,
            "TransitGatewayOwnerId": owner,
            "ResourceOwnerId": resource_owner or account,
            "ResourceType": resource_type,
            "ResourceId": rid,
            "State": state,
            "CreationTime": hours_from_now(-24 * 10),
            "Tags": [],
        }
        if association is not None:
            raw["Association"] = {"TransitGatewayRouteTableId": association, "State": "associated"}
        self._tgw_resources[(account, region, attachment_id)] = (rid, resource_type)
        self._add(account, region, "tgw_attachments", raw)
        if resource_type == "vpc":
            self._add(
                account,
                region,
                "tgw_vpc_attachments",
                {
                    "TransitGatewayAttachmentId": attachment_id,
                    "TransitGatewayId": transit_gateway_id,
                    "VpcId": rid,
                    "VpcOwnerId": resource_owner or account,
                    "State": state,
                    "SubnetIds": list(subnets),
                    "CreationTime": hours_from_now(-24 * 10),
                    "Options": {
                        "DnsSupport": "enable",
                        "SecurityGroupReferencingSupport": "disable",
                        "Ipv6Support": "enable" if self._has_ipv6(rid) else "disable",
                        "ApplianceModeSupport": "enable" if appliance_mode else "disable",
                    },
                    "Tags": [],
                },
            )
        return self

    def prefix_list(
        self,
        prefix_list_id: str,
        name: str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        owner: str = "AWS",
        entries: Sequence[str] = (),
    ) -> SnapshotBuilder:
        """A raw ManagedPrefixList: AWS-managed (owner "AWS", as for a gateway endpoint's
        service) or customer-managed (owner an account id).

        entries: the CIDRs, added as prefix_list_entries items (GetManagedPrefixListEntries'
        {Cidr, Description} stamped with the PrefixListId, as the collector stores them);
        the inventory expands customer-managed lists only.
        """
        aws = owner == "AWS"
        raw: RawItem = {
            "PrefixListId": prefix_list_id,
            "PrefixListName": name,
            "AddressFamily": "IPv6" if entries and all(":" in e for e in entries) else "IPv4",
            "State": "create-complete",
            "MaxEntries": 0 if aws else max(len(entries), 10),
            "OwnerId": owner,
            "PrefixListArn": f"arn:aws:ec2:{region}:{'aws' if aws else owner}:prefix-list/"
            f"{prefix_list_id}",
            "Tags": [],
        }
        if not aws:
            raw["Version"] = 1
        self._add(account, region, "prefix_lists", raw)
        for cidr in entries:
            self._add(
                account,
                region,
                "prefix_list_entries",
                {"Cidr": cidr, "Description": "", "PrefixListId": prefix_list_id},
            )
        return self

    # -- network model ----------------------------------------------------------------------

    def _has_ipv6(self, vpc_id: str) -> bool:
        return any(":" in c for c in self._vpc_cidrs.get(vpc_id, ()))

    def network_acl(
        self,
        nacl_id: str,
        vpc_id: str,
        *,
        subnets: Sequence[str] = (),
        entries: Sequence[RawItem] = (),
        default: bool = False,
        account: str = ACCOUNT,
        region: str = REGION,
        owner: str | None = None,
    ) -> SnapshotBuilder:
        """A raw NetworkAcl: `entries` (see `nacl_entry`, `open_nacl_entries`), then, as AWS
        lists them, the final "*" deny entries (rule 32767, all protocols) inbound and
        outbound for 0.0.0.0/0 and, when the VPC (added earlier) has IPv6, ::/0."""
        worlds = ["0.0.0.0/0", *(["::/0"] if self._has_ipv6(vpc_id) else [])]
        final = [nacl_entry(32767, "deny", egress=e, cidr=w) for e in (True, False) for w in worlds]
        self._add(
            account,
            region,
            "network_acls",
            {
                "NetworkAclId": nacl_id,
                "VpcId": vpc_id,
                "OwnerId": owner or account,
                "IsDefault": default,
                "Associations": [
                    {
                        "NetworkAclAssociationId": f"aclassoc-{nacl_id}-{s}",
                        "NetworkAclId": nacl_id,
                        "SubnetId": s,
                    }
                    for s in subnets
                ],
                "Entries": [*entries, *final],
                "Tags": [],
            },
        )
        return self

    def network_interface(
        self,
        eni_id: str,
        subnet_id: str,
        *,
        private_ip: str,
        public_ip: str | None = None,
        ipv6: Sequence[str] = (),
        groups: Sequence[str] = ("sg-0default",),
        interface_type: str = "interface",
        instance_id: str | None = None,
        source_dest_check: bool = True,
        description: str = "",
        requester_managed: bool = False,
        vpc_id: str | None = None,
        secondary_ips: Sequence[str] = (),
        status: str = "in-use",
        owner: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw NetworkInterface (DescribeNetworkInterfaces) in a subnet added earlier (its
        VPC and zone come from there; vpc_id names the VPC of a subnet not added, zone "a").

        private_ip is the primary address (public_ip, a public or Elastic IP, is associated
        with it); secondary_ips follow. instance_id attaches it (DeviceIndex 0).
        """
        if subnet_id in self._subnet_where:
            known_vpc, zone = self._subnet_where[subnet_id]
        elif vpc_id is not None:
            known_vpc, zone = vpc_id, f"{region}a"
        else:
            raise ValueError(
                f"network_interface {eni_id}: subnet {subnet_id} was not added to the builder; "
                "add it first or pass vpc_id"
            )
        owner_id = owner or account
        association: RawItem | None = None
        if public_ip is not None:
            association = {
                "IpOwnerId": "amazon",
                "PublicDnsName": f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com",
                "PublicIp": public_ip,
            }
        addresses: list[RawItem] = []
        for i, ip in enumerate([private_ip, *secondary_ips]):
            addr: RawItem = {
                "Primary": i == 0,
                "PrivateDnsName": f"ip-{ip.replace('.', '-')}.ec2.internal",
                "PrivateIpAddress": ip,
            }
            if i == 0 and association is not None:
                addr["Association"] = dict(association)
            addresses.append(addr)
        raw: RawItem = {
            "NetworkInterfaceId": eni_id,
            "SubnetId": subnet_id,
            "VpcId": vpc_id or known_vpc,
            "AvailabilityZone": zone,
            "OwnerId": owner_id,
            "InterfaceType": interface_type,
            "Status": status,
            "Description": description,
            "MacAddress": "0a:00:00:00:00:01",
            "PrivateIpAddress": private_ip,
            "PrivateDnsName": f"ip-{private_ip.replace('.', '-')}.ec2.internal",
            "PrivateIpAddresses": addresses,
            "Ipv6Addresses": [{"Ipv6Address": a, "IsPrimaryIpv6": False} for a in ipv6],
            "Groups": [
                {"GroupId": g, "GroupName": "default" if g == "sg-0default" else g} for g in groups
            ],
            "RequesterManaged": requester_managed,
            "SourceDestCheck": source_dest_check,
            "TagSet": [],
        }
        if association is not None:
            raw["Association"] = association
        if instance_id is not None:
            raw["Attachment"] = {
                "AttachmentId": f"eni-attach-{eni_id}",
                "AttachTime": hours_from_now(-24 * 30),
                "DeleteOnTermination": True,
                "DeviceIndex": 0,
                "NetworkCardIndex": 0,
                "InstanceId": instance_id,
                "InstanceOwnerId": owner_id,
                "Status": "attached",
            }
        if requester_managed:
            raw["RequesterId"] = "amazon-aws"
        self._eni_ips.setdefault(eni_id, private_ip)
        self._add(account, region, "network_interfaces", raw)
        return self

    def transit_gateway(
        self,
        tgw_id: str,
        *,
        default_association: bool = True,
        default_propagation: bool = True,
        association_default_rt: str = "",
        propagation_default_rt: str = "",
        auto_accept_shared: bool = False,
        sg_referencing: bool = False,
        state: str = "available",
        owner: str | None = None,
        name: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw TransitGateway (DescribeTransitGateways) and its Options.

        association_default_rt / propagation_default_rt: the default tables' ids ("" leaves
        them out). owner: OwnerId (a TGW shared into `account` is listed there with its
        owner's id); later attachments of it take it as TransitGatewayOwnerId.
        """

        def flag(on: bool) -> str:
            return "enable" if on else "disable"

        owner_id = owner or account
        options: RawItem = {
            "AmazonSideAsn": 64512,
            "AutoAcceptSharedAttachments": flag(auto_accept_shared),
            "DefaultRouteTableAssociation": flag(default_association),
            "DefaultRouteTablePropagation": flag(default_propagation),
            "VpnEcmpSupport": "enable",
            "DnsSupport": "enable",
            "SecurityGroupReferencingSupport": flag(sg_referencing),
            "MulticastSupport": "disable",
        }
        if association_default_rt:
            options["AssociationDefaultRouteTableId"] = association_default_rt
        if propagation_default_rt:
            options["PropagationDefaultRouteTableId"] = propagation_default_rt
        self._tgw_owners.setdefault(tgw_id, owner_id)
        self._add(
            account,
            region,
            "transit_gateways",
            {
                "TransitGatewayId": tgw_id,
                "TransitGatewayArn": f"arn:{_partition(region)}:ec2:{region}:{owner_id}:"
                f"transit-gateway/{tgw_id}",
                "State": state,
                "OwnerId": owner_id,
                "Description": "",
                "CreationTime": hours_from_now(-24 * 100),
                "Options": options,
                "Tags": tags(name),
            },
        )
        return self

    def tgw_peering(
        self,
        attachment_id: str,
        *,
        requester: tuple[str, str, str],
        accepter: tuple[str, str, str],
        state: str = "available",
        sides: Sequence[str] = ("requester", "accepter"),
    ) -> SnapshotBuilder:
        """A Transit Gateway peering attachment, as each side lists it.

        requester / accepter: (TGW id, account, region). Each side named in `sides` gets a
        tgw_attachments item (ResourceType "peering", its own TGW, the other side's TGW as
        ResourceId) and a tgw_peering_attachments item (RequesterTgwInfo, AccepterTgwInfo),
        under the same attachment id, as AWS lists it on both sides.
        """
        unknown = set(sides) - {"requester", "accepter"}
        if unknown:
            raise ValueError(f"unknown tgw_peering sides {sorted(unknown)}")
        infos = {
            name: {"TransitGatewayId": tgw, "OwnerId": acct, "Region": reg}
            for name, (tgw, acct, reg) in (("requester", requester), ("accepter", accepter))
        }
        peering_raw: RawItem = {
            "TransitGatewayAttachmentId": attachment_id,
            "RequesterTgwInfo": infos["requester"],
            "AccepterTgwInfo": infos["accepter"],
            "Options": {"DynamicRouting": "disable"},
            "Status": {"Code": state, "Message": state},
            "State": state,
            "CreationTime": hours_from_now(-24 * 10),
            "Tags": [],
        }
        ends = {"requester": (requester, accepter), "accepter": (accepter, requester)}
        for name in dict.fromkeys(sides):
            (tgw, acct, reg), (far_tgw, far_acct, _) = ends[name]
            self._tgw_resources[(acct, reg, attachment_id)] = (far_tgw, "peering")
            self._add(
                acct,
                reg,
                "tgw_attachments",
                {
                    "TransitGatewayAttachmentId": attachment_id,
                    "TransitGatewayId": tgw,
                    "TransitGatewayOwnerId": acct,
                    "ResourceOwnerId": far_acct,
                    "ResourceType": "peering",
                    "ResourceId": far_tgw,
                    "State": state,
                    "CreationTime": hours_from_now(-24 * 10),
                    "Tags": [],
                },
            )
            self._add(acct, reg, "tgw_peering_attachments", json.loads(json.dumps(peering_raw)))
        return self

    def tgw_route_table(
        self,
        rt_id: str,
        tgw_id: str,
        *,
        routes: Sequence[RawItem] = (),
        associations: Sequence[str] = (),
        propagations: Sequence[str] = (),
        default_association: bool = False,
        default_propagation: bool = False,
        state: str = "available",
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw TransitGatewayRouteTable with its routes (see `tgw_route`), associated and
        propagating attachment ids: tgw_routes, tgw_associations and tgw_propagations items,
        each stamped with "TransitGatewayRouteTableId" as the collector stores them."""
        self._add(
            account,
            region,
            "tgw_route_tables",
            {
                "TransitGatewayRouteTableId": rt_id,
                "TransitGatewayId": tgw_id,
                "State": state,
                "DefaultAssociationRouteTable": default_association,
                "DefaultPropagationRouteTable": default_propagation,
                "CreationTime": hours_from_now(-24 * 100),
                "Tags": [],
            },
        )
        for r in routes:
            self._add(
                account,
                region,
                "tgw_routes",
                {**json.loads(json.dumps(r)), "TransitGatewayRouteTableId": rt_id},
            )
        for a in associations:
            self._add(
                account,
                region,
                "tgw_associations",
                {
                    "TransitGatewayAttachmentId": a,
                    "State": "associated",
                    "TransitGatewayRouteTableId": rt_id,
                },
            )
        for a in propagations:
            self._add(
                account,
                region,
                "tgw_propagations",
                {
                    "TransitGatewayAttachmentId": a,
                    "State": "enabled",
                    "TransitGatewayRouteTableId": rt_id,
                },
            )
        return self

    def _tgw_resource(self, account: str, region: str, attachment_id: str) -> tuple[str, str]:
        """(ResourceId, ResourceType) of an attachment added to the builder (seen from that
        side first), else ("", "vpc")."""
        found = self._tgw_resources.get((account, region, attachment_id))
        if found is None:
            found = next(
                (v for (_, _, a), v in self._tgw_resources.items() if a == attachment_id),
                ("", "vpc"),
            )
        return found

    def egress_only_igw(
        self,
        gateway_id: str,
        vpc_id: str,
        *,
        state: str = "attached",
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw EgressOnlyInternetGateway attached to a VPC."""
        self._add(
            account,
            region,
            "egress_only_igws",
            {
                "EgressOnlyInternetGatewayId": gateway_id,
                "Attachments": [{"State": state, "VpcId": vpc_id}],
                "Tags": [],
            },
        )
        return self

    def vpn_connection(
        self,
        vpn_id: str,
        *,
        vpn_gateway: str | None = None,
        transit_gateway: str | None = None,
        customer_gateway: str = "cgw-0onprem",
        static_routes: Sequence[str] = (),
        tunnels_up: int = 2,
        state: str = "available",
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw VpnConnection to a virtual private gateway or a Transit Gateway.

        static_routes: on-premises CIDRs (Routes, source Static, state available; the
        connection is then StaticRoutesOnly). VgwTelemetry: two tunnels, the first
        `tunnels_up` UP, the others DOWN.
        """
        raw: RawItem = {
            "VpnConnectionId": vpn_id,
            "State": state,
            "Type": "ipsec.1",
            "Category": "VPN",
            "CustomerGatewayId": customer_gateway,
            "GatewayAssociationState": "associated",
            "Options": {
                "EnableAcceleration": False,
                "StaticRoutesOnly": bool(static_routes),
                "LocalIpv4NetworkCidr": "0.0.0.0/0",
                "RemoteIpv4NetworkCidr": "0.0.0.0/0",
                "OutsideIpAddressType": "PublicIpv4",
                "TunnelInsideIpVersion": "ipv4",
            },
            "Routes": [
                {"DestinationCidrBlock": c, "Source": "Static", "State": "available"}
                for c in static_routes
            ],
            "VgwTelemetry": [
                {
                    "AcceptedRouteCount": 0 if static_routes else 1,
                    "LastStatusChange": hours_from_now(-24),
                    "OutsideIpAddress": f"198.51.100.{i + 1}",
                    "Status": "UP" if i < tunnels_up else "DOWN",
                    "StatusMessage": "" if i < tunnels_up else "IPSEC IS DOWN",
                }
                for i in range(2)
            ],
            "Tags": [],
        }
        if vpn_gateway is not None:
            raw["VpnGatewayId"] = vpn_gateway
        if transit_gateway is not None:
            raw["TransitGatewayId"] = transit_gateway
        self._add(account, region, "vpn_connections", raw)
        return self

    def elastic_ip(
        self,
        allocation_id: str,
        public_ip: str,
        *,
        eni: str | None = None,
        private_ip: str | None = None,
        instance: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> SnapshotBuilder:
        """A raw Address (DescribeAddresses), associated with an ENI and/or instance when
        given; private_ip defaults to the primary IP of an ENI added earlier."""
        raw: RawItem = {
            "AllocationId": allocation_id,
            "PublicIp": public_ip,
            "Domain": "vpc",
            "PublicIpv4Pool": "amazon",
            "NetworkBorderGroup": region,
            "Tags": [],
        }
        if eni is not None or instance is not None:
            raw["AssociationId"] = f"eipassoc-{allocation_id}"
        if instance is not None:
            raw["InstanceId"] = instance
        if eni is not None:
            raw["NetworkInterfaceId"] = eni
            raw["NetworkInterfaceOwnerId"] = account
        ip = private_ip if private_ip is not None else self._eni_ips.get(eni or "")
        if ip is not None and (eni is not None or instance is not None):
            raw["PrivateIpAddress"] = ip
        self._add(account, region, "addresses", raw)
        return self

    # -- output -----------------------------------------------------------------------------

    def build(self) -> Snapshot:
        """The Snapshot: items per scanned region, minus the kinds whose call failed."""
        items = {k: {kind: list(v) for kind, v in res.items()} for k, res in self._items.items()}
        for p in self._peerings:
            where = p.seen_from
            if where is None:
                sides = [(s.account_id, s.region) for s in p.sides]
                where = tuple(dict.fromkeys(w for w in sides if w in items)) or (sides[0],)
            for w in where:
                items.setdefault(w, {kind: [] for kind in KIND_OPERATIONS})
                items[w]["peerings"].append(dict(p.raw))
        for (account, region), res in items.items():
            for kind in _TGW_TABLE_KINDS:
                res[kind] = [self._resolved(account, region, raw) for raw in res[kind]]
        for g in self._gaps:
            if g.operation != "*" and (g.account_id, g.region) in items:
                items[(g.account_id, g.region)].pop(_OPERATION_KIND[g.operation], None)
        accounts = {a: self.account_names.get(a, "") for a, _ in items}
        return Snapshot(
            started_at=iso(self.finished_at - dt.timedelta(minutes=2)),
            finished_at=iso(self.finished_at),
            tool_version="0.1.0",
            accounts=accounts,
            regions=tuple(RegionData(a, r, res) for (a, r), res in sorted(items.items())),
            gaps=tuple(sorted(self._gaps)),
            org_account_ids=None
            if self.org_account_ids is None
            else frozenset(self.org_account_ids),
        )

    def _resolved(self, account: str, region: str, raw: RawItem) -> RawItem:
        """A TGW route-table item with ResourceId/ResourceType on each attachment it names."""

        def fill(a: RawItem) -> RawItem:
            if "ResourceType" in a:
                return dict(a)
            rid, rtype = self._tgw_resource(account, region, str(a["TransitGatewayAttachmentId"]))
            return {**a, "ResourceId": rid, "ResourceType": rtype}

        if "TransitGatewayAttachments" in raw:
            return {
                **raw,
                "TransitGatewayAttachments": [fill(a) for a in raw["TransitGatewayAttachments"]],
            }
        return fill(raw) if "TransitGatewayAttachmentId" in raw else dict(raw)

    def inventory(self) -> Inventory:
        """The typed inventory of the built snapshot."""
        return Inventory.from_snapshot(self.build())


_STATUS_MESSAGES = {
    "active": "Active",
    "pending-acceptance": "Pending Acceptance by 222222222222",
    "deleted": "Deleted by 111111111111",
    "rejected": "Rejected by 222222222222",
    "expired": "Expired",
    "failed": "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range",
    "provisioning": "Provisioning",
}


def load_fixture(name: str) -> Snapshot:
    """Load tests/fixtures/<name> with Snapshot.load."""
    return Snapshot.load(FIXTURES / name)


def write_fixture(snap: Snapshot, path: Path) -> None:
    """Write a snapshot as indented JSON, for a fixture a person can read and edit."""
    text = json.dumps(snap.to_dict(), indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def with_items(snap: Snapshot, transform: Any) -> Snapshot:
    """A copy of snap whose item lists per kind are replaced by transform(list)."""
    return Snapshot(
        started_at=snap.started_at,
        finished_at=snap.finished_at,
        tool_version=snap.tool_version,
        accounts=snap.accounts,
        regions=tuple(
            RegionData(r.account_id, r.region, {k: transform(v) for k, v in r.resources.items()})
            for r in transform(list(snap.regions))
        ),
        gaps=snap.gaps,
        skipped=snap.skipped,
        org_account_ids=snap.org_account_ids,
        extra=snap.extra,
    )


def without_kinds(snap: Snapshot, *kinds: str) -> Snapshot:
    """A copy of snap with the resource kinds left out of every region and no gap for them,
    as a snapshot written before those kinds were collected has them."""
    return Snapshot(
        started_at=snap.started_at,
        finished_at=snap.finished_at,
        tool_version=snap.tool_version,
        accounts=snap.accounts,
        regions=tuple(
            RegionData(
                r.account_id,
                r.region,
                {k: v for k, v in r.resources.items() if k not in kinds},
            )
            for r in snap.regions
        ),
        gaps=snap.gaps,
        skipped=snap.skipped,
        org_account_ids=snap.org_account_ids,
        extra=snap.extra,
    )


def run_rule(
    rule: Rule[Any], snap: Snapshot, policy: Policy | None = None, **params: Any
) -> Evaluation:
    """Evaluate one rule over a snapshot; keyword arguments override its parameters."""
    settings = policy or Policy(rules={rule.id: RuleSettings(params=params)} if params else {})
    return evaluate(Inventory.from_snapshot(snap), {rule.id: rule}, settings)


def unverified_reasons(result: Evaluation) -> list[tuple[str, str]]:
    """(resource id, reason) of each check a rule could not decide."""
    return [(u.item.resource.resource_id, u.item.reason) for u in result.unverified]
