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
) -> RawItem:
    """A raw IpPermission: protocol ("-1" for all, ports then omitted), port range and sources."""
    raw: RawItem = {
        "IpProtocol": protocol,
        "IpRanges": [{"CidrIp": c, "Description": ""} for c in cidrs],
        "Ipv6Ranges": [{"CidrIpv6": c, "Description": ""} for c in ipv6],
        "PrefixListIds": [],
        "UserIdGroupPairs": [{"GroupId": g, "UserId": ACCOUNT} for g in groups],
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
    ) -> SnapshotBuilder:
        """A raw Subnet; az is the zone letter (or a full zone name)."""
        zone = az if len(az) > 1 else f"{region}{az}"
        self._add(
            account,
            region,
            "subnets",
            {
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
            },
        )
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
    ) -> SnapshotBuilder:
        """A raw RouteTable: local routes for the VPC's known CIDRs, then `routes`."""
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
    ) -> SnapshotBuilder:
        """A raw VpcEndpoint; a bare service (s3, sqs) means com.amazonaws.<region>.<service>.

        policy: the PolicyDocument, as AWS returns it (a JSON string; a mapping is serialised,
        None leaves it out). It defaults to the full-access policy AWS attaches.
        private_dns: PrivateDnsEnabled (default: on for an interface endpoint, off otherwise).
        groups: the security group ids of an interface endpoint (default: sg-0default).
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
            "NetworkInterfaceIds": [f"eni-{endpoint_id}-{s}" for s in subnets],
            "DnsEntries": [],
            "CreationTimestamp": hours_from_now(-24 * 30),
            "OwnerId": account,
            "Tags": [],
        }
        if policy is not None:
            raw["PolicyDocument"] = policy if isinstance(policy, str) else json.dumps(policy)
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
    ) -> SnapshotBuilder:
        """A raw NatGateway; a failed one carries FailureCode/Message, a deleted one DeleteTime."""
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
                    "PrivateIp": "10.0.0.10",
                    "IsPrimary": True,
                    "Status": "succeeded",
                    **({"PublicIp": "203.0.113.10"} if connectivity == "public" else {}),
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
    ) -> SnapshotBuilder:
        """A raw SecurityGroup with the given ingress permissions (see `permission`)."""
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
                "IpPermissionsEgress": [permission("-1", cidrs=["0.0.0.0/0"])],
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
    ) -> SnapshotBuilder:
        """A raw TransitGatewayAttachment of a VPC."""
        self._add(
            account,
            region,
            "tgw_attachments",
            {
                "TransitGatewayAttachmentId": attachment_id,
                "TransitGatewayId": transit_gateway_id,
                "TransitGatewayOwnerId": account,
                "ResourceOwnerId": account,
                "ResourceType": "vpc",
                "ResourceId": vpc_id,
                "State": state,
                "CreationTime": hours_from_now(-24 * 10),
                "Tags": [],
            },
        )
        return self

    def prefix_list(
        self, prefix_list_id: str, name: str, *, account: str = ACCOUNT, region: str = REGION
    ) -> SnapshotBuilder:
        """A raw ManagedPrefixList (AWS-managed, as for a gateway endpoint's service)."""
        self._add(
            account,
            region,
            "prefix_lists",
            {
                "PrefixListId": prefix_list_id,
                "PrefixListName": name,
                "AddressFamily": "IPv4",
                "State": "create-complete",
                "MaxEntries": 0,
                "OwnerId": "AWS",
                "PrefixListArn": f"arn:aws:ec2:{region}:aws:prefix-list/{prefix_list_id}",
                "Tags": [],
            },
        )
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
