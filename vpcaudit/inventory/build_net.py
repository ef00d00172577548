"""From raw API items to the network models: filters, interfaces, Transit Gateways, VPNs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from vpcaudit.inventory.models import KIND_OPERATIONS, Network, TgwAttachment, _net
from vpcaudit.inventory.netmodels import (
    ALL_PROTOCOLS,
    EgressOnlyIgw,
    ElasticIp,
    NaclEntry,
    NetworkAcl,
    NetworkInterface,
    PrefixList,
    SgRule,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    VpnConnection,
)
from vpcaudit.snapshot import RawItem, Snapshot

# The kinds that hold the three per-route-table reads: joined to their table by the
# TransitGatewayRouteTableId the collector stamps on each item.
TGW_TABLE_KINDS = ("tgw_routes", "tgw_associations", "tgw_propagations")

_new = tuple.__new__
"""SgRule(...) and NaclEntry(...) go through a Python-level __new__: hundreds of thousands."""


def _int(value: Any, default: int = -1) -> int:
    return default if value is None else int(value)


def _tag_pairs(raw: RawItem) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted((str(t.get("Key", "")), str(t.get("Value", ""))) for t in raw.get("Tags") or [])
    )


def sg_rules(raw: RawItem, *, egress: bool) -> tuple[SgRule, ...]:
    """A security group's permissions, one rule per CIDR, prefix list or referenced group."""
    out: list[SgRule] = []
    for perm in raw.get("IpPermissionsEgress" if egress else "IpPermissions") or []:
        proto = str(perm.get("IpProtocol", ALL_PROTOCOLS)).lower()
        lo, hi = _int(perm.get("FromPort")), _int(perm.get("ToPort"))
        base = (egress, proto, lo, hi)
        for r in perm.get("IpRanges") or []:
            out.append(_new(SgRule, (*base, _net(str(r.get("CidrIp", ""))), "", "", "", "", "")))
        for r in perm.get("Ipv6Ranges") or []:
            out.append(_new(SgRule, (*base, _net(str(r.get("CidrIpv6", ""))), "", "", "", "", "")))
        for r in perm.get("PrefixListIds") or []:
            out.append(_new(SgRule, (*base, None, str(r.get("PrefixListId", "")), "", "", "", "")))
        for g in perm.get("UserIdGroupPairs") or []:
            out.append(
                _new(
                    SgRule,
                    (
                        *base,
                        None,
                        "",
                        str(g.get("GroupId", "")),
                        str(g.get("UserId", "")),
                        str(g.get("VpcId", "")),
                        str(g.get("PeeringStatus", "")),
                    ),
                )
            )
    return tuple(r for r in out if r.cidr is not None or r.prefix_list_id or r.group_id)


def _nacl_entry(raw: RawItem) -> NaclEntry:
    ports = raw.get("PortRange") or {}
    icmp = raw.get("IcmpTypeCode") or {}
    return _new(
        NaclEntry,
        (
            int(raw["RuleNumber"]),
            bool(raw.get("Egress", False)),
            str(raw.get("Protocol", ALL_PROTOCOLS)),
            str(raw.get("RuleAction", "deny")).lower() == "allow",
            _net(str(raw.get("CidrBlock") or raw.get("Ipv6CidrBlock") or "")),
            _int(ports.get("From")),
            _int(ports.get("To")),
            _int(icmp.get("Type")),
            _int(icmp.get("Code")),
        ),
    )


def _interface(acct: str, region: str, raw: RawItem) -> NetworkInterface:
    ips = sorted(raw.get("PrivateIpAddresses") or [], key=lambda p: not p.get("Primary"))
    private = tuple(str(p["PrivateIpAddress"]) for p in ips if p.get("PrivateIpAddress"))
    if not private and raw.get("PrivateIpAddress"):
        private = (str(raw["PrivateIpAddress"]),)
    public = [str((p.get("Association") or {}).get("PublicIp", "")) for p in ips]
    public.append(str((raw.get("Association") or {}).get("PublicIp", "")))
    attachment = raw.get("Attachment") or {}
    return NetworkInterface(
        acct,
        region,
        str(raw["NetworkInterfaceId"]),
        str(raw.get("SubnetId", "")),
        str(raw.get("VpcId", "")),
        str(raw.get("OwnerId") or acct),
        str(raw.get("AvailabilityZone", "")),
        str(raw.get("InterfaceType", "interface")),
        str(raw.get("Status", "")),
        private,
        tuple(dict.fromkeys(p for p in public if p)),
        tuple(str(a.get("Ipv6Address", "")) for a in raw.get("Ipv6Addresses") or []),
        tuple(str(g.get("GroupId", "")) for g in raw.get("Groups") or []),
        str(attachment.get("InstanceId", "")),
        bool(raw.get("SourceDestCheck", True)),
        bool(raw.get("RequesterManaged", False)),
        str(raw.get("Description", "")),
    )


