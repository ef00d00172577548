"""SARIF 2.1.0 for GitHub code scanning: cloud resources located by relative paths.

GitHub requires every result to sit in a file of the repository, by a relative URI. A cloud
resource has no file, so each result is located at `aws/<account>/<region>/<type>/<id>` (line
1), with the ARN as a logical location; alerts then group by account and region in the UI.

GitHub matches an alert across uploads by `partialFingerprints.primaryLocationLineHash`. Its
upload action computes that key by hashing the located line of the file in the checkout, which
a cloud resource does not have, so each result carries its own: a hash of the finding's
identity (rule, account, region, resource, discriminator; the finding fingerprint), in the
`<16 hex digits>:<occurrence>` form the action writes. It never changes while the finding
exists, whatever its message, severity or evidence. The custom `vpcauditFindingHash/v1` key
(the fingerprint itself) stays beside it for other consumers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from typing import Any

from vpcaudit.errors import VpcauditError
from vpcaudit.model import Finding, Severity
from vpcaudit.report import ReportData
from vpcaudit.rules.base import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/vpcaudit/vpcaudit"
# GitHub's upload limits (docs: "SARIF support for code scanning").
MAX_RESULTS_PER_RUN = 25_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
MAX_TAGS_PER_RULE = 20
LINE_HASH_KEY = "primaryLocationLineHash"
FINDING_HASH_KEY = "vpcauditFindingHash/v1"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub bands: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.INFO: "0.1",
}


class SarifLimitError(VpcauditError):
    """The SARIF would exceed what GitHub accepts; nothing is silently dropped."""


def line_hash(fingerprint: str) -> str:
    """GitHub's primaryLocationLineHash for a finding: stable, from its identity alone.

    16 hex digits and the ":1" occurrence suffix, as github/codeql-action writes it; every
    finding has its own fingerprint, so each is the first (and only) occurrence of its hash.
    """
    digest = hashlib.sha256(f"vpcaudit/{LINE_HASH_KEY}\x1f{fingerprint}".encode()).hexdigest()
    return f"{digest[:16]}:1"


def artifact_uri(f: Finding) -> str:
    """The relative path that locates a finding: aws/<account>/<region>/<type>/<id>."""
    r = f.resource
    parts = [r.account_id or "unknown", r.region or "global", r.resource_type, r.resource_id]
    return "aws/" + "/".join(re.sub(r"[^A-Za-z0-9._-]", "_", p) for p in parts)


def default_category(data: ReportData) -> str:
    """A stable category per scope, so several accounts or schedules upload side by side."""
    if len(data.accounts) == 1:
        return f"vpcaudit/{data.accounts[0]}"
    digest = hashlib.sha256(",".join(data.accounts).encode()).hexdigest()[:8]
    return f"vpcaudit/{len(data.accounts)}-accounts-{digest}"


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _rule_descriptor(rule: Rule[Any], severity: Severity) -> dict[str, Any]:
    tags = ["security", "aws", "vpc", "network", rule.area][:MAX_TAGS_PER_RULE]
    markdown = (
        f"**{rule.title}**\n\n{rule.rationale}\n\n**Remediation.** {rule.remediation}\n\n"
        f"Each alert carries the exact AWS CLI commands for its resource."
    )
    return {
        "id": rule.id,
        "name": _pascal(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {
            "text": f"{rule.rationale}\n\nRemediation: {rule.remediation}",
            "markdown": markdown,
        },
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": tags,
            "precision": "high",
            "security-severity": SECURITY_SEVERITY[severity],
            "problem.severity": LEVEL[severity],
        },
    }


def _result(f: Finding, rule_index: int | None) -> dict[str, Any]:
    r = f.resource
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVEL[f.severity],
        "message": {"text": f"{f.message}\n\nRemediation:\n{f.remediation}".strip()},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(f)},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [
                    {"name": r.resource_id, "fullyQualifiedName": r.arn, "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {
            FINDING_HASH_KEY: f.fingerprint,
            LINE_HASH_KEY: line_hash(f.fingerprint),
        },
        "properties": {
            "severity": f.severity.value,
            "security-severity": SECURITY_SEVERITY[f.severity],
            "account_id": r.account_id,
            "region": r.region,
            "resource_type": r.resource_type,
            "resource_arn": r.arn,
            "evidence": f.evidence,
            "remediation": f.remediation,
        },
    }
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    if f.suppressed and f.waiver is not None:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{f.waiver.get('reason', '')} (waiver {f.waiver.get('source')})",
            }
        ]
    return result


def sarif_dict(data: ReportData, category: str | None = None) -> dict[str, Any]:
    """The SARIF log as a dict: one run, rules for every rule that ran, one result a finding."""
    findings = data.evaluation.findings
    if len(findings) > MAX_RESULTS_PER_RUN:
        raise SarifLimitError(
            f"{len(findings)} findings exceed GitHub's {MAX_RESULTS_PER_RUN} results per SARIF "
            f"run; split the scan (--accounts, --shard), waive known findings, or use "
            f"--sarif-split"
        )
    return _log(data, findings, _category(data, category))


def _category(data: ReportData, category: str | None) -> str:
    return (category or default_category(data)).rstrip("/")


def _log(data: ReportData, findings: tuple[Finding, ...], cat: str) -> dict[str, Any]:
    rule_ids = sorted({*data.evaluation.rules_run, *(f.rule_id for f in findings)})
    # GitHub reads security-severity from the rule only: give each rule the most severe level
    # its results carry (a policy override or a rule's own grading); a rule without results
    # takes the policy's severity, else its default.
    top: dict[str, Severity] = {}
    for f in findings:
        if f.suppressed:
            continue  # a waived finding should not raise what GitHub shows for the rule
        if f.rule_id not in top or f.severity.rank > top[f.rule_id].rank:
            top[f.rule_id] = f.severity
    descriptors = [
        _rule_descriptor(
            data.rules[r],
            top.get(r) or data.severity_overrides.get(r) or data.rules[r].severity,
        )
        for r in rule_ids
        if r in data.rules
    ]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    notifications = [
        {
            "level": "warning",
            "message": {
                "text": f"not read: {g.account_id} {g.region} {g.operation}: {g.error_code}: "
                f"{g.message}"
            },
            "descriptor": {"id": "coverage-gap"},
        }
        for g in data.gaps
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vpcaudit",
                        "version": data.tool_version,
                        "semanticVersion": data.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    },
                    # Code from outside vpcaudit that ran (a rule plugin): named as SARIF's
                    # tool extensions, one per package.
                    **({"extensions": plugins} if (plugins := _extensions(data)) else {}),
                },
                "automationDetails": {"id": f"{cat}/{data.started_at}"},
                "invocations": [
                    {
                        # False when parts were not read: uploaded with --allow-partial, GitHub
                        # would otherwise take missing alerts in unread regions as fixed.
                        "executionSuccessful": data.complete,
                        "startTimeUtc": data.started_at,
                        "endTimeUtc": data.finished_at,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [_result(f, index.get(f.rule_id)) for f in findings],
                "properties": {
                    "complete": data.complete,
                    "accounts": list(data.accounts),
                    "regions": list(data.regions),
                    "gaps": [g.to_dict() for g in data.gaps],
                },
            }
        ],
    }


def _extensions(data: ReportData) -> list[dict[str, Any]]:
    """One SARIF toolComponent per package whose third-party rules ran."""
    by_package: dict[str, list[tuple[str, str]]] = {}
    for rule_id, source in data.third_party_run().items():
        by_package.setdefault(source.split(":", 1)[0], []).append((rule_id, source))
    return [
        {
            "name": package,
            "properties": {
                "rules": [r for r, _ in rules],
                "entryPoints": [src.split(":", 1)[1] for _, src in rules],
            },
        }
        for package, rules in sorted(by_package.items())
    ]


def _text(doc: dict[str, Any]) -> tuple[str, int]:
    text = json.dumps(doc, indent=2) + "\n"
    return text, len(gzip.compress(text.encode(), mtime=0))


def render(data: ReportData, category: str | None = None) -> str:
    """The SARIF log as text; refuses, with a clear message, to exceed GitHub's size limit."""
    text, size = _text(sarif_dict(data, category))
    if size > MAX_GZIP_BYTES:
        raise SarifLimitError(
            f"SARIF is {size / 1e6:.1f} MB gzipped, over GitHub's 10 MB upload limit; split the "
            f"scan (--accounts, --shard), waive known findings, or use --sarif-split"
        )
    return text


