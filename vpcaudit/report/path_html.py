"""A `vpcaudit path` answer as one self-contained HTML page: the verdict, why, the fix, and
the path drawn hop by hop (the same embedded graph library as the report)."""

from __future__ import annotations

from typing import Any

from vpcaudit import __version__
from vpcaudit.network import CODES, Hop, PathAnswer
from vpcaudit.report.html_assets import environment, page_assets, script_json

TEMPLATE = "path.html.j2"
SCRIPTS = ("common.js", "path.js")


def _hop(h: Hop, direction: str) -> dict[str, Any]:
    return {**h.to_dict(), "direction": direction}


def path_graph(answer: PathAnswer) -> dict[str, Any]:
    """Nodes (source, every hop's component, destination) and the steps between them."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []

    def node(key: str, kind: str, label: str) -> str:
        nodes.setdefault(key, {"id": key, "kind": kind, "label": label})
        return key

    def step(a: str, b: str, label: str, state: str) -> None:
        edges.append(
            {
                "id": f"e{len(edges)}",
                "source": a,
                "target": b,
                "label": label,
                "state": state,
                "kind": "step",
            }
        )

    prev = node("source", "endpoint-of-path", f"source\n{answer.source}")
    for h in answer.forward:
        c = h.component
        cur = node(f"{c.kind}:{c.id}", c.kind, f"{c.kind}\n{c.id}")
        step(prev, cur, h.action, "ok")
        prev = cur
    blocked = answer.blocking is not None and bool(answer.code)
    if blocked and answer.direction == "forward" and answer.blocking is not None:
        b = answer.blocking
        blk = node(f"{b.kind}:{b.id}", b.kind, f"{b.kind}\n{b.id}")
        nodes[blk]["severity"] = "high"
        step(prev, blk, answer.code, "one-way")
        return {"nodes": list(nodes.values()), "edges": edges}
    dst = node("destination", "endpoint-of-path", f"destination\n{answer.destination}")
    if prev != dst:
        step(prev, dst, "", "ok" if not answer.code else "unverifiable")
    prev = dst
    for h in answer.return_path:
        c = h.component
        cur = node(f"{c.kind}:{c.id}", c.kind, f"{c.kind}\n{c.id}")
        step(prev, cur, h.action, "pending")
        prev = cur
    if blocked and answer.blocking is not None:
        b = answer.blocking
        blk = node(f"{b.kind}:{b.id}", b.kind, f"{b.kind}\n{b.id}")
        nodes[blk]["severity"] = "high"
        step(prev, blk, answer.code + " (reply)", "one-way")
    return {"nodes": list(nodes.values()), "edges": edges}


def render(answer: PathAnswer) -> str:
    """The answer as an HTML page."""
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            answer=answer,
            version=__version__,
            code_meaning=CODES[answer.code][1] if answer.code in CODES else "",
            forward=[_hop(h, "forward") for h in answer.forward],
            back=[_hop(h, "return") for h in answer.return_path],
            payload=script_json({"graph": path_graph(answer)}),
            **page_assets(*SCRIPTS),
        )
    )
