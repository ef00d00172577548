"""The peering topology a Markdown report draws (VPCs as nodes, peerings as edges) and its
Mermaid writer, which escapes every name and id it draws (see mdescape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from vpcaudit.evaluate import Evaluation
from vpcaudit.inventory import Inventory, net_text
from vpcaudit.quickinit import quick_init
from vpcaudit.report.mdescape import mermaid_id, mermaid_label

ONE_WAY_RULE = "peering-route-one-way"


@quick_init
@dataclass(frozen=True)
class VpcNode:
    """A VPC in the picture (scanned, or only known as the far side of a peering)."""

    account_id: str
    region: str
    vpc_id: str
    name: str
    cidrs: tuple[str, ...]
    scanned: bool


@quick_init
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
                v.owner_id, v.region, v.vpc_id, v.name, tuple(net_text(c) for c in v.cidrs), True
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
                    tuple(net_text(c) for c in side.cidrs),
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


# -- the Mermaid writer -------------------------------------------------------------------------

MAX_DIAGRAM_NODES = 80
EDGE_STYLE = {
    "one-way": "stroke:#d73a49,stroke-width:3px",
    "blackhole": "stroke:#000000,stroke-width:3px,stroke-dasharray:2 4",
    "pending": "stroke:#e36209,stroke-width:2px,stroke-dasharray:6 4",
    "unverifiable": "stroke:#6a737d,stroke-dasharray:3 3",
}
_PROBLEM_ORDER = {"blackhole": 0, "one-way": 1, "pending": 2, "unverifiable": 3}


@dataclass(frozen=True)
class Drawing:
    """A Mermaid flowchart block and what it left out."""

    mermaid: str
    """The ```mermaid fenced block."""
    left_out: int
    """Peerings not drawn to stay within MAX_DIAGRAM_NODES."""
    unpeered: int
    """VPCs without peerings (not drawn)."""


def node_id(vpc_id: str) -> str:
    """The Mermaid id of a VPC's node: [A-Za-z0-9_] only, one per VPC id."""
    return "v_" + mermaid_id(vpc_id)


def _pick(topology: Topology) -> tuple[list[VpcNode], list[PeeringEdge], int, int]:
    """Peered VPCs and their edges, problems first, within the node cap."""
    edges = sorted(topology.edges, key=lambda e: (_PROBLEM_ORDER.get(e.state, 9), e.peering_id))
    nodes = {n.vpc_id: n for n in topology.nodes}
    chosen: dict[str, VpcNode] = {}
    drawn: list[PeeringEdge] = []
    for e in edges:
        new = {v for v in (e.requester, e.accepter) if v not in chosen}
        if len(chosen) + len(new) > MAX_DIAGRAM_NODES:
            continue
        for v in sorted(new):
            chosen[v] = nodes[v]
        drawn.append(e)
    unpeered = len(nodes) - len({v for e in topology.edges for v in (e.requester, e.accepter)})
    return list(chosen.values()), drawn, len(topology.edges) - len(drawn), unpeered


def _owner(account_names: Mapping[str, str], account_id: str) -> str:
    name = account_names.get(account_id, "")
    return f"{name} ({account_id})" if name else account_id


def _node_label(*parts: str) -> str:
    # Each part is escaped on its own: the <br/> between them is the only markup in a label.
    return "<br/>".join(mermaid_label(p) for p in parts if p)


def draw_peerings(topology: Topology, account_names: Mapping[str, str]) -> Drawing:
    """The peering flowchart: VPCs grouped by account and region, problem peerings styled."""
    nodes, edges, left_out, unpeered = _pick(topology)
    out = ["```mermaid", "flowchart LR"]
    key = lambda n: (n.account_id, n.region)  # noqa: E731 - a sort and group key
    for i, ((acct, region), group) in enumerate(groupby(sorted(nodes, key=key), key=key)):
        members = list(group)
        scanned = any(n.scanned for n in members)
        title = f"{_owner(account_names, acct)} {region}" + ("" if scanned else " (not scanned)")
        # The index keeps subgraph ids apart whatever the account and region strings hold.
        out.append(f'  subgraph g{i}_{mermaid_id(acct + "-" + region)}["{mermaid_label(title)}"]')
        for n in members:
            label = _node_label(n.name, n.vpc_id, ", ".join(n.cidrs))
            out.append(f'    {node_id(n.vpc_id)}["{label}"]')
        out.append("  end")
    styles = []
    for i, e in enumerate(edges):
        arrow = "---" if e.state in ("ok", "one-way", "blackhole") else "-.-"
        label = e.peering_id if e.state == "ok" else f"{e.peering_id} {e.state}"
        out.append(
            f'  {node_id(e.requester)} {arrow}|"{mermaid_label(label)}"| {node_id(e.accepter)}'
        )
        if e.state in EDGE_STYLE:
            styles.append(f"  linkStyle {i} {EDGE_STYLE[e.state]}")
    out.extend(styles)
    out.append("```")
    return Drawing("\n".join(out), left_out, unpeered)


def draw_group(topology: Topology, members: Sequence[str]) -> str:
    """A group of VPCs (a mesh the advisor spoke about) and the active peerings among them."""
    names = {n.vpc_id: n.name for n in topology.nodes}
    inside = set(members)
    out = ["```mermaid", "flowchart LR"]
    out.extend(f'  {node_id(v)}["{_node_label(names.get(v, ""), v)}"]' for v in members)
    out.extend(
        f"  {node_id(e.requester)} --- {node_id(e.accepter)}"
        for e in topology.edges
        if e.status == "active" and e.requester in inside and e.accepter in inside
    )
    out.append("```")
    return "\n".join(out)
