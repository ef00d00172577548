"""Snapshot items that do not have the shape AWS gives them are left out, as coverage gaps.

A snapshot may come from a shared bucket or an account the reader does not control. Each raw
item is checked against the fields the inventory reads (ids, CIDRs, types); one that fails is
quarantined: left out of the inventory, and recorded as a Gap on the operation that reads its
kind, so the scan reads as incomplete, the kind as not read there (rules then say unverifiable
rather than "absent"), and every report lists it with the other gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, NamedTuple, TypeVar

from vpcaudit.inventory.columns import well_formed
from vpcaudit.inventory.ids import (
    ACCOUNT_ID,
    ARN,
    LOG_GROUP_NAME,
    REGION_NAME,
    SERVICE_NAME,
    TOKEN,
    Check,
    aws_id,
    boolean,
    cidr,
    integer,
    ip_address,
    literal,
    one_of,
    shown,
    text,
    timestamp,
)
from vpcaudit.inventory.models import KIND_OPERATIONS
from vpcaudit.model import Gap
from vpcaudit.prefetch import prefetching
from vpcaudit.snapshot import RegionData, Snapshot
from vpcaudit.snapshot_file import StoredItems, watching

T = TypeVar("T")

DEFECT_CODE = "MalformedSnapshotItem"
"""The error code of a quarantined item's gap."""

MAX_DEFECTS_PER_KIND = 10
"""Defects listed one by one per (account, region, kind); the rest are counted in one more."""

Problem = tuple[str, Any, str]
"""(path of the field, its value, what it is not)."""


class _Required:
    """Marks a field the inventory cannot do without (the item's id, its VPC)."""

    __slots__ = ("check",)

    def __init__(self, check: Check) -> None:
        self.check = check


Spec = Mapping[str, "Check | _Required"]
Ordered = tuple[tuple[str, Check, bool, type | None], ...]
"""A spec compiled for speed, as every item goes through it: (key, check, required, and the
type that alone decides the check for free text and booleans, tested inline)."""


def req(check: Check) -> _Required:
    """A field that must be present."""
    return _Required(check)


_INLINE: dict[Check, type] = {text: str, boolean: bool}


class Fields(NamedTuple):
    """A compiled spec: in spec order (to name the first problem), by key (to check fast)."""

    ordered: Ordered
    by_key: dict[str, tuple[Check, bool, type | None]]
    required: tuple[str, ...]


def _compile(spec: Spec) -> Fields:
    out = []
    for key, f in spec.items():
        check, required = (f.check, True) if isinstance(f, _Required) else (f, False)
        out.append((key, check, required, _INLINE.get(check)))
    ordered = tuple(out)
    return Fields(
        ordered,
        {key: (check, req, inline) for key, check, req, inline in ordered},
        tuple(key for key, _, req, _ in ordered if req),
    )


def _problem(fields: Fields, raw: Any) -> Problem | None:
    """The first malformed field of an object, with its path, or None."""
    # Fast path, for the well-formed items that are nearly all of them: look only at the keys
    # the item has (a route has 4 of the 16 a route may have); name a problem the slow way.
    if type(raw) is not dict:
        return ("", raw, "not an object")
    for key in fields.required:
        if key not in raw:
            return _first_problem(fields.ordered, raw)
    by_key = fields.by_key
    for key, value in raw.items():
        spec = by_key.get(key)
        if spec is None:
            continue
        check, required, inline = spec
        if inline is not None and type(value) is inline:
            continue
        if not required and value == "":
            continue
        if check(value) is not None:
            return _first_problem(fields.ordered, raw)
    return None


def _first_problem(fields: Ordered, raw: dict[str, Any]) -> Problem | None:
    """The first malformed field of an object in spec order, with its path."""
    for key, check, required, inline in fields:
        if key not in raw:
            if required:
                return (key, None, "missing")
            continue
        value = raw[key]
        if inline is not None and type(value) is inline:
            continue
        # AWS omits a member it has no value for; an optional id may be "" in older snapshots.
        if not required and value == "":
            continue
        what = check(value)
        if what is not None:
            sub = getattr(check, "problem", None)
            if sub is not None:
                inner: Problem | None = sub(value)
                if inner is not None:
                    path = inner[0]
                    joined = key + (path if path.startswith("[") or not path else "." + path)
                    return (joined, inner[1], inner[2])
            return (key, value, what)
    return None