def _transit_gateway(acct: str, region: str, raw: RawItem) -> TransitGateway:
    o = raw.get("Options") or {}
    return TransitGateway(
        acct,
        region,
        str(raw["TransitGatewayId"]),
        str(raw.get("OwnerId") or acct),
        str(raw.get("State", "")),
        o.get("DefaultRouteTableAssociation", "enable") == "enable",
        o.get("DefaultRouteTablePropagation", "enable") == "enable",
        str(o.get("AssociationDefaultRouteTableId", "")),
        str(o.get("PropagationDefaultRouteTableId", "")),
        o.get("AutoAcceptSharedAttachments", "disable") == "enable",
        o.get("SecurityGroupReferencingSupport", "disable") == "enable",
        _tag_pairs(raw),
    )


def _tgw_route(raw: RawItem) -> TgwRoute:
    attachments = raw.get("TransitGatewayAttachments") or []
    return TgwRoute(
        str(raw.get("DestinationCidrBlock") or raw.get("PrefixListId") or ""),
        str(raw.get("Type", "static")),
        str(raw.get("State", "active")),
        tuple(
            sorted(
                str(a["TransitGatewayAttachmentId"])
                for a in attachments
                if a.get("TransitGatewayAttachmentId")
            )
        ),
    )


def _by_table(items: Sequence[RawItem]) -> dict[str, list[RawItem]]:
    out: dict[str, list[RawItem]] = defaultdict(list)
    for raw in items:
        out[str(raw.get("TransitGatewayRouteTableId", ""))].append(raw)
    return out


Failed = frozenset[tuple[str, str, str]]


def failed_calls(snap: Snapshot) -> Failed:
    """(account, region, operation) of every gap; "*" stands for every region or operation."""
    return frozenset((g.account_id, g.region, g.operation) for g in snap.gaps)


def fully_read(failed: Failed, acct: str, region: str, res: Any, kind: str) -> bool:
    """The kind is present for (account, region) and no call of its operation failed there.

    A per-table read (TGW routes, prefix-list entries) keeps what the tables that answered
    returned: present is then not the same as complete, and a gap says so.
    """
    if kind not in res:
        return False
    op = KIND_OPERATIONS[kind]
    return not any((acct, r, o) in failed for r in (region, "*") for o in (op, "*"))


def _tgw_tables(
    acct: str, region: str, res: Mapping[str, Sequence[RawItem]], routes_read: bool
) -> Iterator[TgwRouteTable]:
    routes = _by_table(res.get("tgw_routes", []))
    assocs = _by_table(res.get("tgw_associations", []))
    props = _by_table(res.get("tgw_propagations", []))
    for raw in res.get("tgw_route_tables", []):
        rt = str(raw["TransitGatewayRouteTableId"])
        yield TgwRouteTable(
            acct,
            region,
            rt,
            str(raw.get("TransitGatewayId", "")),
            str(raw.get("State", "")),
            bool(raw.get("DefaultAssociationRouteTable", False)),
            bool(raw.get("DefaultPropagationRouteTable", False)),
            tuple(_tgw_route(r) for r in routes.get(rt, [])),
            tuple(
                sorted(
                    str(a["TransitGatewayAttachmentId"])
                    for a in assocs.get(rt, [])
                    if a.get("State", "associated") in ("associated", "associating")
                )
            ),
            tuple(
                sorted(
                    str(a["TransitGatewayAttachmentId"])
                    for a in props.get(rt, [])
                    if a.get("State", "enabled") in ("enabled", "enabling")
                )
            ),
            routes_read,
        )


def _vpn(acct: str, region: str, raw: RawItem) -> VpnConnection:
    telemetry = raw.get("VgwTelemetry") or []
    return VpnConnection(
        acct,
        region,
        str(raw["VpnConnectionId"]),
        str(raw.get("State", "")),
        str(raw.get("VpnGatewayId", "")),
        str(raw.get("TransitGatewayId", "")),
        str(raw.get("CustomerGatewayId", "")),
        tuple(
            str(r["DestinationCidrBlock"])
            for r in raw.get("Routes") or []
            if r.get("DestinationCidrBlock") and r.get("State", "available") == "available"
        ),
        sum(1 for t in telemetry if str(t.get("Status", "")).upper() == "UP"),
        len(telemetry),
    )


