"""Render a `path` answer: a terminal table, JSON (documented schema) or a Mermaid diagram."""

from __future__ import annotations

import json
import re

from tabulate import tabulate

from vpcaudit.network import Hop, PathAnswer

PATH_SCHEMA_VERSION = 1
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def _clean(text: str) -> str:
    """Terminal-safe text: control characters (escape sequences) shown, not obeyed."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render_json(answer: PathAnswer) -> str:
    """The answer as JSON: {"schema_version", "kind": "vpcaudit-path", ...answer}."""
    doc = {"kind": "vpcaudit-path", "schema_version": PATH_SCHEMA_VERSION, **answer.to_dict()}
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def _hops(hops: tuple[Hop, ...]) -> str:
    rows = [
        [
            i,
            h.component.kind,
            _clean(h.component.id),
            h.component.account_id,
            h.component.region,
            _clean(h.action),
        ]
        for i, h in enumerate(hops, start=1)
    ]
    return tabulate(rows, headers=["#", "component", "id", "account", "region", "what"])


def render_table(answer: PathAnswer) -> str:
    """The answer for a terminal: verdict and reason first, then the hops both ways."""
    proto = answer.protocol + (f"/{answer.port}" if answer.port is not None else "")
    lines = [
        f"{_clean(answer.source)} ({answer.source_address}) -> {_clean(answer.destination)} "
        f"({answer.destination_address}), {proto}",
        f"verdict: {answer.verdict.value.upper()}"
        + (f"  [{answer.code}, {answer.direction} path]" if answer.code else ""),
    ]
    if answer.blocking is not None:
        b = answer.blocking
        where = " ".join(x for x in (b.account_id, b.region) if x)
        rule = f" rule {b.rule}" if b.rule else ""
        lines.append(
            f"blocked at: {b.kind} {_clean(b.id)}{rule}" + (f" ({where})" if where else "")
        )
    if answer.explanation and answer.code:
        lines.append(f"why: {_clean(answer.explanation)}")
    if answer.fix:
        lines.append(f"fix: {_clean(answer.fix)}")
    lines += ["", "forward path:", _hops(answer.forward) if answer.forward else "  (none)"]
    if answer.return_path or answer.direction == "return" or not answer.code:
        lines += [
            "",
            "return path:",
            _hops(answer.return_path) if answer.return_path else "  (none)",
        ]
    if answer.notes:
        lines += ["", "notes:", *(f"- {_clean(n)}" for n in answer.notes)]
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    # Mermaid entity codes keep quotes, brackets and pipes inside a label from closing it.
    return "".join(f"#{ord(c)};" if c in '"[]{}()<>|#;`' or ord(c) < 32 else c for c in text)


def render_mermaid(answer: PathAnswer) -> str:
    """The path as a Mermaid flowchart: forward hops, the block (red) and the reply hops."""
    lines = ["```mermaid", "flowchart LR"]
    nodes: dict[str, str] = {}

    def node(key: str, label: str) -> str:
        if key not in nodes:
            nodes[key] = f"n{len(nodes)}"
            lines.append(f'  {nodes[key]}["{_mermaid_label(label)}"]')
        return nodes[key]

    prev = node("src", f"source: {answer.source}")
    for h in answer.forward:
        cur = node(f"{h.component.kind}:{h.component.id}", f"{h.component.kind}: {h.component.id}")
        lines.append(f'  {prev} -->|"{_mermaid_label(h.action)}"| {cur}')
        prev = cur
    if answer.code and answer.direction == "forward" and answer.blocking is not None:
        b = answer.blocking
        blk = node(f"{b.kind}:{b.id}", f"{b.kind}: {b.id}")
        lines.append(f'  {prev} -.-x|"{_mermaid_label(answer.code)}"| {blk}')
        lines.append(f"  style {blk} fill:#fdd,stroke:#c00")
    else:
        dst = node("dst", f"destination: {answer.destination}")
        if prev != dst:
            lines.append(f"  {prev} --> {dst}")
        prev = dst
        for h in answer.return_path:
            cur = node(
                f"{h.component.kind}:{h.component.id}", f"{h.component.kind}: {h.component.id}"
            )
            lines.append(f'  {prev} -.->|"{_mermaid_label(h.action)}"| {cur}')
            prev = cur
        if answer.code and answer.blocking is not None:
            b = answer.blocking
            blk = node(f"{b.kind}:{b.id}", f"{b.kind}: {b.id}")
            lines.append(f'  {prev} -.-x|"{_mermaid_label(answer.code + " (reply)")}"| {blk}')
            lines.append(f"  style {blk} fill:#fdd,stroke:#c00")
    lines.append("```")
    return "\n".join(lines) + "\n"


RENDERERS = {"table": render_table, "json": render_json, "mermaid": render_mermaid}
