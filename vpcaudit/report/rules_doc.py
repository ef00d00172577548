"""`vpcaudit rules`: the rules' documentation as a table, text or JSON.

The text forms wrap to the terminal (a table from 120 columns when it fits, one block per rule
below); rule documentation may come from a third-party plugin, so it is made terminal-safe.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from vpcaudit.rules.registry import LoadedRule
from vpcaudit.termtext import safe, width, wrap

WIDE = 120
"""From this many columns the list is a table, when its columns fit."""
_TITLE = 44
_PARAMS = 30
_INDENT = "  "
_HEADERS = ((0, "id"), (1, "severity"))
# "aws ec2 create-route" stays on one line: it is the command's name, searched for as a whole.
_COMMAND = re.compile(r"\baws (\S+) (\S+)")
_GLUE = "\ue000"


def terminal_width() -> int:
    """The terminal's width (COLUMNS wins; 120 when not a terminal)."""
    return shutil.get_terminal_size((WIDE, 24)).columns


def _para(text: str, cols: int, indent: str = _INDENT, subsequent: str | None = None) -> str:
    """One paragraph wrapped to cols, command names kept whole."""
    glued = _COMMAND.sub(lambda m: m.group().replace(" ", _GLUE), safe(text))
    return "\n".join(wrap(glued, cols, indent, subsequent)).replace(_GLUE, " ")


def render_list(loaded: Mapping[str, LoadedRule], fmt: str, cols: int | None = None) -> str:
    """Every rule: id, severity, title and parameters with their defaults, wrapped to cols
    (the terminal's width by default)."""
    docs = [_rule_doc(v.rule, v.source) for v in loaded.values()]
    if fmt == "json":
        return json.dumps(docs, indent=2, default=str) + "\n"
    cols = cols or terminal_width()
    rows = [
        [
            safe(d["id"]),
            safe(d["severity"]),
            safe(d["title"]),
            ", ".join(safe(f"{p['name']}={p['default']}") for p in d["params"]) or "-",
        ]
        for d in docs
    ]
    if cols >= WIDE and rows:
        # tabulate makes a column at least its header plus two wide, and puts two spaces
        # between columns; the params column takes what is left.
        fixed = sum(max(*(width(r[i]) for r in rows), len(h) + 2) + 2 for i, h in _HEADERS)
        room = max(_PARAMS, cols - fixed - _TITLE - 2)
        wrapped = [
            [r[0], r[1], "\n".join(wrap(r[2], _TITLE)), "\n".join(wrap(r[3], room))] for r in rows
        ]
        text = tabulate(wrapped, headers=["id", "severity", "title", "params"])
        if max(width(line) for line in text.splitlines()) <= cols:
            return text + "\n"
    out = [f"{len(rows)} rules (`vpcaudit rules ID` documents one):"]
    for rule_id, severity, title, params in rows:
        out.append("")
        out.append(f"{rule_id}  [{severity}]")  # ids are never broken
        out += wrap(title, cols, _INDENT)
        if params != "-":
            out += wrap(f"params: {params}", cols, _INDENT, _INDENT * 2)
    return "\n".join(out) + "\n"


def render_one(loaded: LoadedRule, fmt: str, cols: int | None = None) -> str:
    """One rule's rationale, evidence fields, parameters and remediation, wrapped to cols
    (the terminal's width by default)."""
    return _rule_detail(loaded.rule, fmt, loaded.source, cols or terminal_width())


def _rule_doc(rule: Any, source: str) -> dict[str, Any]:
    return {
        "id": rule.id,
        "severity": rule.severity.value,
        "title": rule.title,
        "area": rule.area,
        "params": rule.params_doc(),
        "rationale": rule.rationale,
        "evidence": list(rule.evidence_fields),
        "remediation": rule.remediation,
        "not_flagged": list(getattr(rule, "legitimate", ())),
        "source": source,
    }


def _rule_detail(rule: Any, fmt: str, source: str, cols: int) -> str:
    doc = _rule_doc(rule, source)
    if fmt == "json":
        return json.dumps(doc, indent=2, default=str) + "\n"
    params = (
        "\n".join(
            _para(f"{p['name']} ({p['type']}) = {p['default']}", cols, _INDENT, _INDENT * 2)
            for p in doc["params"]
        )
        or "  (none)"
    )
    legit = (
        "\n".join(_para(f"- {x}", cols, _INDENT, _INDENT * 2) for x in doc["not_flagged"])
        or "  (not documented)"
    )
    head = f"{safe(doc['id'])}  [{safe(doc['severity'])}]"
    title = safe(doc["title"])
    head += f"  {title}" if width(head) + 2 + width(title) <= cols else "\n" + _para(title, cols)
    evidence = _para(f"Evidence fields: {', '.join(doc['evidence'])}", cols, "", _INDENT)
    return (
        f"{head}\n\n"
        f"Why it matters:\n{_para(doc['rationale'], cols)}\n\n"
        f"Deliberately not flagged (legitimate designs that look alike):\n{legit}\n\n"
        f"{evidence}\n\n"
        f"Parameters:\n{params}\n\n"
        f"Remediation:\n{_para(doc['remediation'], cols)}\n\n"
        f"{_para('Source: ' + doc['source'], cols, '', _INDENT)}\n"
    )
