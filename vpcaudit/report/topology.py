"""The peering topology a Markdown report draws: VPCs as nodes, peerings as edges."""

from __future__ import annotations

from dataclasses import dataclass

from vpcaudit.evaluate import Evaluation
from vpcaudit.inventory import Inventory

ONE_WAY_RULE = "peering-route-one-way"


@dataclass(frozen=True)
class VpcNode:
    """A VPC in the picture (scanned, or only known as the far side of a peering)."""

    account_id: str
    region: str
    vpc_id: str
    name: str
    cidrs: tuple[str, ...]
    scanned: bool


@dataclass(frozen=True)
class PeeringEdge:
    """A peering between two VPCs and how it stands."""

    peering_id: str
    requester: str
    accepter: str
    status: str
    state: str
    """ok, one-way, pending, blackhole, unverifiable or the AWS status (deleted, ...)."""


@dataclass(frozen=True)
class Topology:
    """Nodes and edges, sorted, so the drawing is stable."""

    nodes: tuple[VpcNode, ...] = ()
    edges: tuple[PeeringEdge, ...] = ()


def build_topology(inv: Inventory, evaluation: Evaluation) -> Topology:
    """Collect the VPCs and peerings, marking one-way, pending and blackholed peerings."""
    one_way = {f.resource.resource_id for f in evaluation.findings if f.rule_id == ONE_WAY_RULE}
    unverified = {
        u.item.resource.resource_id for u in evaluation.unverified if u.rule_id == ONE_WAY_RULE
    }
    nodes: dict[str, VpcNode] = {}
    for v in inv.vpcs:
        if v.vpc_id not in nodes or v.account_id == v.owner_id:
            nodes[v.vpc_id] = VpcNode(
                v.owner_id, v.region, v.vpc_id, v.name, tuple(str(c) for c in v.cidrs), True
            )
    edges = []
    for p in inv.peerings:
        for side in (p.requester, p.accepter):
            if side.vpc_id not in nodes:
                nodes[side.vpc_id] = VpcNode(
                    side.owner_id,
                    side.region,
                    side.vpc_id,
                    "",
                    tuple(str(c) for c in side.cidrs),
                    False,
                )
        blackhole = any(r.state == "blackhole" for _, r in inv.routes_to(p.peering_id))
        if blackhole:
            state = "blackhole"
        elif p.peering_id in one_way:
            state = "one-way"
        elif p.status == "pending-acceptance":
            state = "pending"
        elif p.peering_id in unverified:
            state = "unverifiable"
        elif p.status == "active":
            state = "ok"
        else:
            state = p.status
        edges.append(
            PeeringEdge(p.peering_id, p.requester.vpc_id, p.accepter.vpc_id, p.status, state)
        )
    return Topology(
        tuple(sorted(nodes.values(), key=lambda n: (n.account_id, n.region, n.vpc_id))),
        tuple(sorted(edges, key=lambda e: e.peering_id)),
    )