def _address(acct: str, region: str, raw: RawItem) -> ElasticIp:
    return ElasticIp(
        acct,
        region,
        str(raw.get("AllocationId") or raw.get("PublicIp", "")),
        str(raw.get("PublicIp", "")),
        str(raw.get("AssociationId", "")),
        str(raw.get("NetworkInterfaceId", "")),
        str(raw.get("PrivateIpAddress", "")),
        str(raw.get("InstanceId", "")),
        _tag_pairs(raw),
    )


def _prefix_lists(
    acct: str, region: str, res: Mapping[str, Sequence[RawItem]], read: bool
) -> Iterator[PrefixList]:
    entries: dict[str, list[Network]] = defaultdict(list)
    for raw in res.get("prefix_list_entries", []):
        n = _net(str(raw.get("Cidr", "")))
        if n is not None:
            entries[str(raw.get("PrefixListId", ""))].append(n)
    for raw in res.get("prefix_lists", []):
        pid = str(raw["PrefixListId"])
        owner = str(raw.get("OwnerId", ""))
        expanded = read and owner != "AWS"
        yield PrefixList(
            acct,
            region,
            pid,
            str(raw.get("PrefixListName", "")),
            owner,
            tuple(entries.get(pid, ())) if expanded else None,
        )


def build_network_fields(snap: Snapshot) -> dict[str, Any]:
    """The network-model fields of an Inventory, read from the snapshot's raw items."""
    nacls: list[NetworkAcl] = []
    enis: list[NetworkInterface] = []
    tgws: list[TransitGateway] = []
    tables: list[TgwRouteTable] = []
    eigws: list[EgressOnlyIgw] = []
    vpns: list[VpnConnection] = []
    eips: list[ElasticIp] = []
    pls: list[PrefixList] = []
    failed = failed_calls(snap)
    for rd in sorted(snap.regions, key=lambda r: (r.account_id, r.region)):
        acct, region, res = rd.account_id, rd.region, dict(rd.resources)
        for raw in res.get("network_acls", []):
            nacls.append(
                NetworkAcl(
                    acct,
                    region,
                    str(raw["NetworkAclId"]),
                    str(raw.get("VpcId", "")),
                    str(raw.get("OwnerId") or acct),
                    bool(raw.get("IsDefault", False)),
                    tuple(
                        sorted(
                            str(a["SubnetId"])
                            for a in raw.get("Associations") or []
                            if a.get("SubnetId")
                        )
                    ),
                    tuple(
                        sorted(
                            map(_nacl_entry, raw.get("Entries") or ()),
                            key=lambda e: (e.egress, e.rule_number),
                        )
                    ),
                )
            )
        enis.extend(_interface(acct, region, raw) for raw in res.get("network_interfaces", []))
        tgws.extend(_transit_gateway(acct, region, raw) for raw in res.get("transit_gateways", []))
        routes_read = fully_read(failed, acct, region, res, "tgw_routes")
        tables.extend(_tgw_tables(acct, region, res, routes_read))
        eigws.extend(
            EgressOnlyIgw(
                acct,
                region,
                str(raw["EgressOnlyInternetGatewayId"]),
                tuple(
                    str(a["VpcId"])
                    for a in raw.get("Attachments") or []
                    if a.get("State") in ("attached", "attaching", "available")
                ),
            )
            for raw in res.get("egress_only_igws", [])
        )
        vpns.extend(_vpn(acct, region, raw) for raw in res.get("vpn_connections", []))
        eips.extend(_address(acct, region, raw) for raw in res.get("addresses", []))
        entries_read = fully_read(failed, acct, region, res, "prefix_list_entries")
        pls.extend(_prefix_lists(acct, region, res, entries_read))

    def key(x: Any, id_field: str) -> tuple[str, str, str]:
        return (x.account_id, x.region, getattr(x, id_field))

    return {
        "network_acls": _dedupe(nacls, "nacl_id"),
        "network_interfaces": _dedupe(enis, "eni_id"),
        "transit_gateways": _dedupe(tgws, "tgw_id"),
        "tgw_route_tables": tuple(sorted(tables, key=lambda t: key(t, "route_table_id"))),
        "egress_only_igws": tuple(sorted(eigws, key=lambda g: key(g, "gateway_id"))),
        "vpn_connections": tuple(sorted(vpns, key=lambda v: key(v, "vpn_id"))),
        "elastic_ips": tuple(sorted(eips, key=lambda e: key(e, "allocation_id"))),
        "prefix_lists": tuple(sorted(pls, key=lambda p: key(p, "prefix_list_id"))),
    }


