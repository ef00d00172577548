"""The network model: the inventory indexed for forwarding, and compiled route tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from vpcaudit.inventory import (
    Endpoint,
    Inventory,
    NetworkAcl,
    NetworkInterface,
    PrefixList,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    parse_network,
)
from vpcaudit.network.addr import BITS, Addr, contains, parse_ip
from vpcaudit.network.lpm import Bits, Lpm, bits, text_bits

# Kinds the model needs to judge a path; a snapshot without them cannot answer `path`.
REQUIRED_KINDS = ("route_tables", "subnets", "network_interfaces", "network_acls")


@dataclass(frozen=True)
class CompiledTable:
    """A VPC route table ready for lookups: CIDR routes by longest prefix, and service routes
    (AWS-managed prefix lists such as a gateway endpoint's) by service name."""

    table: RouteTable
    lpm: Lpm[Route]
    services: dict[str, Route]
    unread: tuple[str, ...] = ()
    """Prefix lists its routes use whose entries were not read: lookups there are unknown."""


@dataclass(frozen=True)
class CompiledTgwTable:
    """A Transit Gateway route table ready for lookups."""

    table: TgwRouteTable
    lpm: Lpm[TgwRoute]


class NetworkModel:
    """How AWS forwards and filters packets, over one inventory (pure; no AWS calls)."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self._index_routing(inv)
        self._index_interfaces(inv)
        self._index_gateways(inv)
        self._index_transit(inv)
        self._compiled: dict[str, CompiledTable] = {}
        self._compiled_tgw: dict[str, CompiledTgwTable] = {}
        self._vpc_index: dict[tuple[int, int], dict[int, list[Vpc]]] | None = None

    def _index_routing(self, inv: Inventory) -> None:
        """Subnets, their route tables (explicit, main, edge) and network ACLs."""
        self.subnets: dict[str, Subnet] = {s.subnet_id: s for s in inv.subnets}
        self.tables: dict[str, RouteTable] = {t.route_table_id: t for t in inv.route_tables}
        self.subnet_table: dict[str, str] = {}
        self.main_table: dict[str, str] = {}
        self.edge_tables: dict[str, str] = {}
        for t in inv.route_tables:
            for s in t.subnet_ids:
                self.subnet_table[s] = t.route_table_id
            if t.is_main:
                self.main_table[t.vpc_id] = t.route_table_id
            for g in t.gateway_ids:
                self.edge_tables[g] = t.route_table_id
        self.subnets_by_vpc: dict[str, list[Subnet]] = defaultdict(list)
        for sub in inv.subnets:
            self.subnets_by_vpc[sub.vpc_id].append(sub)
        self.nacl_of_subnet: dict[str, NetworkAcl] = {}
        self.default_nacl: dict[str, NetworkAcl] = {}
        for n in inv.network_acls:
            for s in n.subnet_ids:
                self.nacl_of_subnet[s] = n
            if n.is_default:
                self.default_nacl[n.vpc_id] = n

    def _index_interfaces(self, inv: Inventory) -> None:
        """Interfaces by id, address (private per VPC, public), instance; Elastic IPs."""
        self.enis: dict[str, NetworkInterface] = {}
        self.eni_by_vpc_ip: dict[tuple[str, Addr], NetworkInterface] = {}
        self.enis_by_ip: dict[Addr, list[NetworkInterface]] = defaultdict(list)
        self.eni_by_public_ip: dict[Addr, NetworkInterface] = {}
        self.enis_by_instance: dict[str, list[NetworkInterface]] = defaultdict(list)
        for e in inv.network_interfaces:
            self.enis[e.eni_id] = e
            for ip in (*e.private_ips, *e.ipv6_ips):
                a = parse_ip(ip)
                if a is not None:
                    self.eni_by_vpc_ip.setdefault((e.vpc_id, a), e)
                    self.enis_by_ip[a].append(e)
            for ip in e.public_ips:
                a = parse_ip(ip)
                if a is not None:
                    self.eni_by_public_ip.setdefault(a, e)
            if e.instance_id:
                self.enis_by_instance[e.instance_id].append(e)
        self.eip_enis: set[str] = set()
        for eip in inv.elastic_ips:
            pub = parse_ip(eip.public_ip)
            if pub is not None and eip.eni_id in self.enis:
                self.eni_by_public_ip.setdefault(pub, self.enis[eip.eni_id])
                self.eip_enis.add(eip.eni_id)

    def _index_gateways(self, inv: Inventory) -> None:
        """Security groups, prefix lists, internet gateways and endpoints."""
        self.groups: dict[str, SecurityGroup] = {}
        for group in inv.security_groups:
            self.groups.setdefault(group.group_id, group)
        self.prefix_lists: dict[str, PrefixList] = {}
        for pl in inv.prefix_lists:
            self.prefix_lists.setdefault(pl.prefix_list_id, pl)
        self.igw_of_vpc: dict[str, str] = {}
        for igw in inv.internet_gateways:
            for v in igw.attached_vpc_ids:
                self.igw_of_vpc[v] = igw.gateway_id
        self.eigw_of_vpc: dict[str, str] = {}
        for eg in inv.egress_only_igws:
            for v in eg.attached_vpc_ids:
                self.eigw_of_vpc[v] = eg.gateway_id
        self.endpoints: dict[str, Endpoint] = {e.endpoint_id: e for e in inv.endpoints}

    def _index_transit(self, inv: Inventory) -> None:
        """Transit Gateways, their route tables and attachments (each side of a peering)."""
        self.tgws: dict[str, TransitGateway] = {}
        for tgw in inv.transit_gateways:
            if tgw.tgw_id not in self.tgws or tgw.account_id == tgw.owner_id:
                self.tgws[tgw.tgw_id] = tgw
        self.tgw_tables: dict[str, TgwRouteTable] = {
            t.route_table_id: t for t in inv.tgw_route_tables
        }
        self.attachments: dict[tuple[str, str], TgwAttachment] = {}
        self.vpc_attachments: dict[tuple[str, str], TgwAttachment] = {}
        self.tgw_attachments: dict[str, list[TgwAttachment]] = defaultdict(list)
        self.tgws_of_vpc: dict[str, list[str]] = defaultdict(list)
        for att in sorted(inv.tgw_attachments, key=_attachment_rank):
            key = (att.attachment_id, att.transit_gateway_id)
            if key in self.attachments:
                continue
            self.attachments[key] = att
            self.tgw_attachments[att.transit_gateway_id].append(att)
            if att.resource_type == "vpc" and att.state in _LIVE_ATTACHMENT:
                vkey = (att.resource_id, att.transit_gateway_id)
                if vkey not in self.vpc_attachments:
                    self.vpc_attachments[vkey] = att
                    self.tgws_of_vpc[att.resource_id].append(att.transit_gateway_id)

    # -- coverage -------------------------------------------------------------------------

    def read(self, account_id: str, region: str, kind: str) -> bool:
        """True when the kind was read without error there."""
        return self.inv.was_read(account_id, region, kind)

    def scanned(self, account_id: str, region: str) -> bool:
        """True when that account and region were read at all."""
        return (account_id, region) in self.inv.scanned_regions

    # -- lookups ----------------------------------------------------------------------------

    def vpc(self, vpc_id: str) -> Vpc | None:
        """A VPC by id."""
        return self.inv.vpc(vpc_id)

    def table_of_subnet(self, subnet: Subnet) -> RouteTable | None:
        """The subnet's route table: its explicit association, else the VPC's main table."""
        rt = self.subnet_table.get(subnet.subnet_id) or self.main_table.get(subnet.vpc_id)
        return None if rt is None else self.tables.get(rt)

    def nacl_of(self, subnet: Subnet) -> NetworkAcl | None:
        """The subnet's network ACL (AWS associates every subnet with one, else the default)."""
        return self.nacl_of_subnet.get(subnet.subnet_id) or self.default_nacl.get(subnet.vpc_id)

    def subnet_holding(self, vpc_id: str, addr: Addr) -> Subnet | None:
        """The subnet of the VPC whose CIDR (IPv4 or IPv6) holds addr."""
        for s in self.subnets_by_vpc.get(vpc_id, ()):
            for text in (s.cidr, *s.ipv6_cidrs):
                net = parse_network(text)
                if net is not None and contains(net, addr):
                    return s
        return None

    def vpcs_holding(self, addr: Addr) -> list[Vpc]:
        """Scanned VPCs whose CIDR blocks hold addr (several when address spaces overlap)."""
        if self._vpc_index is None:
            index: dict[tuple[int, int], dict[int, list[Vpc]]] = defaultdict(dict)
            for v in sorted({v.vpc_id: v for v in self.inv.vpcs}.values(), key=lambda v: v.vpc_id):
                for c in v.cidrs:
                    shift = BITS[c.version] - c.prefixlen
                    index[(c.version, shift)].setdefault(
                        int(c.network_address) >> shift, []
                    ).append(v)
            self._vpc_index = dict(index)
        out: list[Vpc] = []
        for (version, shift), bucket in self._vpc_index.items():
            if version == addr.version:
                out.extend(bucket.get(addr.value >> shift, ()))
        return sorted({v.vpc_id: v for v in out}.values(), key=lambda v: v.vpc_id)

    def compiled(self, table: RouteTable) -> CompiledTable:
        """The table compiled for lookups (once per table, on first use)."""
        hit = self._compiled.get(table.route_table_id)
        if hit is None:
            hit = self._compile(table)
            self._compiled[table.route_table_id] = hit
        return hit

    def _compile(self, table: RouteTable) -> CompiledTable:
        entries: list[tuple[Bits, Any, Route]] = []
        expanded: list[tuple[Bits, Any, Route]] = []
        propagated: list[tuple[Bits, Any, Route]] = []
        services: dict[str, Route] = {}
        unread: list[str] = []
        for r in table.routes:
            if r.destination.startswith("pl-"):
                pl = self.prefix_lists.get(r.destination)
                if pl is None or (pl.cidrs is None and pl.owner_id != "AWS"):
                    unread.append(r.destination)
                    continue
                if pl.cidrs is None:
                    services.setdefault(pl.name, r)
                else:
                    expanded.extend((bits(c), c, r) for c in pl.cidrs)
                continue
            hit = text_bits(r.destination)
            if hit is None:
                continue
            entry = (hit[0], hit[1], r)
            (propagated if r.origin == "EnableVgwRoutePropagation" else entries).append(entry)
        # For one prefix, a static CIDR route beats a prefix-list route, which beats a
        # propagated one (AWS's route priority).
        lpm = Lpm.from_bits([*entries, *expanded, *propagated])
        return CompiledTable(table, lpm, services, tuple(unread))

    def compiled_tgw(self, table: TgwRouteTable) -> CompiledTgwTable:
        """A Transit Gateway route table compiled for lookups."""
        hit = self._compiled_tgw.get(table.route_table_id)
        if hit is None:
            entries: list[tuple[Any, TgwRoute]] = []
            propagated: list[tuple[Any, TgwRoute]] = []
            for r in table.routes:
                nets = []
                if r.destination.startswith("pl-"):
                    pl = self.prefix_lists.get(r.destination)
                    nets = list(pl.cidrs or ()) if pl is not None else []
                else:
                    n = parse_network(r.destination)
                    nets = [n] if n is not None else []
                # Static routes take priority over propagated ones for the same prefix.
                (propagated if r.route_type == "propagated" else entries).extend(
                    (n, r) for n in nets
                )
            hit = CompiledTgwTable(table, Lpm([*entries, *propagated]))
            self._compiled_tgw[table.route_table_id] = hit
        return hit

    def attachment(self, attachment_id: str, tgw_id: str) -> TgwAttachment | None:
        """A TGW attachment as seen from one TGW (a peering attachment has two sides)."""
        return self.attachments.get((attachment_id, tgw_id))


# Attachments that carry traffic (a modifying one keeps forwarding while it changes).
_LIVE_ATTACHMENT = frozenset({"available", "modifying"})


def _attachment_rank(a: TgwAttachment) -> tuple[bool, str, str, str]:
    # The TGW owner's copy first: it is the one whose association was read from the tables.
    return (
        a.account_id != (a.tgw_owner_id or a.account_id),
        a.account_id,
        a.region,
        a.attachment_id,
    )