def obj(spec: Spec) -> Check:
    """A check for a nested object with its own fields."""

    fields = _compile(spec)

    def check(value: Any) -> str | None:
        return None if _problem(fields, value) is None else "malformed"

    check.problem = lambda value: _problem(fields, value)  # type: ignore[attr-defined]
    check.fields = fields  # type: ignore[attr-defined]  # for columns.well_formed
    return check


def list_of(item: Check) -> Check:
    """A check for a list whose every element passes `item`."""

    sub = getattr(item, "problem", None)

    def problem(value: Any) -> Problem | None:
        if type(value) is not list:
            return ("", value, "not a list")
        for i, element in enumerate(value):
            if item(element) is not None:
                inner = sub(element) if sub is not None else None
                if inner is not None:
                    path = inner[0]
                    return (f"[{i}]" + ("." + path if path else ""), inner[1], inner[2])
                return (f"[{i}]", element, item(element) or "malformed")
        return None

    def check(value: Any) -> str | None:
        return None if problem(value) is None else "malformed"

    check.problem = problem  # type: ignore[attr-defined]
    check.item = item  # type: ignore[attr-defined]  # for columns.well_formed
    return check


# -- the values -----------------------------------------------------------------------------

VPC = aws_id("vpc")
SUBNET = aws_id("subnet")
RTB = aws_id("route table")
PCX = aws_id("peering connection")
VPCE = aws_id("VPC endpoint")
TGW = aws_id("Transit Gateway")
TGW_ATTACH = aws_id("Transit Gateway attachment")
TGW_RTB = aws_id("Transit Gateway route table")
SG = aws_id("security group")
ENI = aws_id("network interface")
PL = aws_id("prefix list")
PORT = integer(-1, 65535)
"""Ports, ICMP types and codes (-1 for all), NACL rule numbers (1 to 32766, 32767/32768 *)."""
TAGS = list_of(obj({"Key": req(text), "Value": text}))
# Another account's group: a 12-digit id, or a service's name for legacy ELB groups.
GROUP_OWNER = one_of(ACCOUNT_ID, TOKEN, what="not an account id")
ROUTE_GATEWAY = one_of(
    literal("local"),
    aws_id("internet gateway", "virtual private gateway", "VPC endpoint"),
    what="not local or an internet, virtual private or endpoint gateway id",
)
# A flow log's or an attachment's resource: a VPC, subnet, ENI, TGW, attachment, VPN, or a
# Direct Connect gateway (a UUID): any id in the id alphabet.
ANY_ID = TOKEN
CIDR_ASSOC = obj({"CidrBlock": cidr, "CidrBlockState": obj({"State": text}), "Ipv6CidrBlock": cidr})
IPV6_ASSOC = obj({"Ipv6CidrBlock": cidr, "Ipv6CidrBlockState": obj({"State": text})})

