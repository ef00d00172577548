"""Render a `path` answer: a terminal table, JSON (documented schema) or a Mermaid diagram."""

from __future__ import annotations

import json
import shutil
import textwrap

from tabulate import tabulate

from vpcaudit.network import Hop, PathAnswer
from vpcaudit.report.mdescape import mermaid_label
from vpcaudit.termtext import safe

PATH_SCHEMA_VERSION = 1


def _clean(text: str) -> str:
    """Terminal-safe text: control characters (C0, C1, bidi overrides) shown, not obeyed."""
    return safe(text)


def render_json(answer: PathAnswer) -> str:
    """The answer as JSON: {"schema_version", "kind": "vpcaudit-path", ...answer}."""
    doc = {"kind": "vpcaudit-path", "schema_version": PATH_SCHEMA_VERSION, **answer.to_dict()}
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


WIDE = 120
"""Below this many columns the hops are stacked, one per line, instead of a table."""


def width() -> int:
    """The terminal's width (COLUMNS wins; 120 when not a terminal)."""
    return shutil.get_terminal_size((WIDE, 24)).columns


def _wrap(label: str, text: str, cols: int) -> list[str]:
    return textwrap.wrap(
        text, cols, initial_indent=label, subsequent_indent="    ", break_on_hyphens=False
    ) or [label]


def shell_lines(command: str, cols: int) -> list[str]:
    """A command broken at spaces with trailing backslashes, so it still pastes into a shell;
    a trailing "# comment" goes on its own line."""
    cmd, sep, comment = command.partition("  # ")
    out: list[str] = []
    line = "  "
    for word in cmd.split(" "):
        if len(line) + 1 + len(word) + 2 > cols and line.strip():
            out.append(line + " \\")
            line = "      "
        line += ("" if line.endswith(" ") else " ") + word
    out.append(line)
    if sep:
        out.append("  # " + comment.replace("  # ", "; "))
    return out


def _stacked(hops: tuple[Hop, ...], cols: int) -> str:
    lines: list[str] = []
    for i, h in enumerate(hops, start=1):
        c = h.component
        where = " ".join(x for x in (c.account_id, c.region) if x)
        head = f"{i:>2}. {c.kind} {_clean(c.id)}" + (f" ({where})" if where else "")
        lines += _wrap("", head, cols)
        lines += _wrap("      ", _clean(h.action), cols)
    return "\n".join(lines)


def _hops(hops: tuple[Hop, ...], cols: int = WIDE) -> str:
    if cols < WIDE:
        return _stacked(hops, cols)
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


def render_table(answer: PathAnswer, cols: int | None = None) -> str:
    """The answer for a terminal: verdict and reason first, then the hops both ways; stacked
    and wrapped to the terminal below 120 columns."""
    cols = cols or width()
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
        blocked = f"{b.kind} {_clean(b.id)}{rule}" + (f" ({where})" if where else "")
        lines += _wrap("blocked at: ", blocked, cols)
    if answer.explanation and answer.code:
        lines += _wrap("why: ", _clean(answer.explanation), cols)
    if answer.fix:
        fix = _clean(answer.fix)
        if fix.startswith("aws "):
            lines += ["fix:", *shell_lines(fix, cols)]
        else:
            lines += _wrap("fix: ", fix, cols)
    fwd = _hops(answer.forward, cols) if answer.forward else "  (none)"
    lines += ["", "forward path:", fwd]
    if answer.return_path or answer.direction == "return" or not answer.code:
        ret = _hops(answer.return_path, cols) if answer.return_path else "  (none)"
        lines += ["", "return path:", ret]
    if answer.notes:
        lines += ["", "notes:"]
        for n in answer.notes:
            lines += _wrap("- ", _clean(n), cols)
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    # The Markdown report's escaping: entity codes for quotes, brackets, pipes, `%%` directives
    # and HTML; one line; control and bidi characters shown, not obeyed.
    return mermaid_label(text)


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