def render_parts(data: ReportData, category: str | None = None) -> list[str]:
    """The SARIF split into as many logs as GitHub's limits need (one when one fits), each a
    valid log of one run, under 25,000 results and 10 MB gzipped.

    Part i (from 1) has the category `<category>/part-<i>`, so that GitHub code scanning
    keeps each part's alerts apart (an upload replaces only the alerts of its own category).
    Findings go to parts in report order, whole accounts together where an account fits in
    one part, so a finding stays in its part from one run to the next unless an earlier
    account grows past its share.
    """
    cat = _category(data, category)
    findings = data.evaluation.findings
    if len(findings) <= MAX_RESULTS_PER_RUN:
        text, size = _text(_log(data, findings, cat))
        if size <= MAX_GZIP_BYTES:
            return [text]
    groups = _account_groups(findings, MAX_RESULTS_PER_RUN)
    texts: list[str] = []
    for chunk in groups:
        texts.extend(_fit(data, chunk, cat, len(texts)))
    return texts


def _account_groups(findings: tuple[Finding, ...], limit: int) -> list[tuple[Finding, ...]]:
    """Findings packed into groups of at most `limit`, by account (sorted), an account larger
    than the limit cut into pieces."""
    by_account: dict[str, list[Finding]] = {}
    for f in findings:
        by_account.setdefault(f.resource.account_id, []).append(f)
    groups: list[list[Finding]] = [[]]
    for account in sorted(by_account):
        items = by_account[account]
        if len(groups[-1]) + len(items) > limit and groups[-1]:
            groups.append([])
        for i in range(0, len(items), limit):
            if len(groups[-1]) + len(items[i : i + limit]) > limit:
                groups.append([])
            groups[-1].extend(items[i : i + limit])
    return [tuple(sorted(g, key=Finding.sort_key)) for g in groups if g]


def _fit(data: ReportData, findings: tuple[Finding, ...], cat: str, done: int) -> list[str]:
    """One part per group, halved until each is under the gzip limit."""
    text, size = _text(_log(data, findings, f"{cat}/part-{done + 1}"))
    if size <= MAX_GZIP_BYTES:
        return [text]
    if len(findings) <= 1:
        raise SarifLimitError(
            f"one SARIF result is {size / 1e6:.1f} MB gzipped, over GitHub's 10 MB limit"
        )
    half = len(findings) // 2
    first = _fit(data, findings[:half], cat, done)
    return first + _fit(data, findings[half:], cat, done + len(first))


def part_path(path: str, index: int) -> str:
    """report.sarif -> report.<index>.sarif (index from 1)."""
    head, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        return f"{path}.{index}"
    return f"{head}.{index}.{ext}"