PEERING_SIDE = obj(
    {
        "OwnerId": ACCOUNT_ID,
        "Region": REGION_NAME,
        "VpcId": VPC,
        "CidrBlock": cidr,
        "CidrBlockSet": list_of(obj({"CidrBlock": cidr})),
        "Ipv6CidrBlockSet": list_of(obj({"Ipv6CidrBlock": cidr})),
        "PeeringOptions": obj({"AllowDnsResolutionFromRemoteVpc": boolean}),
    }
)
ROUTE = obj(
    {
        "DestinationCidrBlock": cidr,
        "DestinationIpv6CidrBlock": cidr,
        "DestinationPrefixListId": PL,
        "VpcPeeringConnectionId": PCX,
        "NatGatewayId": aws_id("NAT gateway"),
        "TransitGatewayId": TGW,
        "NetworkInterfaceId": ENI,
        "InstanceId": aws_id("instance"),
        "EgressOnlyInternetGatewayId": aws_id("egress-only internet gateway"),
        "CarrierGatewayId": aws_id("carrier gateway"),
        "LocalGatewayId": aws_id("local gateway"),
        "CoreNetworkArn": ARN,
        "GatewayId": ROUTE_GATEWAY,
        "State": text,
        "Origin": text,
    }
)
SG_PERMISSION = obj(
    {
        "IpProtocol": text,
        "FromPort": PORT,
        "ToPort": PORT,
        "IpRanges": list_of(obj({"CidrIp": cidr})),
        "Ipv6Ranges": list_of(obj({"CidrIpv6": cidr})),
        "PrefixListIds": list_of(obj({"PrefixListId": PL})),
        "UserIdGroupPairs": list_of(
            obj(
                {
                    "GroupId": SG,
                    "UserId": GROUP_OWNER,
                    "VpcId": VPC,
                    "PeeringStatus": text,
                    "VpcPeeringConnectionId": PCX,
                }
            )
        ),
    }
)
ATTACHED_VPC = obj({"VpcId": req(VPC), "State": text})
TGW_TABLE_STAMP = {"TransitGatewayRouteTableId": req(TGW_RTB)}
TGW_INFO = obj({"TransitGatewayId": TGW, "OwnerId": ACCOUNT_ID, "Region": REGION_NAME})

# -- the kinds: every field the inventory reads, with its id first ---------------------------

