"""`vpcaudit rules`: the rules' documentation as a table, text or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from vpcaudit.rules.registry import LoadedRule


def render_list(loaded: Mapping[str, LoadedRule], fmt: str) -> str:
    """Every rule: id, severity, title and parameters with their defaults."""
    docs = [_rule_doc(v.rule, v.source) for v in loaded.values()]
    if fmt == "json":
        return json.dumps(docs, indent=2, default=str) + "\n"
    rows = [
        [
            d["id"],
            d["severity"],
            d["title"],
            ", ".join(f"{p['name']}={p['default']}" for p in d["params"]) or "-",
        ]
        for d in docs
    ]
    return tabulate(rows, headers=["id", "severity", "title", "params"]) + "\n"


def render_one(loaded: LoadedRule, fmt: str) -> str:
    """One rule's rationale, evidence fields, parameters and remediation."""
    return _rule_detail(loaded.rule, fmt, loaded.source)


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


def _rule_detail(rule: Any, fmt: str, source: str) -> str:
    doc = _rule_doc(rule, source)
    if fmt == "json":
        return json.dumps(doc, indent=2, default=str) + "\n"
    params = (
        "\n".join(f"  {p['name']} ({p['type']}) = {p['default']}" for p in doc["params"])
        or "  (none)"
    )
    legit = "\n".join(f"  - {x}" for x in doc["not_flagged"]) or "  (not documented)"
    return (
        f"{doc['id']}  [{doc['severity']}]  {doc['title']}\n\n"
        f"Why it matters:\n  {doc['rationale']}\n\n"
        f"Deliberately not flagged (legitimate designs that look alike):\n{legit}\n\n"
        f"Evidence fields: {', '.join(doc['evidence'])}\n\n"
        f"Parameters:\n{params}\n\n"
        f"Remediation:\n  {doc['remediation']}\n\nSource: {doc['source']}\n"
    )
