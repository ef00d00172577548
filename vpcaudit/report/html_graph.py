"""The HTML report's topology: cytoscape.js elements grouped account > region, with the
findings drawn on the VPCs, endpoints, Transit Gateways, peerings and attachments they concern.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Severity
from vpcaudit.report import ReportData

COLLAPSE_ABOVE_VPCS = 120
"""Above this many VPCs, the regions with nothing wrong start collapsed."""
_ATTACHMENT_STATES = {
    "available": "ok",
    "pendingAcceptance": "pending",
    "pending": "pending",
    "initiating": "pending",
    "initiatingRequest": "pending",
    "modifying": "pending",
}


def _account_label(data: ReportData, account_id: str) -> str:
    name = data.account_names.get(account_id, "")
    return f"{name} ({account_id})" if name else account_id or "unknown account"


class _Builder:
    """Collects nodes and edges once each, creating account and region groups on demand."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, dict[str, Any]] = {}

    def group(self, account_id: str, region: str) -> str:
        acct = f"account:{account_id}"
        if acct not in self.nodes:
            scanned = account_id in self.data.accounts
            label = _account_label(self.data, account_id) + ("" if scanned else " (not scanned)")
            self.nodes[acct] = {"id": acct, "kind": "account", "label": label}
        reg = f"region:{account_id}:{region}"
        if reg not in self.nodes:
            self.nodes[reg] = {"id": reg, "kind": "region", "label": region, "parent": acct}
        return reg

    def node(self, node_id: str, kind: str, account_id: str, region: str, **extra: Any) -> None:
        if node_id in self.nodes:
            return
        self.nodes[node_id] = {
            "id": node_id,
            "kind": kind,
            "parent": extra.pop("parent", None) or self.group(account_id, region),
            "account": account_id,
            "region": region,
            **extra,
        }

    def edge(self, edge_id: str, kind: str, source: str, target: str, **extra: Any) -> None:
        if edge_id not in self.edges and source in self.nodes and target in self.nodes:
            self.edges[edge_id] = {
                "id": edge_id,
                "kind": kind,
                "source": source,
                "target": target,
                **extra,
            }


