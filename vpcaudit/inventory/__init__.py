"""Typed, frozen models of the raw API items, with the indexes the rules need.

`Inventory.from_snapshot` is the one place where raw boto3 dicts are read (through
`inventory.build`); rules only ever see the models of `inventory.models`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vpcaudit.errors import SnapshotError
from vpcaudit.inventory.build import build_fields
from vpcaudit.inventory.models import (
    KIND_OPERATIONS,
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
    ec2_arn,
    net_text,
    parse_network,
    parse_time,
    partition_of,
)
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
from vpcaudit.model import Gap
from vpcaudit.runtime import without_cyclic_gc
from vpcaudit.snapshot import Snapshot

__all__ = [
    "ALL_PROTOCOLS",
    "KIND_OPERATIONS",
    "EgressOnlyIgw",
    "ElasticIp",
    "Endpoint",
    "FlowLog",
    "InternetGateway",
    "Inventory",
    "Located",
    "NaclEntry",
    "NatGateway",
    "Network",
    "NetworkAcl",
    "NetworkInterface",
    "Peering",
    "PeeringSide",
    "PrefixList",
    "Route",
    "RouteTable",
    "SecurityGroup",
    "SgRule",
    "Subnet",
    "TgwAttachment",
    "TgwRoute",
    "TgwRouteTable",
    "TransitGateway",
    "Vpc",
    "VpnConnection",
    "VpnGateway",
    "ec2_arn",
    "net_text",
    "parse_network",
    "parse_time",
    "partition_of",
]


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
    network_acls: tuple[NetworkAcl, ...] = ()
    network_interfaces: tuple[NetworkInterface, ...] = ()
    transit_gateways: tuple[TransitGateway, ...] = ()
    tgw_route_tables: tuple[TgwRouteTable, ...] = ()
    egress_only_igws: tuple[EgressOnlyIgw, ...] = ()
    vpn_connections: tuple[VpnConnection, ...] = ()
    elastic_ips: tuple[ElasticIp, ...] = ()
    prefix_lists: tuple[PrefixList, ...] = ()
    _failed: frozenset[tuple[str, str, str]] = field(repr=False, default=frozenset())
    _kinds: Mapping[tuple[str, str], frozenset[str]] = field(repr=False, default_factory=dict)
    """The resource kinds present for each (account, region)."""
    _index: dict[str, Any] = field(repr=False, default_factory=dict, compare=False)

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> Inventory:
        """Build the typed inventory from a snapshot's raw items."""
        # Building allocates hundreds of thousands of frozen models and no reference cycles:
        # the cyclic collector's passes meanwhile are pure cost (0.8 s of 2 s for 10,000 VPCs).
        try:
            with without_cyclic_gc():
                return cls(**build_fields(snap))
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
        return index.get(vpc_id, ())  # type: ignore[no-any-return]

    def route_tables_of(self, vpc_id: str) -> tuple[RouteTable, ...]:
        """The route tables of a VPC."""
        index = self._cached("rts", lambda: _group(self.route_tables, lambda t: t.vpc_id))
        return index.get(vpc_id, ())  # type: ignore[no-any-return]

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

        def build() -> dict[str, tuple[Any, ...]]:
            out: dict[str, list[tuple[RouteTable, Route]]] = defaultdict(list)
            for t in self.route_tables:
                for r in t.routes:
                    if r.target_id:
                        out[r.target_id].append((t, r))
            return _frozen(out)

        index = self._cached("routes_to", build)
        return index.get(target_id, ())  # type: ignore[no-any-return]

    def endpoints_of(self, vpc_id: str) -> tuple[Endpoint, ...]:
        """The endpoints in a VPC."""
        index = self._cached("eps", lambda: _group(self.endpoints, lambda e: e.vpc_id))
        return index.get(vpc_id, ())  # type: ignore[no-any-return]

    def flow_logs_for(self, resource_id: str) -> tuple[FlowLog, ...]:
        """Flow logs whose resource is resource_id (a VPC, subnet or ENI id)."""
        index = self._cached("fl", lambda: _group(self.flow_logs, lambda f: f.resource_id))
        return index.get(resource_id, ())  # type: ignore[no-any-return]

    def peerings_of(self, vpc_id: str) -> tuple[Peering, ...]:
        """Peering connections in which vpc_id is either side."""

        def build() -> dict[str, tuple[Any, ...]]:
            out: dict[str, list[Peering]] = defaultdict(list)
            for p in self.peerings:
                out[p.requester.vpc_id].append(p)
                if p.accepter.vpc_id != p.requester.vpc_id:
                    out[p.accepter.vpc_id].append(p)
            return _frozen(out)

        index = self._cached("peerings_of", build)
        return index.get(vpc_id, ())  # type: ignore[no-any-return]

    def vpn_gateways_of(self, vpc_id: str) -> tuple[VpnGateway, ...]:
        """Virtual private gateways attached to the VPC."""

        def build() -> dict[str, tuple[Any, ...]]:
            out: dict[str, list[VpnGateway]] = defaultdict(list)
            for g in self.vpn_gateways:
                for v in g.attached_vpc_ids:
                    out[v].append(g)
            return _frozen(out)

        index = self._cached("vgw", build)
        return index.get(vpc_id, ())  # type: ignore[no-any-return]

    def tgw_attachments_of(self, vpc_id: str) -> tuple[TgwAttachment, ...]:
        """Transit Gateway attachments whose resource is the VPC."""
        index = self._cached(
            "tgwa",
            lambda: _group(
                (a for a in self.tgw_attachments if a.resource_type == "vpc"),
                lambda a: a.resource_id,
            ),
        )
        return index.get(vpc_id, ())  # type: ignore[no-any-return]

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


def _group(items: Iterable[Any], key: Any) -> dict[str, tuple[Any, ...]]:
    """Items by key, each group a tuple: the accessors hand it out as it is, not a copy per
    call (rules ask for a VPC's subnets and logs 100,000 times in a large organization)."""
    out: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return _frozen(out)


def _frozen(groups: Mapping[str, list[Any]]) -> dict[str, tuple[Any, ...]]:
    return {k: tuple(v) for k, v in groups.items()}


def _vpcs_by_id(vpcs: Iterable[Vpc]) -> dict[str, Vpc]:
    out: dict[str, Vpc] = {}
    for v in vpcs:
        if v.vpc_id not in out or v.account_id == v.owner_id:
            out[v.vpc_id] = v
    return out
