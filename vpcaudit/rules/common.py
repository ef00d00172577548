"""Small helpers the rule modules share: resource references and evidence shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpcaudit.awscli import ask, cli, destination_flag, dq, note, q, words
from vpcaudit.inventory import (
    Endpoint,
    FlowLog,
    Inventory,
    Network,
    Peering,
    PeeringSide,
    RouteTable,
    Vpc,
    ec2_arn,
    net_text,
)
from vpcaudit.model import ResourceRef
from vpcaudit.network import NetworkModel

__all__ = ["ask", "cli", "destination_flag", "dq", "note", "q", "words"]


def cidr_strs(cidrs: tuple[Network, ...]) -> list[str]:
    """CIDR blocks as strings, IPv4 first."""
    return [net_text(c) for c in cidrs]


def sorted_tags(tags: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Tags as a sorted tuple of pairs (hashable, stable)."""
    return tuple(sorted(tags.items()))


def vpc_label(vpc: Vpc) -> str:
    """ "VPC vpc-... (name)", or "Default VPC ..." for the VPC AWS creates in each region (a
    reader treats it differently: often unused, and deleted rather than fixed)."""
    name = f" ({vpc.name})" if vpc.name else ""
    return f"{'Default VPC' if vpc.is_default else 'VPC'} {vpc.vpc_id}{name}"


def vpc_ref(vpc: Vpc) -> ResourceRef:
    """The finding location of a VPC: its owner's account."""
    return ResourceRef(vpc.owner_id, vpc.region, "vpc", vpc.vpc_id, vpc.arn, sorted_tags(vpc.tags))


def endpoint_ref(ep: Endpoint) -> ResourceRef:
    """The finding location of a VPC endpoint."""
    return ResourceRef(
        ep.account_id, ep.region, "vpc-endpoint", ep.endpoint_id, ep.arn, sorted_tags(ep.tags)
    )


GONE_STATES = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})
"""Endpoint states in which an endpoint carries nothing and never will again."""


def endpoint_live(ep: Endpoint) -> bool:
    """Whether the endpoint is not gone (deleted, rejected, failed, expired)."""
    return ep.state not in GONE_STATES


def peering_ref(p: Peering, side: PeeringSide) -> ResourceRef:
    """A peering connection located on one of its sides (account and region)."""
    return ResourceRef(
        side.owner_id,
        side.region,
        "vpc-peering-connection",
        p.peering_id,
        p.arn_in(side.owner_id, side.region),
        sorted_tags(p.tags),
    )


def side_evidence(inv: Inventory, side: PeeringSide) -> dict[str, Any]:
    """Describe one side of a peering for evidence: account, region, VPC, CIDRs, scope."""
    vpc = inv.vpc(side.vpc_id)
    member = inv.is_org_member(side.owner_id)
    return {
        "account_id": side.owner_id,
        "account_name": inv.account_names.get(side.owner_id, ""),
        "region": side.region,
        "vpc_id": side.vpc_id,
        "vpc_name": vpc.name if vpc else "",
        "cidrs": cidr_strs(side.cidrs),
        "scanned": side.owner_id in inv.scanned_accounts,
        "in_organization": member,
    }


def route_table_ref(t: RouteTable) -> ResourceRef:
    """The finding location of a route table: its owner's account."""
    return ResourceRef(t.owner_id, t.region, "route-table", t.route_table_id, t.arn)


def flow_log_ref(f: FlowLog) -> ResourceRef:
    """The finding location of a flow log."""
    arn = ec2_arn(f.region, f.account_id, "vpc-flow-log", f.flow_log_id)
    return ResourceRef(f.account_id, f.region, "vpc-flow-log", f.flow_log_id, arn)


def network_of(inv: Inventory) -> NetworkModel:
    """The inventory's network model, built once and shared by every rule that asks it."""
    # Memoised: building the indexes walks every item, and compiled route tables are cached
    # inside the model, so every rule must ask the same one.
    memo: dict[str, NetworkModel] = inv.memo("rules.network_model")
    model = memo.get("model")
    if model is None:
        model = memo["model"] = NetworkModel(inv)
    return model


def peer_cidrs(inv: Inventory, side: PeeringSide) -> tuple[Network, ...]:
    """A peering side's CIDRs: what the peering reports, plus the VPC's own when scanned."""
    # Memoised on the inventory: several rules ask for every route and peering.
    cache: dict[tuple[str, tuple[Network, ...]], tuple[Network, ...]] = inv.memo("peer_cidrs")
    key = (side.vpc_id, side.cidrs)
    if key not in cache:
        vpc = inv.vpc(side.vpc_id)
        cache[key] = tuple(sorted(set(side.cidrs) | set(vpc.cidrs if vpc else ()), key=_net_key))
    return cache[key]


def _net_key(n: Network) -> tuple[int, int, int]:
    return (n.version, int(n.network_address), n.prefixlen)