SHAPES: Mapping[str, Spec] = {
    "vpcs": {
        "VpcId": req(VPC),
        "OwnerId": ACCOUNT_ID,
        "CidrBlock": cidr,
        "CidrBlockAssociationSet": list_of(CIDR_ASSOC),
        "Ipv6CidrBlockAssociationSet": list_of(IPV6_ASSOC),
        "IsDefault": boolean,
        "Tags": TAGS,
    },
    "subnets": {
        "SubnetId": req(SUBNET),
        "VpcId": req(VPC),
        "AvailabilityZone": TOKEN,
        "CidrBlock": cidr,
        "Ipv6CidrBlockAssociationSet": list_of(IPV6_ASSOC),
        "OwnerId": ACCOUNT_ID,
        "Tags": TAGS,
    },
    "route_tables": {
        "RouteTableId": req(RTB),
        "VpcId": req(VPC),
        "OwnerId": ACCOUNT_ID,
        "Associations": list_of(
            obj(
                {
                    "Main": boolean,
                    "SubnetId": SUBNET,
                    "GatewayId": aws_id("internet gateway", "virtual private gateway"),
                    "AssociationState": obj({"State": text}),
                }
            )
        ),
        "Routes": list_of(ROUTE),
    },
    "peerings": {
        "VpcPeeringConnectionId": req(PCX),
        "Status": obj({"Code": text, "Message": text}),
        "RequesterVpcInfo": PEERING_SIDE,
        "AccepterVpcInfo": PEERING_SIDE,
        "ExpirationTime": timestamp,
        "Tags": TAGS,
    },
    "endpoints": {
        "VpcEndpointId": req(VPCE),
        "VpcId": VPC,
        "OwnerId": ACCOUNT_ID,
        "VpcEndpointType": text,
        "ServiceName": SERVICE_NAME,
        "State": text,
        "RouteTableIds": list_of(RTB),
        "SubnetIds": list_of(SUBNET),
        "Groups": list_of(obj({"GroupId": SG})),
        "PrivateDnsEnabled": boolean,
        "PolicyDocument": text,
        "Tags": TAGS,
        "NetworkInterfaceIds": list_of(ENI),
        "DnsOptions": obj(
            {"DnsRecordIpType": text, "PrivateDnsOnlyForInboundResolverEndpoint": boolean}
        ),
    },
    "flow_logs": {
        "FlowLogId": req(aws_id("flow log")),
        "ResourceId": ANY_ID,
        "FlowLogStatus": text,
        "DeliverLogsStatus": text,
        "DeliverLogsErrorMessage": text,
        "TrafficType": text,
        "LogDestinationType": text,
        "LogDestination": ARN,
        "LogGroupName": LOG_GROUP_NAME,
    },
    "prefix_lists": {
        "PrefixListId": req(PL),
        "PrefixListName": text,
        "OwnerId": one_of(ACCOUNT_ID, literal("AWS"), what="not an account id or AWS"),
    },
    "prefix_list_entries": {"PrefixListId": req(PL), "Cidr": req(cidr)},
    "vpn_gateways": {
        "VpnGatewayId": req(aws_id("virtual private gateway")),
        "State": text,
        "VpcAttachments": list_of(ATTACHED_VPC),
    },
    "tgw_attachments": {
        "TransitGatewayAttachmentId": req(TGW_ATTACH),
        "TransitGatewayId": TGW,
        "ResourceType": text,
        "ResourceId": ANY_ID,
        "State": text,
        "TransitGatewayOwnerId": ACCOUNT_ID,
        "ResourceOwnerId": ACCOUNT_ID,
        "Association": obj({"TransitGatewayRouteTableId": TGW_RTB, "State": text}),
        "Tags": TAGS,
    },
    "tgw_vpc_attachments": {
        "TransitGatewayAttachmentId": req(TGW_ATTACH),
        "SubnetIds": list_of(SUBNET),
        "Options": obj({"ApplianceModeSupport": text}),
    },
    "tgw_peering_attachments": {
        "TransitGatewayAttachmentId": req(TGW_ATTACH),
        "RequesterTgwInfo": TGW_INFO,
        "AccepterTgwInfo": TGW_INFO,
    },
    "nat_gateways": {
        "NatGatewayId": req(aws_id("NAT gateway")),
        "VpcId": VPC,
        "SubnetId": SUBNET,
        "State": text,
        "ConnectivityType": text,
        "NatGatewayAddresses": list_of(
            obj(
                {
                    "NetworkInterfaceId": ENI,
                    "PrivateIp": ip_address,
                    "PublicIp": ip_address,
                    "AllocationId": aws_id("Elastic IP allocation"),
                    "IsPrimary": boolean,
                }
            )
        ),
    },
    "internet_gateways": {
        "InternetGatewayId": req(aws_id("internet gateway")),
        "Attachments": list_of(ATTACHED_VPC),
    },
    "security_groups": {
        "GroupId": req(SG),
        "VpcId": VPC,
        "GroupName": text,
        "OwnerId": ACCOUNT_ID,
        "IpPermissions": list_of(SG_PERMISSION),
        "IpPermissionsEgress": list_of(SG_PERMISSION),
    },
    "log_groups": {"logGroupName": req(LOG_GROUP_NAME)},
    "network_acls": {
        "NetworkAclId": req(aws_id("network ACL")),
        "VpcId": VPC,
        "OwnerId": ACCOUNT_ID,
        "IsDefault": boolean,
        "Associations": list_of(obj({"SubnetId": SUBNET})),
        "Entries": list_of(
            obj(
                {
                    "RuleNumber": req(PORT),
                    "Egress": boolean,
                    "Protocol": text,
                    "RuleAction": text,
                    "CidrBlock": cidr,
                    "Ipv6CidrBlock": cidr,
                    "PortRange": obj({"From": PORT, "To": PORT}),
                    "IcmpTypeCode": obj({"Type": PORT, "Code": PORT}),
                }
            )
        ),
    },
    "network_interfaces": {
        "NetworkInterfaceId": req(ENI),
        "SubnetId": SUBNET,
        "VpcId": VPC,
        "OwnerId": ACCOUNT_ID,
        "AvailabilityZone": TOKEN,
        "InterfaceType": text,
        "Status": text,
        "PrivateIpAddresses": list_of(
            obj(
                {
                    "PrivateIpAddress": ip_address,
                    "Primary": boolean,
                    "Association": obj({"PublicIp": ip_address}),
                }
            )
        ),
        "PrivateIpAddress": ip_address,
        "Association": obj({"PublicIp": ip_address}),
        "Ipv6Addresses": list_of(obj({"Ipv6Address": ip_address})),
        "Groups": list_of(obj({"GroupId": SG})),
        "Attachment": obj({"InstanceId": aws_id("instance")}),
        "SourceDestCheck": boolean,
        "RequesterManaged": boolean,
        "Description": text,
    },
    "transit_gateways": {
        "TransitGatewayId": req(TGW),
        "OwnerId": ACCOUNT_ID,
        "State": text,
        "Options": obj(
            {
                "DefaultRouteTableAssociation": text,
                "DefaultRouteTablePropagation": text,
                "AssociationDefaultRouteTableId": TGW_RTB,
                "PropagationDefaultRouteTableId": TGW_RTB,
                "AutoAcceptSharedAttachments": text,
                "SecurityGroupReferencingSupport": text,
            }
        ),
        "Tags": TAGS,
    },
    "tgw_route_tables": {
        "TransitGatewayRouteTableId": req(TGW_RTB),
        "TransitGatewayId": TGW,
        "State": text,
        "DefaultAssociationRouteTable": boolean,
        "DefaultPropagationRouteTable": boolean,
    },
    "tgw_routes": {
        **TGW_TABLE_STAMP,
        "DestinationCidrBlock": cidr,
        "PrefixListId": PL,
        "Type": text,
        "State": text,
        "TransitGatewayAttachments": list_of(obj({"TransitGatewayAttachmentId": TGW_ATTACH})),
    },
    "tgw_associations": {
        **TGW_TABLE_STAMP,
        "TransitGatewayAttachmentId": req(TGW_ATTACH),
        "State": text,
    },
    "tgw_propagations": {
        **TGW_TABLE_STAMP,
        "TransitGatewayAttachmentId": req(TGW_ATTACH),
        "State": text,
    },
    "egress_only_igws": {
        "EgressOnlyInternetGatewayId": req(aws_id("egress-only internet gateway")),
        "Attachments": list_of(ATTACHED_VPC),
    },
    "vpn_connections": {
        "VpnConnectionId": req(aws_id("VPN connection")),
        "State": text,
        "VpnGatewayId": aws_id("virtual private gateway"),
        "TransitGatewayId": TGW,
        "CustomerGatewayId": aws_id("customer gateway"),
        "Routes": list_of(obj({"DestinationCidrBlock": cidr, "State": text})),
        "VgwTelemetry": list_of(obj({"Status": text})),
    },
    "addresses": {
        "AllocationId": aws_id("Elastic IP allocation"),
        "PublicIp": ip_address,
        "AssociationId": aws_id("Elastic IP association"),
        "NetworkInterfaceId": ENI,
        "PrivateIpAddress": ip_address,
        "InstanceId": aws_id("instance"),
        "Tags": TAGS,
    },
}


