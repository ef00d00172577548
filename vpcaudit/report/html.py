"""The HTML report: one self-contained file (styles, scripts and the graph library inlined)
that a reviewer opens offline: what is worst, what was checked, what the network looks like.

Findings, summaries and coverage are rendered by Jinja2 with autoescaping, so the page reads
without JavaScript; the topology and the finding index reach the scripts as JSON in a
<script type="application/json"> element, never as code.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from vpcaudit.model import Finding, Severity
from vpcaudit.report import ReportData
from vpcaudit.report.html_assets import environment, page_assets, script_json
from vpcaudit.report.html_graph import build_graph

TEMPLATE = "report.html.j2"
SCRIPTS = ("common.js", "report.js")


def render(data: ReportData) -> str:
    """The whole HTML report."""
    findings = sorted(data.evaluation.findings, key=lambda f: (f.suppressed, f.sort_key()))
    graph = build_graph(data)
    index = {
        f.fingerprint: {
            "severity": f.severity.value,
            "rule": f.rule_id,
            "resource": f.resource.resource_id,
            "message": f.message,
        }
        for f in findings
        if not f.suppressed
    }
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            data=data,
            title=f"VPC network audit: {_scope(data)}",
            scope=_scope(data),
            summary=data.summary(),
            severities=[s.value for s in Severity],
            findings=[_finding(data, f) for f in findings],
            filters=_filters(data, findings),
            by_rule=_by_rule(data),
            by_account=_by_account(data),
            checked=_checked(data),
            graph_nodes=sum(1 for n in graph["nodes"] if n["kind"] not in ("account", "region")),
            payload=script_json({"graph": graph, "findings": index}),
            **page_assets(*SCRIPTS),
        )
    )


def account_label(data: ReportData, account_id: str) -> str:
    """An account as "name (id)", or the id alone when it has no name."""
    name = data.account_names.get(account_id, "")
    return f"{name} ({account_id})" if name else account_id


def _scope(data: ReportData) -> str:
    scope = ", ".join(account_label(data, a) for a in data.accounts[:3])
    more = len(data.accounts) - 3
    return (scope or "no account") + (f" and {more} more" if more > 0 else "")


def remediation_steps(text: str) -> list[dict[str, str]]:
    """A remediation split into steps: commands (copyable), comments and prose."""
    steps = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        label, sep, rest = line.partition(": ")
        if line.startswith("#"):
            steps.append({"kind": "comment", "label": "", "text": line.lstrip("# ")})
        elif line.startswith("aws "):
            steps.append({"kind": "command", "label": "", "text": line})
        elif sep and rest.startswith("aws ") and len(label) < 40:
            # "or, if unwanted: aws ec2 ..." is an alternative: the label stays out of the copy.
            steps.append({"kind": "command", "label": label, "text": rest})
        else:
            steps.append({"kind": "text", "label": "", "text": line})
    return steps


def _finding(data: ReportData, f: Finding) -> dict[str, Any]:
    r = f.resource
    rule = data.rules.get(f.rule_id)
    return {
        "id": "f-" + f.fingerprint,
        "fingerprint": f.fingerprint,
        "severity": f.severity.value,
        "rule_id": f.rule_id,
        "rule_title": rule.title if rule else f.rule_id,
        "account_id": r.account_id,
        "account": account_label(data, r.account_id),
        "region": r.region,
        "resource_type": r.resource_type,
        "resource_id": r.resource_id,
        "arn": r.arn,
        "message": f.message,
        "evidence": json.dumps(f.evidence, indent=2, sort_keys=True, default=str),
        "steps": remediation_steps(f.remediation),
        "suppressed": f.suppressed,
        "waiver": f.waiver,
        "baseline": data.baseline.status(f.fingerprint) if data.baseline else "",
    }


def _filters(data: ReportData, findings: list[Finding]) -> dict[str, list[tuple[str, str]]]:
    rules = sorted({f.rule_id for f in findings})
    accounts = sorted({f.resource.account_id for f in findings})
    return {
        "rule": [(r, data.rules[r].title if r in data.rules else r) for r in rules],
        "account": [(a, account_label(data, a)) for a in accounts],
        "region": [(r, r) for r in sorted({f.resource.region for f in findings})],
    }


def _by_rule(data: ReportData) -> list[dict[str, Any]]:
    live = [f for f in data.evaluation.findings if not f.suppressed]
    counts = Counter(f.rule_id for f in live)
    worst: dict[str, Severity] = {}
    for f in live:
        if f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank:
            worst[f.rule_id] = f.severity
    rows = [
        {
            "rule_id": r,
            "title": data.rules[r].title if r in data.rules else r,
            "count": n,
            "worst": worst[r].value,
        }
        for r, n in counts.items()
    ]
    return sorted(rows, key=lambda x: (-Severity(x["worst"]).rank, -x["count"], x["rule_id"]))


def _by_account(data: ReportData) -> list[dict[str, Any]]:
    live = [f for f in data.evaluation.findings if not f.suppressed]
    counts = Counter((f.resource.account_id, f.severity.value) for f in live)
    accounts = sorted({f.resource.account_id for f in live} | set(data.accounts))
    return [
        {
            "account_id": a,
            "label": account_label(data, a),
            "counts": {s.value: counts[(a, s.value)] for s in Severity},
            "total": sum(counts[(a, s.value)] for s in Severity),
        }
        for a in accounts
    ]


def _checked(data: ReportData) -> dict[str, Any]:
    """What was checked and what was switched off: policies, rules, waivers and coverage."""
    ran = set(data.evaluation.rules_run)
    w = data.evaluation.waivers
    skipped = Counter(s.reason for s in data.skipped)
    return {
        "policies": list(data.policy_sources),
        "rules_run": sorted(ran),
        "third_party": list(data.third_party_run().items()),
        "disabled": [
            {"rule_id": r, "title": data.rules[r].title} for r in sorted(set(data.rules) - ran)
        ],
        "overrides": [
            {
                "rule_id": r,
                "from": data.rules[r].severity.value if r in data.rules else "",
                "to": s.value,
            }
            for r, s in sorted(data.severity_overrides.items())
            if r not in data.rules or data.rules[r].severity != s
        ],
        "waivers_applied": [{**x.to_dict(), "count": n} for x, n in w.applied],
        "waivers_expired": [{**x.to_dict(), "count": n} for x, n in w.expired],
        "waivers_stale": [x.to_dict() for x in w.stale],
        "gaps": list(data.gaps),
        "skipped_reasons": sorted(skipped.items(), key=lambda x: (-x[1], x[0])),
        "skipped": list(data.skipped),
        "not_collected": list(data.not_collected),
        "unverified": list(data.evaluation.unverified),
        "read": len(data.read),
    }