def _dedupe(items: list[Any], id_field: str) -> tuple[Any, ...]:
    """One copy per id, preferring the owner's (a shared VPC's resources are seen by every
    participant account)."""
    ordered = sorted(
        items,
        key=lambda x: (x.account_id != x.owner_id, x.account_id, x.region, getattr(x, id_field)),
    )
    seen: dict[str, Any] = {}
    for x in ordered:
        seen.setdefault(getattr(x, id_field), x)
    return tuple(
        sorted(seen.values(), key=lambda x: (x.account_id, x.region, getattr(x, id_field)))
    )


def tgw_associations(snap: Snapshot) -> dict[tuple[str, str], str]:
    """(attachment, TGW) -> associated TGW route table, from every route table whose
    associations were read, with an empty table id for "read, and associated with none".

    Across the whole snapshot: a shared TGW's tables are read in its owner's account, its
    attachments in each VPC owner's too.
    """
    out: dict[tuple[str, str], str] = {}
    failed = failed_calls(snap)
    for rd in snap.regions:
        res = rd.resources
        if not fully_read(failed, rd.account_id, rd.region, res, "tgw_associations"):
            # Unknown, not "associated with none": the model then says NOT_READ.
            continue
        tables = {str(t["TransitGatewayRouteTableId"]): t for t in res.get("tgw_route_tables", [])}
        for t in tables.values():
            # Every attachment of a TGW whose tables were read starts as "associated with none".
            out.setdefault(("*", str(t.get("TransitGatewayId", ""))), "")
        for a in res.get("tgw_associations", []):
            if a.get("State", "associated") not in ("associated", "associating"):
                continue
            rt = str(a.get("TransitGatewayRouteTableId", ""))
            tgw = str((tables.get(rt) or {}).get("TransitGatewayId", ""))
            out[(str(a["TransitGatewayAttachmentId"]), tgw)] = rt
    return out


def tgw_attachments(
    acct: str,
    region: str,
    res: dict[str, list[RawItem]] | Any,
    assoc: dict[tuple[str, str], str],
) -> list[TgwAttachment]:
    """Transit Gateway attachments, with their subnets, appliance mode, peer and association.

    The association comes from the TGW route tables' own association lists when they were
    read (see tgw_associations): DescribeTransitGatewayAttachments reports one association
    per attachment, and moto reports the default table there whatever the truth.
    """
    vpc_att = {str(a["TransitGatewayAttachmentId"]): a for a in res.get("tgw_vpc_attachments", [])}
    peer_att = {
        str(a["TransitGatewayAttachmentId"]): a for a in res.get("tgw_peering_attachments", [])
    }
    out = []
    for raw in res.get("tgw_attachments", []):
        aid = str(raw["TransitGatewayAttachmentId"])
        tgw = str(raw.get("TransitGatewayId", ""))
        association = raw.get("Association") or {}
        rt = assoc.get((aid, tgw))
        if rt is None and ("*", tgw) in assoc:
            rt = ""  # the TGW's tables were read and none lists this attachment
        if rt is None:
            live = association.get("State") in ("associated", "associating")
            rt = str(association.get("TransitGatewayRouteTableId", "")) if live else ""
        vpc = vpc_att.get(aid) or {}
        peer_tgw, peer_account, peer_region, accepter = "", "", "", ""
        if aid in peer_att:
            infos = (
                peer_att[aid].get("RequesterTgwInfo") or {},
                peer_att[aid].get("AccepterTgwInfo") or {},
            )
            far = next((i for i in infos if i.get("TransitGatewayId") != tgw), infos[1])
            peer_tgw = str(far.get("TransitGatewayId", ""))
            peer_account, peer_region = str(far.get("OwnerId", "")), str(far.get("Region", ""))
            accepter = str(infos[1].get("TransitGatewayId", ""))
        out.append(
            TgwAttachment(
                acct,
                region,
                aid,
                tgw,
                str(raw.get("ResourceType", "")),
                str(raw.get("ResourceId", "")),
                str(raw.get("State", "")),
                str(raw.get("TransitGatewayOwnerId", "")),
                str(raw.get("ResourceOwnerId", "")),
                rt or "",
                tuple(sorted(str(x) for x in vpc.get("SubnetIds") or ())),
                (vpc.get("Options") or {}).get("ApplianceModeSupport") == "enable",
                peer_tgw,
                peer_account,
                peer_region,
                tuple(
                    sorted(
                        (str(t.get("Key", "")), str(t.get("Value", "")))
                        for t in raw.get("Tags") or []
                    )
                ),
                accepter_tgw_id=accepter,
            )
        )
    return out