def _label(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def _add_vpcs_and_peerings(b: _Builder, data: ReportData) -> None:
    for n in data.topology.nodes:
        b.node(
            n.vpc_id,
            "vpc",
            n.account_id,
            n.region,
            label=_label(n.name, n.vpc_id, ", ".join(n.cidrs)),
            name=n.name,
            cidrs=list(n.cidrs),
            scanned=n.scanned,
        )
    for e in data.topology.edges:
        b.edge(
            e.peering_id,
            "peering",
            e.requester,
            e.accepter,
            label=e.peering_id if e.state == "ok" else f"{e.peering_id} ({e.state})",
            state=e.state,
            status=e.status,
        )


def _add_network(b: _Builder, inv: Inventory) -> None:
    """Endpoints inside their VPCs, Transit Gateways in their regions, attachments as edges."""
    for ep in inv.endpoints:
        if ep.vpc_id in b.nodes:
            service = ep.service_name.rsplit(".", 1)[-1]
            b.node(
                ep.endpoint_id,
                "endpoint",
                ep.account_id,
                ep.region,
                parent=ep.vpc_id,
                label=_label(f"{service} ({ep.endpoint_type.lower()})", ep.endpoint_id),
                endpoint_type=ep.endpoint_type.lower(),
                service=ep.service_name,
                state=ep.state,
            )
    for t in inv.transit_gateways:
        name = dict(t.tags).get("Name", "")
        b.node(t.tgw_id, "tgw", t.owner_id or t.account_id, t.region, label=_label(name, t.tgw_id))
    for a in sorted(inv.tgw_attachments, key=lambda x: x.attachment_id):
        owner = a.tgw_owner_id or a.account_id
        b.node(a.transit_gateway_id, "tgw", owner, a.region, label=a.transit_gateway_id)
        state = _ATTACHMENT_STATES.get(a.state, "broken")
        if a.resource_type == "peering" and a.peer_tgw_id:
            peer = a.peer_tgw_id
            b.node(peer, "tgw", a.peer_account_id or owner, a.peer_region or a.region, label=peer)
        elif a.resource_type == "vpc":
            peer = a.resource_id
            # A VPC of an account that was not scanned, attached to a scanned TGW.
            b.node(
                peer,
                "vpc",
                a.resource_owner_id or owner,
                a.region,
                label=peer,
                name="",
                cidrs=[],
                scanned=False,
            )
        else:
            peer = f"{a.resource_type}:{a.resource_id}"
            b.node(
                peer,
                "external",
                a.resource_owner_id or owner,
                a.region,
                label=_label(a.resource_type, a.resource_id),
            )
        b.edge(
            a.attachment_id,
            "attachment",
            peer,
            a.transit_gateway_id,
            label=a.attachment_id if state == "ok" else f"{a.attachment_id} ({a.state})",
            state=state,
            status=a.state,
        )


def _owners(inv: Inventory) -> dict[str, str]:
    """Resource id -> the drawn element its findings belong on (a VPC or a Transit Gateway)."""
    out: dict[str, str] = {}
    for r in inv.route_tables:
        out[r.route_table_id] = r.vpc_id
    for s in inv.subnets:
        out[s.subnet_id] = s.vpc_id
    for g in inv.security_groups:
        out[g.group_id] = g.vpc_id
    for n in inv.nat_gateways:
        out[n.nat_gateway_id] = n.vpc_id
    for i in inv.network_interfaces:
        out[i.eni_id] = i.vpc_id
    for t in inv.tgw_route_tables:
        out[t.route_table_id] = t.tgw_id
    for f in inv.flow_logs:
        out[f.flow_log_id] = out.get(f.resource_id, f.resource_id)
    return out


def _mark(b: _Builder, findings: Iterable[Finding], owners: dict[str, str]) -> None:
    """Put each live finding on its element, and the element's worst severity beside it."""
    for f in findings:
        if f.suppressed:
            continue
        rid = f.resource.resource_id
        target = b.nodes.get(rid) or b.edges.get(rid) or b.nodes.get(owners.get(rid, ""))
        if target is None:
            continue
        target.setdefault("findings", []).append(f.fingerprint)
        worst = target.get("severity")
        if worst is None or f.severity.rank > Severity(worst).rank:
            target["severity"] = f.severity.value


def _groups(b: _Builder) -> list[dict[str, Any]]:
    """Per account and region: how many VPCs and findings, and whether it starts collapsed."""
    vpcs: dict[str, int] = defaultdict(int)
    problems: dict[str, int] = defaultdict(int)
    for n in b.nodes.values():
        if n["kind"] in ("account", "region"):
            continue
        region = n["parent"] if n["kind"] != "endpoint" else b.nodes[n["parent"]]["parent"]
        vpcs[region] += n["kind"] == "vpc"
        problems[region] += len(n.get("findings", []))
    for e in b.edges.values():
        for end in (e["source"], e["target"]):
            node = b.nodes[end]
            region = node["parent"] if node["kind"] != "endpoint" else ""
            problems[region] += len(e.get("findings", [])) + (e["state"] != "ok")
    many = sum(vpcs.values()) > COLLAPSE_ABOVE_VPCS
    return [
        {
            "id": n["id"],
            "kind": n["kind"],
            "label": n["label"],
            "parent": n.get("parent"),
            "vpcs": vpcs[n["id"]],
            "problems": problems[n["id"]],
            "collapsed": many and n["kind"] == "region" and not problems[n["id"]],
        }
        for n in b.nodes.values()
        if n["kind"] in ("account", "region")
    ]


def build_graph(data: ReportData) -> dict[str, Any]:
    """The picture's data: cytoscape elements (nodes before edges) and the groups."""
    b = _Builder(data)
    _add_vpcs_and_peerings(b, data)
    inv = data.inventory
    if inv is not None:
        _add_network(b, inv)
    _mark(b, data.evaluation.findings, _owners(inv) if inv is not None else {})
    nodes = sorted(b.nodes.values(), key=lambda n: n["id"])
    edges = sorted(b.edges.values(), key=lambda e: e["id"])
    return {
        "nodes": [{k: v for k, v in n.items() if v is not None} for n in nodes],
        "edges": edges,
        "groups": sorted(_groups(b), key=lambda g: g["id"]),
    }