_COMPILED: dict[str, Fields] = {kind: _compile(spec) for kind, spec in SHAPES.items()}


def item_problem(kind: str, raw: Any) -> Problem | None:
    """What is malformed in one raw item of a kind, or None (kinds not read pass as they are)."""
    fields = _COMPILED.get(kind)
    if fields is None:
        return None
    return _problem(fields, raw)


def _label(kind: str, index: int, raw: Any) -> str:
    """How a message names an item: by its id when that is well formed, else by position."""
    spec = SHAPES[kind]
    key = next(iter(spec))
    if type(raw) is dict and key in raw:
        check = spec[key]
        value = raw[key]
        if (check.check if isinstance(check, _Required) else check)(value) is None:
            return f"{kind} item {value}"
    return f"{kind} item #{index}"


def _defects(rd: RegionData) -> Iterator[tuple[str, int, str]]:
    """(kind, index, message) of each malformed item of one account and region."""
    for kind, stored in rd.resources.items():
        if kind not in _COMPILED:
            continue  # not read by the inventory: nothing to check, nothing to decode
        # A look, not a keep: items stored in a file are decoded without interning.
        items = stored.load(intern=False) if isinstance(stored, StoredItems) else stored
        for i, raw in enumerate(items):
            problem = item_problem(kind, raw)
            if problem is not None:
                path, value, what = problem
                field = path if what == "missing" else f"{path} {shown(value)}".strip()
                label = _label(kind, i, raw)
                yield kind, i, f"snapshot defect: {label} left out: {field} is {what}"


def _gap(account: str, region: str, kind: str, message: str) -> Gap:
    return Gap(account, region, KIND_OPERATIONS.get(kind, kind), DEFECT_CODE, message)


