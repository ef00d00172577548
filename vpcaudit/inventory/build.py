"""From raw API items to models: the one place where boto3's dicts are read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from vpcaudit.inventory.build_net import (
    build_network_fields,
    sg_rules,
    tgw_associations,
    tgw_attachments,
)
from vpcaudit.inventory.models import (
    Endpoint,
    FlowLog,
    InternetGateway,
    Located,
    NatGateway,
    Network,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    TgwAttachment,
    Vpc,
    VpnGateway,
    _net,
    _tags,
    parse_time,
)
from vpcaudit.inventory.quarantine import build_checked
from vpcaudit.snapshot import RawItem, Snapshot

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
_TARGET_KIND = dict(_ROUTE_TARGETS)


_TARGET_KEYS = frozenset(key for key, _ in _ROUTE_TARGETS)
_new_route = tuple.__new__  # Route(...) goes through a Python-level __new__: a million routes


def _route(raw: RawItem) -> Route:
    # A route names one target (an instance route: the instance and its interface), so find
    # the route's own target keys first instead of trying all ten in turn.
    named = raw.keys() & _TARGET_KEYS
    target_type, target_id = "unknown", ""
    if len(named) == 1:
        key = named.pop()
        if raw[key]:
            target_type, target_id = _TARGET_KIND[key], str(raw[key])
    elif named:
        for key, kind in _ROUTE_TARGETS:
            if raw.get(key):
                target_type, target_id = kind, str(raw[key])
                break
    destination = (
        raw.get("DestinationCidrBlock")
        or raw.get("DestinationIpv6CidrBlock")
        or raw.get("DestinationPrefixListId")
        or ""
    )
    return _new_route(
        Route,
        (
            str(destination),
            target_type,
            target_id,
            str(raw.get("State", "active")),
            str(raw.get("Origin", "")),
        ),
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


def _unique(items: Iterable[Any], key: Any) -> tuple[Any, ...]:
    """The first item of each id, in the given order."""
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return tuple(seen.values())


def build_fields(snap: Snapshot) -> dict[str, Any]:
    """Every field of an Inventory, read from the snapshot's raw items."""
    # Malformed items leave first, as gaps: the build reads well-formed items only, and counts
    # a quarantined item's kind as not read in its account and region.
    return build_checked(snap, _build_fields)


def _build_fields(snap: Snapshot) -> dict[str, Any]:
    """build_fields, from a snapshot whose items are well formed."""
    vpcs: list[Vpc] = []
    subnets: list[Subnet] = []
    tables: list[RouteTable] = []
    endpoints: list[Endpoint] = []
    flow_logs: list[FlowLog] = []
    vgws: list[VpnGateway] = []
    tgwas: list[TgwAttachment] = []
    prefix_lists: dict[tuple[str, str], str] = {}
    peer_raw: dict[str, tuple[RawItem, list[Located]]] = {}
    assoc = tgw_associations(snap)
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
                    tuple(
                        str(a["Ipv6CidrBlock"])
                        for a in raw.get("Ipv6CidrBlockAssociationSet") or []
                        if a.get("Ipv6CidrBlock")
                        and (a.get("Ipv6CidrBlockState") or {}).get("State", "associated")
                        == "associated"
                    ),
                    str(raw.get("OwnerId") or acct),
                    _tags(raw),
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
                    tuple(map(_route, raw.get("Routes") or ())),
                    tuple(sorted(str(a["GatewayId"]) for a in live if a.get("GatewayId"))),
                )
            )
        for raw in res.get("peerings", []):
            pid = str(raw["VpcPeeringConnectionId"])
            entry = peer_raw.setdefault(pid, (raw, []))
            entry[1].append(Located(acct, region))
        for raw in res.get("endpoints", []):
            dns = raw.get("DnsOptions") or {}
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
                    tuple(str(n) for n in raw.get("NetworkInterfaceIds") or ()),
                    str(dns.get("DnsRecordIpType") or ""),
                    bool(dns.get("PrivateDnsOnlyForInboundResolverEndpoint", False)),
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
        tgwas.extend(tgw_attachments(acct, region, res, assoc))
    peerings = tuple(_peering(pid, raw, seen) for pid, (raw, seen) in sorted(peer_raw.items()))
    failed = frozenset((g.account_id, g.region, g.operation) for g in snap.gaps)
    # An account-wide failure (e.g. the role could not be assumed) fails every region of it.
    failed |= frozenset(
        (g.account_id, r.region, "*") for g in snap.gaps if g.region == "*" for r in snap.regions
    )
    as_of = parse_time(snap.finished_at) or dt.datetime.now(dt.UTC)
    return dict(
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
        **build_network_fields(snap),
    )


def _nat_address(raw: RawItem) -> tuple[str, str, str]:
    """The primary address of a NAT gateway: (ENI, private IP, public IP)."""
    addrs = sorted(raw.get("NatGatewayAddresses") or [], key=lambda a: not a.get("IsPrimary", True))
    if not addrs:
        return "", "", ""
    a = addrs[0]
    return (
        str(a.get("NetworkInterfaceId", "")),
        str(a.get("PrivateIp", "")),
        str(a.get("PublicIp", "")),
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
                *_nat_address(raw),
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
                str(raw.get("OwnerId") or acct),
                sg_rules(raw, egress=False),
                sg_rules(raw, egress=True),
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
