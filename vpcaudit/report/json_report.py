"""The JSON report: the machine-readable contract described in docs and design.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from vpcaudit.baseline import BaselineDiff
from vpcaudit.model import Finding
from vpcaudit.report import REPORT_SCHEMA_VERSION, ReportData, jsontext


def finding_dict(f: Finding) -> dict[str, Any]:
    """One finding in its JSON form."""
    r = f.resource
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "account_id": r.account_id,
        "region": r.region,
        "resource_type": r.resource_type,
        "resource_id": r.resource_id,
        "resource_arn": r.arn,
        "message": f.message,
        "evidence": f.evidence,
        "remediation": f.remediation,
        "fingerprint": f.fingerprint,
        "suppressed": f.suppressed,
        "waiver": f.waiver,
    }


def _with_baseline(doc: dict[str, Any], data: ReportData) -> dict[str, Any]:
    if data.baseline is not None:
        doc["baseline"] = data.baseline.status(doc["fingerprint"])
    return doc


def baseline_dict(b: BaselineDiff) -> dict[str, Any]:
    """The comparison with the baseline report."""
    return {
        "source": b.source,
        "new": len(b.new),
        "unchanged": len(b.unchanged),
        "resolved": list(b.resolved),
        "not_rechecked": list(b.unknown),
    }


def waivers_dict(data: ReportData) -> dict[str, Any]:
    """Which waivers suppressed how much, which expired, which matched nothing."""
    w = data.evaluation.waivers
    return {
        "applied": [{**x.to_dict(), "suppressed": n} for x, n in w.applied],
        "expired": [{**x.to_dict(), "would_match": n} for x, n in w.expired],
        "stale": [x.to_dict() for x in w.stale],
    }


def report_dict(data: ReportData) -> dict[str, Any]:
    """The whole JSON report as a dict."""
    return {
        **_head(data),
        "findings": [_with_baseline(finding_dict(f), data) for f in data.evaluation.findings],
    }


def _head(data: ReportData) -> dict[str, Any]:
    """The report with its findings left empty (in contract order)."""
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "vpcaudit", "version": data.tool_version},
        "scan": {
            "started_at": data.started_at,
            "finished_at": data.finished_at,
            "accounts": list(data.accounts),
            "account_names": data.account_names,
            "regions": list(data.regions),
            "complete": data.complete,
            "read": [{"account_id": a, "region": r} for a, r in data.read],
            "not_collected": [
                {"account_id": a, "region": r, "kinds": list(kinds)}
                for a, r, kinds in data.not_collected
            ],
            "gaps": [g.to_dict() for g in data.gaps],
            "skipped": [
                {"account_id": s.account_id, "region": s.region, "reason": s.reason}
                for s in data.skipped
            ],
        },
        "summary": data.summary(),
        "findings": [],
        "baseline": None if data.baseline is None else baseline_dict(data.baseline),
        "waivers": waivers_dict(data),
        "unverified": [
            {
                "rule_id": u.rule_id,
                "account_id": u.item.resource.account_id,
                "region": u.item.resource.region,
                "resource_type": u.item.resource.resource_type,
                "resource_id": u.item.resource.resource_id,
                "reason": u.item.reason,
            }
            for u in data.evaluation.unverified
        ],
    }


def render(data: ReportData) -> str:
    """The JSON report as text (indented, keys in contract order)."""
    return "".join(iter_render(data))


_EMPTY = '\n  "findings": [],\n'


def iter_render(data: ReportData) -> Iterator[str]:
    """The JSON report as text, a finding at a time: the same text as json.dumps(report_dict,
    indent=2), without the whole report in memory."""
    head = json.dumps(_head(data), indent=2)
    before, found, after = head.partition(_EMPTY)
    if not found:  # pragma: no cover - the head always has it, at the top level
        raise AssertionError("report head without its findings")
    findings = data.evaluation.findings
    if not findings:
        yield before + _EMPTY + after + "\n"
        return
    yield before + '\n  "findings": ['
    for i, f in enumerate(findings):
        text = jsontext.dumps(_with_baseline(finding_dict(f), data), "    ")
        yield ("," if i else "") + "\n    " + text
    yield "\n  ],\n" + after + "\n"