def quarantine(snap: Snapshot) -> Snapshot:
    """The snapshot without its malformed items, each recorded as a gap (see module doc)."""
    regions: list[RegionData] = []
    gaps: list[Gap] = []
    for rd in snap.regions:
        where = [
            f"{name} {shown(value)} is {what}"
            for name, value, check in (
                ("account", rd.account_id, ACCOUNT_ID),
                ("region", rd.region, REGION_NAME),
            )
            if (what := check(value)) is not None
        ]
        if where:
            # Nothing read there can be placed: the whole (account, region) is left out.
            account = rd.account_id if ACCOUNT_ID(rd.account_id) is None else ""
            region = rd.region if REGION_NAME(rd.region) is None else "?"
            message = f"snapshot defect: region data left out: {'; '.join(where)}"
            gaps.append(Gap(account, region, "*", DEFECT_CODE, message))
            continue
        bad: dict[str, list[int]] = {}
        for kind, index, message in _defects(rd):
            seen = bad.setdefault(kind, [])
            seen.append(index)
            if len(seen) <= MAX_DEFECTS_PER_KIND:
                gaps.append(_gap(rd.account_id, rd.region, kind, message))
        if not bad:
            regions.append(rd)
            continue
        for kind, indexes in bad.items():
            if len(indexes) > MAX_DEFECTS_PER_KIND:
                more = len(indexes) - MAX_DEFECTS_PER_KIND
                message = f"snapshot defect: {more} more malformed {kind} items left out"
                gaps.append(_gap(rd.account_id, rd.region, kind, message))
        resources = dict(rd.resources)
        for kind, indexes in bad.items():
            drop = set(indexes)
            resources[kind] = [raw for i, raw in enumerate(rd.resources[kind]) if i not in drop]
        regions.append(replace(rd, resources=resources))
    if not gaps:
        return snap
    return replace(snap, regions=tuple(regions), gaps=tuple(sorted({*snap.gaps, *gaps})))


def build_checked(snap: Snapshot, build: Callable[[Snapshot], T]) -> T:
    """Build from the snapshot with its malformed items quarantined (see quarantine()).

    A snapshot read from a file decodes a kind each time it is read, and checking every item
    before building would decode the whole file twice. So a file is built from first, each
    kind checked as the build decodes it; only if an item is malformed (or the build trips
    over one) is it quarantined and built again, the careful way. The result is the same
    either way; a well-formed file, the usual case, is decoded once.
    """
    if not any(isinstance(v, StoredItems) for rd in snap.regions for v in rd.resources.values()):
        return build(quarantine(snap))
    decoded: set[int] = set()
    malformed = False

    def seen(stored: StoredItems, verdict: bool | None) -> None:
        nonlocal malformed
        decoded.add(id(stored))
        malformed = malformed or verdict is False

    try:
        # A large file is decoded and checked in a second process, ahead of the build.
        with prefetching(snap, build, inspect) as ahead, watching(inspect, seen, ahead):
            built = build(snap)
    except Exception:  # noqa: BLE001 - a malformed item broke a builder: the careful path names it
        # (and a fault of the file itself, which quarantine() meets again, is raised there)
        return build(quarantine(snap))
    if malformed or not _rest_well_formed(snap, decoded):
        return build(quarantine(snap))
    return built


def inspect(kind: str, items: list[Any]) -> bool | None:
    """Whether a kind's decoded items are well formed (their repeated strings shared, a column
    at a time: columns.py), or None for a kind the inventory does not read."""
    fields = _COMPILED.get(kind)
    return None if fields is None else well_formed(fields, items)


def _rest_well_formed(snap: Snapshot, decoded: set[int]) -> bool:
    """Whether the parts of a file snapshot the build did not decode are well formed too (so
    the gaps are the careful path's exactly)."""
    for rd in snap.regions:
        if ACCOUNT_ID(rd.account_id) is not None or REGION_NAME(rd.region) is not None:
            return False
        for kind, stored in rd.resources.items():
            fields = _COMPILED.get(kind)
            if fields is None or id(stored) in decoded:
                continue
            items = stored.load(intern=False) if isinstance(stored, StoredItems) else stored
            if not well_formed(fields, list(items), share=False):
                return False
    return True
